//===- Manifest.cpp - an artifact's manifest, parsed and validated --------===//
//
// Two steps: llvm::json's ObjectMapper reads the JSON into plain structs and
// reports any missing or ill-typed field by its path; then the values are
// checked (known dtypes and roles, unique names, consistent weights).
//
//===----------------------------------------------------------------------===//

#include "Manifest.h"
#include "Status.h"
#include "Tensor.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/StringSaver.h"
#include "llvm/Support/raw_ostream.h"

using namespace hope;
using namespace hope::rt;
using llvm::json::ObjectMapper;
using llvm::json::Path;
using llvm::json::Value;

namespace {
/// The manifest as JSON types it, before its values are checked.
struct RawDim {
  int64_t size = -1;
  std::string name;
};
struct RawTensor {
  std::string name, role, dtype;
  std::vector<RawDim> shape;
};
struct RawPrecondition {
  std::string message;
  std::vector<std::string> inputs;
};
struct RawEntry {
  std::string name;
  std::vector<RawTensor> inputs, outputs;
  std::vector<RawPrecondition> preconditions;
};
struct RawTarget {
  std::string triple, cpu;
  std::vector<std::string> features;
};
struct RawHeader {
  std::string format;
  int64_t version = 0;
};
struct RawManifest {
  std::string model;
  RawTarget target;
  std::vector<RawEntry> entryPoints;
};

bool fromJSON(const Value &value, RawDim &dim, Path path) {
  if (std::optional<int64_t> size = value.getAsInteger()) {
    dim.size = *size;
    return true;
  }
  if (std::optional<llvm::StringRef> name = value.getAsString()) {
    if (name->empty()) {
      path.report("expected a non-empty dimension name");
      return false;
    }
    dim.name = name->str();
    return true;
  }
  path.report("expected an integer size or a dimension name");
  return false;
}

bool fromJSON(const Value &value, RawTensor &tensor, Path path) {
  ObjectMapper o(value, path);
  return o && o.map("name", tensor.name) && o.map("role", tensor.role) &&
         o.map("dtype", tensor.dtype) && o.map("shape", tensor.shape);
}

bool fromJSON(const Value &value, RawPrecondition &precondition, Path path) {
  ObjectMapper o(value, path);
  return o && o.map("message", precondition.message) &&
         o.map("inputs", precondition.inputs);
}

bool fromJSON(const Value &value, RawEntry &entry, Path path) {
  ObjectMapper o(value, path);
  return o && o.map("name", entry.name) && o.map("inputs", entry.inputs) &&
         o.map("outputs", entry.outputs) &&
         o.mapOptional("preconditions", entry.preconditions);
}

bool fromJSON(const Value &value, RawTarget &target, Path path) {
  ObjectMapper o(value, path);
  return o && o.map("triple", target.triple) && o.map("cpu", target.cpu) &&
         o.map("features", target.features);
}

bool fromJSON(const Value &value, RawHeader &header, Path path) {
  ObjectMapper o(value, path);
  return o && o.map("format", header.format) &&
         o.map("version", header.version);
}

bool fromJSON(const Value &value, RawManifest &manifest, Path path) {
  ObjectMapper o(value, path);
  return o && o.map("model", manifest.model) &&
         o.map("target", manifest.target) &&
         o.map("entry_points", manifest.entryPoints);
}

bool isIdentifier(llvm::StringRef name) {
  return !name.empty() && !llvm::isDigit(name.front()) &&
         llvm::all_of(name,
                      [](char c) { return llvm::isAlnum(c) || c == '_'; });
}

/// Converts and checks the raw manifest into `manifest`.
class Validator {
public:
  explicit Validator(Manifest &manifest)
      : manifest(manifest), saver(manifest.strings) {}

  llvm::Error run(const RawManifest &raw) {
    manifest.model = saver.save(raw.model);
    manifest.triple = saver.save(raw.target.triple);
    manifest.cpu = saver.save(raw.target.cpu);
    for (const std::string &feature : raw.target.features)
      manifest.features.push_back(saver.save(feature));

    llvm::StringMap<bool> entryNames;
    for (const RawEntry &rawEntry : raw.entryPoints) {
      if (!isIdentifier(rawEntry.name))
        return invalid("entry point name '" + rawEntry.name +
                       "' is not a C identifier (its symbol is "
                       "hope_entry_<name>)");
      if (!entryNames.try_emplace(rawEntry.name, true).second)
        return invalid("two entry points are named '" + rawEntry.name + "'");
      EntryPoint entry;
      entry.name = saver.save(rawEntry.name);
      if (auto error =
              tensors(entry, rawEntry.inputs, /*outputs=*/false, entry.inputs))
        return error;
      if (auto error =
              tensors(entry, rawEntry.outputs, /*outputs=*/true, entry.outputs))
        return error;
      for (const RawPrecondition &raw : rawEntry.preconditions) {
        Precondition precondition;
        precondition.message = saver.save(raw.message);
        for (const std::string &input : raw.inputs) {
          if (!llvm::any_of(entry.inputs, [&](const TensorSpec &spec) {
                return spec.name == input;
              }))
            return invalid("entry point '" + entry.name +
                           "': a precondition reads '" + input +
                           "', which is not one of its inputs");
          precondition.inputs.push_back(saver.save(input));
        }
        entry.preconditions.push_back(std::move(precondition));
      }
      manifest.entryPoints.push_back(std::move(entry));
    }
    return llvm::Error::success();
  }

private:
  static llvm::Error invalid(const llvm::Twine &message) {
    return makeError(HOPE_INVALID_FORMAT, "invalid manifest: " + message);
  }

