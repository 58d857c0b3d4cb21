//===- Manifest.cpp - an artifact's manifest, parsed and validated --------===//
//
// Two steps: a JsonReader reads the JSON into plain structs and reports any
// missing or ill-typed field by its path; then the values are checked (known
// dtypes and roles, unique names, consistent weights).
//
//===----------------------------------------------------------------------===//

#include "Manifest.h"
#include "Json.h"
#include "Status.h"
#include "Tensor.h"
#include "hope/artifact.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

using namespace hope;
using namespace hope::rt;

namespace {
/// The manifest as JSON types it, before its values are checked.
struct RawDim {
  int64_t size = -1;
  std::string name;
};
struct RawTensor {
  std::string name, role, dtype;
  std::vector<RawDim> shape;
  bool updated = false;
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
struct RawManifest {
  std::string model;
  /// Read before the rest: a CUDA target keeps its host's facts in
  /// target.host.
  bool cuda = false;
  RawTarget target;
  std::vector<RawEntry> entryPoints;
};

using Where = const std::string &;

bool read(JsonReader &r, const Json &value, Where where, std::string &out) {
  return r.read(value, where, out);
}

bool read(JsonReader &r, const Json &value, Where where, int64_t &out) {
  return r.read(value, where, out);
}

bool read(JsonReader &r, const Json &value, Where where, bool &out) {
  return r.read(value, where, out);
}

bool read(JsonReader &r, const Json &value, Where where, RawDim &dim) {
  if (value.is_number_integer())
    return r.read(value, where, dim.size);
  if (value.is_string()) {
    dim.name = value.get<std::string>();
    return !dim.name.empty() ||
           r.report("expected a non-empty dimension name", where);
  }
  return r.report("expected an integer size or a dimension name", where);
}

template <typename T>
bool read(JsonReader &r, const Json &value, Where where, std::vector<T> &out) {
  if (!value.is_array())
    return r.report("expected array", where);
  out.resize(value.size());
  for (size_t i = 0; i < value.size(); ++i)
    if (!read(r, value[i], JsonReader::element(where, i), out[i]))
      return false;
  return true;
}

/// Reads the member `key` of the object `value` into `out`.
template <typename T>
bool field(JsonReader &r, const Json &value, Where where, const char *key,
           T &out) {
  const Json *member = r.member(value, where, key);
  return member && read(r, *member, JsonReader::field(where, key), out);
}

/// The same for a member that may be absent.
template <typename T>
bool optionalField(JsonReader &r, const Json &value, Where where,
                   const char *key, T &out) {
  return !value.contains(key) || field(r, value, where, key, out);
}

bool read(JsonReader &r, const Json &value, Where where, RawTensor &tensor) {
  return r.object(value, where) && field(r, value, where, "name", tensor.name) &&
         field(r, value, where, "role", tensor.role) &&
         field(r, value, where, "dtype", tensor.dtype) &&
         field(r, value, where, "shape", tensor.shape) &&
         optionalField(r, value, where, "updated", tensor.updated);
}

bool read(JsonReader &r, const Json &value, Where where,
          RawPrecondition &precondition) {
  return r.object(value, where) &&
         field(r, value, where, "message", precondition.message) &&
         field(r, value, where, "inputs", precondition.inputs);
}

bool read(JsonReader &r, const Json &value, Where where, RawEntry &entry) {
  return r.object(value, where) && field(r, value, where, "name", entry.name) &&
         field(r, value, where, "inputs", entry.inputs) &&
         field(r, value, where, "outputs", entry.outputs) &&
         optionalField(r, value, where, "preconditions", entry.preconditions);
}

bool read(JsonReader &r, const Json &value, Where where, RawTarget &target) {
  return r.object(value, where) &&
         field(r, value, where, "triple", target.triple) &&
         field(r, value, where, "cpu", target.cpu) &&
         field(r, value, where, "features", target.features);
}

bool read(JsonReader &r, const Json &value, Where where, RawManifest &manifest) {
  if (!r.object(value, where) ||
      !field(r, value, where, "model", manifest.model))
    return false;
  const std::string target = JsonReader::field(where, "target");
  const Json *targetValue = r.member(value, where, "target");
  if (!targetValue ||
      !(manifest.cuda ? field(r, *targetValue, target, "host", manifest.target)
                      : read(r, *targetValue, target, manifest.target)))
    return false;
  return field(r, value, where, "entry_points", manifest.entryPoints);
}

bool isIdentifier(std::string_view name) {
  auto isAlpha = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  };
  return !name.empty() && isAlpha(name.front()) &&
         std::all_of(name.begin(), name.end(), [&](char c) {
           return isAlpha(c) || (c >= '0' && c <= '9');
         });
}

std::optional<hope_role> parseRole(const std::string &role) {
  if (role == "input")
    return HOPE_ROLE_INPUT;
  if (role == "weight")
    return HOPE_ROLE_WEIGHT;
  if (role == "state")
    return HOPE_ROLE_STATE;
  if (role == "output")
    return HOPE_ROLE_OUTPUT;
  return std::nullopt;
}

/// Converts and checks the raw manifest into `manifest`.
class Validator {
public:
  explicit Validator(Manifest &manifest) : manifest(manifest) {}

