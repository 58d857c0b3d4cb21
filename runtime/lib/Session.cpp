//===- Session.cpp - binding a session's weights --------------------------===//

#include "Session.h"
#include "Safetensors.h"
#include "Shapes.h"
#include "Status.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"

using namespace hope;
using namespace hope::rt;

/// The weight `name` as the manifest declares it (alike in every entry
/// point: the manifest parser checks), or null.
static const TensorSpec *findWeight(const Manifest &manifest,
                                    llvm::StringRef name) {
  for (const EntryPoint &entry : manifest.entryPoints)
    for (const TensorSpec &spec : entry.inputs)
      if (spec.role == HOPE_ROLE_WEIGHT && spec.name == name)
        return &spec;
  return nullptr;
}

/// Every weight of the module, once each.
static std::vector<const TensorSpec *> allWeights(const Manifest &manifest) {
  std::vector<const TensorSpec *> weights;
  llvm::StringSet<> seen;
  for (const EntryPoint &entry : manifest.entryPoints)
    for (const TensorSpec &spec : entry.inputs)
      if (spec.role == HOPE_ROLE_WEIGHT && seen.insert(spec.name).second)
        weights.push_back(&spec);
  return weights;
}

static llvm::Error mismatch(const llvm::Twine &source, const TensorSpec &spec,
                            const llvm::Twine &what, const llvm::Twine &given,
                            const llvm::Twine &expected) {
  return makeError(HOPE_INVALID_ARGUMENT,
                   source + ": " + spec.describe() + " has " + what + " " +
                       given + " but the artifact expects " + expected);
}

llvm::Error rt::loadWeights(hope_session &session, llvm::StringRef path) {
  llvm::Expected<SafetensorsFile> file = SafetensorsFile::open(path);
  if (!file)
    return file.takeError();
  // Check every weight before copying any: a wrong file fails fast.
  std::vector<std::pair<const TensorSpec *, const SafetensorsEntry *>> found;
  for (const TensorSpec *spec : allWeights(*session.module->manifest)) {
    const SafetensorsEntry *entry = file->find(spec->name);
    if (!entry)
      return makeError(HOPE_NOT_FOUND, path + ": no tensor '" + spec->name +
                                           "' (a weight of " +
                                           session.module->path + ")");
    std::string expected = nameOf(spec->dtype).upper();
    if (entry->dtype != expected)
      return mismatch(path, *spec, "dtype", entry->dtype, expected);
    if (!matchesStatically(*spec, entry->shape))
      return mismatch(path, *spec, "shape", formatShape(entry->shape),
                      spec->formatShape());
    found.emplace_back(spec, entry);
  }
  llvm::StringMap<TensorRef> loaded;
  for (auto [spec, entry] : found) {
    llvm::Expected<TensorRef> tensor = file->load(*entry);
    if (!tensor)
      return tensor.takeError();
    loaded[spec->name] = std::move(*tensor);
  }
  for (auto &entry : loaded)
    session.weights[entry.getKey()] = std::move(entry.getValue());
  return llvm::Error::success();
}

llvm::Error rt::setWeight(hope_session &session, llvm::StringRef name,
                          TensorRef tensor) {
  const TensorSpec *spec = findWeight(*session.module->manifest, name);
  if (!spec) {
    llvm::SmallVector<llvm::StringRef> names;
    for (const TensorSpec *weight : allWeights(*session.module->manifest))
      names.push_back(weight->name);
    return makeError(HOPE_NOT_FOUND,
                     "no weight '" + name + "' in " + session.module->path +
                         (names.empty()
                              ? " (it has none)"
                              : " (weights: " + llvm::join(names, ", ") + ")"));
  }
  const char *source = "hope_session_set_weight";
  if (tensor->dtype != spec->dtype)
    return mismatch(source, *spec, "dtype", nameOf(tensor->dtype),
                    nameOf(spec->dtype));
  if (!matchesStatically(*spec, tensor->shape))
    return mismatch(source, *spec, "shape", formatShape(tensor->shape),
                    spec->formatShape());
  session.weights[name] = std::move(tensor);
  return llvm::Error::success();
}