  llvm::Error tensors(const EntryPoint &entry,
                      const std::vector<RawTensor> &raws, bool outputs,
                      std::vector<TensorSpec> &specs) {
    llvm::StringMap<bool> names;
    for (const RawTensor &raw : raws) {
      std::string where = "entry point '" + entry.name.str() + "', " +
                          (outputs ? "output" : "input") + " '" + raw.name +
                          "'";
      if (raw.name.empty())
        return invalid("entry point '" + entry.name + "' has an " +
                       (outputs ? "output" : "input") + " with an empty name");
      if (!names.try_emplace(raw.name, true).second)
        return invalid(where + " is declared twice");

      TensorSpec spec;
      spec.name = saver.save(raw.name);
      std::optional<hope_role> role =
          llvm::StringSwitch<std::optional<hope_role>>(raw.role)
              .Case("input", HOPE_ROLE_INPUT)
              .Case("weight", HOPE_ROLE_WEIGHT)
              .Case("state", HOPE_ROLE_STATE)
              .Case("output", HOPE_ROLE_OUTPUT)
              .Default(std::nullopt);
      bool allowed =
          role &&
          (outputs ? (*role == HOPE_ROLE_OUTPUT || *role == HOPE_ROLE_STATE)
                   : *role != HOPE_ROLE_OUTPUT);
      if (!allowed)
        return invalid(
            where + " has role '" + raw.role + "' (expected " +
            (outputs ? "output or state" : "input, weight or state") + ")");
      spec.role = *role;
      std::optional<hope_dtype> dtype = parseDType(raw.dtype);
      if (!dtype)
        return invalid(where + " has dtype '" + raw.dtype +
                       "' (expected f32, f64 or i64)");
      spec.dtype = *dtype;
      for (const RawDim &dim : raw.shape) {
        if (dim.name.empty() && dim.size < 0)
          return invalid(where + " has a negative size in its shape");
        spec.shape.push_back(dim.name.empty() ? dim.size : -1);
        spec.dimNames.push_back(dim.name.empty() ? nullptr
                                                 : saver.save(dim.name).data());
      }
      if (spec.role == HOPE_ROLE_WEIGHT)
        if (auto error = sameAsOtherUses(entry, spec))
          return error;
      specs.push_back(std::move(spec));
    }
    return llvm::Error::success();
  }

  /// Weights are bound per session by name: every entry point that uses one
  /// must declare it alike.
  llvm::Error sameAsOtherUses(const EntryPoint &entry, const TensorSpec &spec) {
    WeightUse use{entry.name.str(), spec.dtype, spec.formatShape()};
    auto [it, inserted] = weights.try_emplace(spec.name, use);
    const WeightUse &first = it->second;
    if (inserted || (first.dtype == use.dtype && first.shape == use.shape))
      return llvm::Error::success();
    return invalid("weight '" + spec.name + "' is " + nameOf(first.dtype) +
                   " " + first.shape + " in entry point '" + first.entry +
                   "' but " + nameOf(use.dtype) + " " + use.shape +
                   " in entry point '" + use.entry + "'");
  }

  struct WeightUse {
    std::string entry;
    hope_dtype dtype;
    std::string shape;
  };

  Manifest &manifest;
  llvm::StringSaver saver;
  llvm::StringMap<WeightUse> weights;
};
} // namespace

std::string TensorSpec::formatShape() const {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << '[';
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      os << ", ";
    if (dimNames[i])
      os << dimNames[i];
    else
      os << shape[i];
  }
  os << ']';
  return text;
}

std::string TensorSpec::describe() const {
  return (nameOf(role) + " '" + name + "'").str();
}

llvm::StringRef rt::nameOf(hope_role role) {
  switch (role) {
  case HOPE_ROLE_INPUT:
    return "input";
  case HOPE_ROLE_WEIGHT:
    return "weight";
  case HOPE_ROLE_STATE:
    return "state";
  case HOPE_ROLE_OUTPUT:
    return "output";
  }
  return "<invalid role>";
}

const EntryPoint *Manifest::find(llvm::StringRef name) const {
  for (const EntryPoint &entry : entryPoints)
    if (entry.name == name)
      return &entry;
  return nullptr;
}

llvm::Expected<std::unique_ptr<Manifest>>
rt::parseManifest(llvm::StringRef json) {
  llvm::Expected<Value> value = llvm::json::parse(json);
  if (!value)
    return makeError(HOPE_INVALID_FORMAT, "invalid manifest: not valid JSON: " +
                                              toString(value.takeError()));

  // The format and version first: past them, other errors would mislead.
  RawHeader header;
  Path::Root headerRoot("manifest");
  if (!fromJSON(*value, header, headerRoot))
    return makeError(HOPE_INVALID_FORMAT,
                     "invalid manifest: " + toString(headerRoot.getError()));
  if (header.format != "hope-artifact")
    return makeError(HOPE_INVALID_FORMAT, "invalid manifest: 'format' is '" +
                                              header.format +
                                              "', not 'hope-artifact'");
  if (header.version != kManifestVersion)
    return makeError(HOPE_UNSUPPORTED, "unsupported manifest version " +
                                           llvm::Twine(header.version) +
                                           " (this runtime reads version " +
                                           llvm::Twine(kManifestVersion) + ")");

  RawManifest raw;
  Path::Root root("manifest");
  if (!fromJSON(*value, raw, root))
    return makeError(HOPE_INVALID_FORMAT,
                     "invalid manifest: " + toString(root.getError()));

  auto manifest = std::make_unique<Manifest>();
  manifest->json = json.str();
  if (auto error = Validator(*manifest).run(raw))
    return std::move(error);
  return manifest;
}