  Error run(const RawManifest &raw) {
    manifest.model = manifest.save(raw.model);
    manifest.triple = manifest.save(raw.target.triple);
    manifest.cpu = manifest.save(raw.target.cpu);
    for (const std::string &feature : raw.target.features)
      manifest.features.push_back(manifest.save(feature));

    std::set<std::string> entryNames;
    for (const RawEntry &rawEntry : raw.entryPoints) {
      if (!isIdentifier(rawEntry.name))
        return invalid("entry point name '" + rawEntry.name +
                       "' is not a C identifier (its symbol is "
                       "hope_entry_<name>)");
      if (!entryNames.insert(rawEntry.name).second)
        return invalid("two entry points are named '" + rawEntry.name + "'");
      EntryPoint entry;
      entry.name = manifest.save(rawEntry.name);
      if (Error error =
              tensors(entry, rawEntry.inputs, /*outputs=*/false, entry.inputs))
        return error;
      if (Error error =
              tensors(entry, rawEntry.outputs, /*outputs=*/true, entry.outputs))
        return error;
      for (const RawPrecondition &raw : rawEntry.preconditions) {
        Precondition precondition;
        precondition.message = manifest.save(raw.message);
        for (const std::string &input : raw.inputs) {
          if (std::none_of(entry.inputs.begin(), entry.inputs.end(),
                           [&](const TensorSpec &spec) {
                             return spec.name == input;
                           }))
            return invalid("entry point '" + std::string(entry.name) +
                           "': a precondition reads '" + input +
                           "', which is not one of its inputs");
          precondition.inputs.push_back(manifest.save(input));
        }
        entry.preconditions.push_back(std::move(precondition));
      }
      manifest.entryPoints.push_back(std::move(entry));
    }
    return Error();
  }

private:
  static Error invalid(const std::string &message) {
    return makeError(HOPE_INVALID_FORMAT, "invalid manifest: " + message);
  }

  Error tensors(const EntryPoint &entry,
                      const std::vector<RawTensor> &raws, bool outputs,
                      std::vector<TensorSpec> &specs) {
    std::set<std::string> names;
    for (const RawTensor &raw : raws) {
      std::string where = "entry point '" + std::string(entry.name) + "', " +
                          (outputs ? "output" : "input") + " '" + raw.name +
                          "'";
      if (raw.name.empty())
        return invalid("entry point '" + std::string(entry.name) + "' has an " +
                       (outputs ? "output" : "input") + " with an empty name");
      if (!names.insert(raw.name).second)
        return invalid(where + " is declared twice");

      TensorSpec spec;
      spec.name = manifest.save(raw.name);
      std::optional<hope_role> role = parseRole(raw.role);
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
      // Only a weight can be written in place: the caller owns it between
      // calls (a training step's parameters and optimizer states).
      if (raw.updated && (outputs || spec.role != HOPE_ROLE_WEIGHT))
        return invalid(where + " is marked updated but only weights are "
                               "updated in place");
      spec.updated = raw.updated;
      for (const RawDim &dim : raw.shape) {
        if (dim.name.empty() && dim.size < 0)
          return invalid(where + " has a negative size in its shape");
        spec.shape.push_back(dim.name.empty() ? dim.size : -1);
        spec.dimNames.push_back(dim.name.empty() ? nullptr
                                                 : manifest.save(dim.name).data());
      }
      if (spec.role == HOPE_ROLE_WEIGHT)
        if (Error error = sameAsOtherUses(entry, spec))
          return error;
      specs.push_back(std::move(spec));
    }
    return Error();
  }

  /// Weights are bound per session by name: every entry point that uses one
  /// must declare it alike.
  Error sameAsOtherUses(const EntryPoint &entry, const TensorSpec &spec) {
    WeightUse use{std::string(entry.name), spec.dtype, spec.formatShape()};
    auto [it, inserted] = weights.try_emplace(std::string(spec.name), use);
    const WeightUse &first = it->second;
    if (inserted || (first.dtype == use.dtype && first.shape == use.shape))
      return Error();
    return invalid("weight '" + std::string(spec.name) + "' is " +
                   std::string(nameOf(first.dtype)) + " " + first.shape +
                   " in entry point '" + first.entry + "' but " +
                   std::string(nameOf(use.dtype)) + " " + use.shape +
                   " in entry point '" + use.entry + "'");
  }

  struct WeightUse {
    std::string entry;
    hope_dtype dtype;
    std::string shape;
  };

  Manifest &manifest;
  std::map<std::string, WeightUse> weights;
};
} // namespace

std::string TensorSpec::formatShape() const {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      text += ", ";
    text += dimNames[i] ? std::string(dimNames[i]) : std::to_string(shape[i]);
  }
  return text + "]";
}

std::string TensorSpec::describe() const {
  return std::string(nameOf(role)) + " '" + std::string(name) + "'";
}

std::string_view rt::nameOf(hope_role role) {
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

const EntryPoint *Manifest::find(std::string_view name) const {
  for (const EntryPoint &entry : entryPoints)
    if (entry.name == name)
      return &entry;
  return nullptr;
}

Expected<std::unique_ptr<Manifest>> rt::parseManifest(std::string_view json) {
  auto invalid = [](const std::string &message) {
    return makeError(HOPE_INVALID_FORMAT, "invalid manifest: " + message);
  };
  Expected<Json> value = parseJson(json);
  if (!value)
    return invalid(value.getError().message());

  // The format, version and target kind first: past them, other errors
  // would mislead.
  JsonReader r;
  const std::string root = "manifest";
  std::string format;
  int64_t version = 0;
  if (!r.object(*value, root) || !field(r, *value, root, "format", format) ||
      !field(r, *value, root, "version", version))
    return invalid(r.error());
  if (format != "hope-artifact")
    return invalid("'format' is '" + format + "', not 'hope-artifact'");
  if (version != kManifestVersion)
    return makeError(HOPE_UNSUPPORTED,
                     "unsupported manifest version " + std::to_string(version) +
                         " (this runtime reads version " +
                         std::to_string(kManifestVersion) + ")");
  std::string kind;
  const std::string target = JsonReader::field(root, "target");
  const Json *targetValue = r.member(*value, root, "target");
  if (!targetValue || !r.object(*targetValue, target) ||
      !field(r, *targetValue, target, "kind", kind))
    return invalid(r.error());
  if (kind != "cpu" && !isCudaKind(kind))
    return makeError(HOPE_UNSUPPORTED,
                     "compiled for target '" + kind +
                         "'; this runtime has no backend for it");
  int64_t services = 0;
  if (!field(r, *value, root, "services", services))
    return invalid(r.error());
  if (services < 1)
    return invalid("'services' is " + std::to_string(services) +
                   ", not a service table version (1 or more)");
  if (services > HOPE_SERVICES_VERSION)
    return makeError(HOPE_UNSUPPORTED,
                     "the artifact needs service table version " +
                         std::to_string(services) + "; this runtime provides " +
                         std::to_string(HOPE_SERVICES_VERSION));

  RawManifest raw;
  raw.cuda = isCudaKind(kind);
  if (!read(r, *value, root, raw))
    return invalid(r.error());

  auto manifest = std::make_unique<Manifest>();
  manifest->json = std::string(json);
  manifest->kind = manifest->save(kind);
  manifest->services = services;
  if (Error error = Validator(*manifest).run(raw))
    return error;
  if (manifest->isCuda())
    if (Error error = parseCudaManifest(r, *value, *manifest))
      return error;
  return manifest;
}
