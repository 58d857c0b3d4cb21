//===- Session.cpp - creating a session and binding its weights -----------===//

#include "Session.h"
#include "Safetensors.h"
#include "Shapes.h"
#include "Status.h"
#include "DeviceTensors.h"
#include "cuda/CudaSession.h"

#include <cstddef>
#include <set>

using namespace hope;
using namespace hope::rt;

/// The weight `name` as the manifest declares it (alike in every entry
/// point: the manifest parser checks), or null.
static const TensorSpec *findWeight(const Manifest &manifest,
                                    std::string_view name) {
  for (const EntryPoint &entry : manifest.entryPoints)
    for (const TensorSpec &spec : entry.inputs)
      if (spec.role == HOPE_ROLE_WEIGHT && spec.name == name)
        return &spec;
  return nullptr;
}

/// Every weight of the module, once each.
static std::vector<const TensorSpec *> allWeights(const Manifest &manifest) {
  std::vector<const TensorSpec *> weights;
  std::set<std::string_view> seen;
  for (const EntryPoint &entry : manifest.entryPoints)
    for (const TensorSpec &spec : entry.inputs)
      if (spec.role == HOPE_ROLE_WEIGHT && seen.insert(spec.name).second)
        weights.push_back(&spec);
  return weights;
}

static Error mismatch(const std::string &source, const TensorSpec &spec,
                      const std::string &what, const std::string &given,
                      const std::string &expected) {
  return makeError(HOPE_INVALID_ARGUMENT,
                   source + ": " + spec.describe() + " has " + what + " " +
                       given + " but the artifact expects " + expected);
}

/// Opens the device of a CUDA session (its stream, the module's kernels).
static Expected<SessionRef> attachDevice(SessionRef session) {
  if (session->device != HOPE_DEVICE_CUDA)
    return session;
  Expected<std::shared_ptr<cuda::CudaSession>> device =
      cuda::CudaSession::create(*session->module);
  if (!device)
    return device.takeError();
  session->cuda = std::move(*device);
  return session;
}

Expected<TensorRef> rt::toSessionDevice(const hope_session &session,
                                        const TensorRef &tensor) {
  if (!session.cuda) {
    Expected<TensorRef> host = toHost(tensor);
    if (!host)
      return host.takeError();
    return toDense(*host, session.allocatorOrNull());
  }
  // Another session's tensor on the same device is usable as it is: every
  // call and copy has finished when it returns.
  if (tensor->device == HOPE_DEVICE_CUDA && isDense(*tensor) &&
      static_cast<cuda::CudaStream *>(tensor->memory.get())->gpu ==
          session.cuda->stream->gpu)
    return tensor;
  Expected<TensorRef> host = toHost(tensor);
  if (!host)
    return host.takeError();
  return session.cuda->upload(**host);
}

Expected<SessionRef> rt::createSession(hope_module *module,
                                       const hope_session_options *options) {
  SessionRef session(new hope_session);
  session->module = module;
  // The device the artifact was compiled for, unless the options say one.
  const Manifest &manifest = *module->manifest;
  session->device = manifest.isCuda() ? HOPE_DEVICE_CUDA : HOPE_DEVICE_HOST;
  if (!options)
    return attachDevice(std::move(session));
  // Fields past the caller's struct_size keep their defaults.
  auto has = [&](size_t offset, size_t size) {
    return options->struct_size >= offset + size;
  };
  if (options->struct_size < offsetof(hope_session_options, threads))
    return makeError(HOPE_INVALID_ARGUMENT,
                     "hope_session_create: options.struct_size is " +
                         std::to_string(options->struct_size) +
                         "; set it to sizeof(hope_session_options)");
  if (has(offsetof(hope_session_options, threads), sizeof(int32_t))) {
    if (Error error = checkThreadCount(options->threads,
                                       "hope_session_create: options.threads"))
      return error;
    session->threads = options->threads;
  }
  if (has(offsetof(hope_session_options, device), sizeof(hope_device)) &&
      options->device != 0) { // 0: the artifact's device
    if (options->device != HOPE_DEVICE_HOST &&
        options->device != HOPE_DEVICE_CUDA)
      return makeError(HOPE_UNSUPPORTED,
                       "hope_session_create: device " +
                           std::to_string(int(options->device)) +
                           " is not supported (HOPE_DEVICE_HOST or "
                           "HOPE_DEVICE_CUDA)");
    if (options->device != session->device)
      return makeError(
          HOPE_UNSUPPORTED,
          "hope_session_create: " + module->path + " is compiled for target '" +
              std::string(manifest.kind) + "', which runs on " +
              std::string(nameOf(session->device)) + ", not on " +
              std::string(nameOf(options->device)) +
              (manifest.isCuda() ? " (hope-run --device=cuda)" : ""));
  }
  if (has(offsetof(hope_session_options, allocator),
          sizeof(const hope_allocator *)) &&
      options->allocator) {
    if (!options->allocator->alloc || !options->allocator->free)
      return makeError(HOPE_INVALID_ARGUMENT,
                       "hope_session_create: the allocator needs both alloc "
                       "and free");
    session->allocator = *options->allocator;
  }
  return attachDevice(std::move(session));
}

Error rt::loadWeights(hope_session &session, const std::string &path) {
  Expected<SafetensorsFile> file = SafetensorsFile::open(path);
  if (!file)
    return file.takeError();
  const Manifest &manifest = *session.module->manifest;
  // Check every weight before copying any: a wrong file fails fast.
  std::vector<std::pair<const TensorSpec *, const SafetensorsEntry *>> found;
  for (const TensorSpec *spec : allWeights(manifest)) {
    const SafetensorsEntry *entry = file->find(spec->name);
    if (!entry)
      return makeError(HOPE_NOT_FOUND, path + ": no tensor '" +
                                           std::string(spec->name) +
                                           "' (a weight of " +
                                           session.module->path + ")");
    std::string expected(nameOf(spec->dtype));
    for (char &c : expected)
      c = char(toupper(c));
    if (entry->dtype != expected)
      return mismatch(path, *spec, "dtype", entry->dtype, expected);
    if (!matchesStatically(*spec, entry->shape))
      return mismatch(path, *spec, "shape", formatShape(entry->shape),
                      spec->formatShape());
    found.emplace_back(spec, entry);
  }
  // Every tensor must be a weight: a file of another model (or another
  // size of it) is an error, not silently half used.
  std::vector<std::string> extra;
  for (const SafetensorsEntry &entry : file->entries())
    if (!findWeight(manifest, entry.name))
      extra.push_back("'" + entry.name + "'");
  if (!extra.empty())
    return makeError(HOPE_INVALID_ARGUMENT,
                     path + ": " +
                         (extra.size() == 1 ? "tensor " + extra[0] + " is not a weight"
                                            : "tensors " + join(extra) +
                                                  " are not weights") +
                         " of " + session.module->path +
                         " (a file for another model?)");
  std::map<std::string, TensorRef> loaded;
  for (auto [spec, entry] : found) {
    Expected<TensorRef> tensor = file->load(*entry);
    if (!tensor)
      return tensor.takeError();
    loaded[std::string(spec->name)] = std::move(*tensor);
  }
  for (auto &[name, tensor] : loaded) {
    Expected<TensorRef> placed = toSessionDevice(session, tensor);
    if (!placed)
      return placed.takeError();
    tensor = std::move(*placed);
  }
  for (auto &[name, tensor] : loaded)
    session.weights[name] = {std::move(tensor), HOPE_WEIGHT_CONSTANT};
  return Error();
}

Error rt::setWeight(hope_session &session, const std::string &name,
                    TensorRef tensor, hope_weight_kind kind) {
  const TensorSpec *spec = findWeight(*session.module->manifest, name);
  if (!spec) {
    std::vector<std::string> names;
    for (const TensorSpec *weight : allWeights(*session.module->manifest))
      names.emplace_back(weight->name);
    return makeError(HOPE_NOT_FOUND,
                     "no weight '" + name + "' in " + session.module->path +
                         (names.empty() ? " (it has none)"
                                        : " (weights: " + join(names) + ")"));
  }
  const char *source = "hope_session_set_weight";
  if (kind != HOPE_WEIGHT_CONSTANT && kind != HOPE_WEIGHT_MUTABLE)
    return makeError(HOPE_INVALID_ARGUMENT,
                     std::string(source) + ": invalid weight kind " +
                         std::to_string(int(kind)));
  if (tensor->dtype != spec->dtype)
    return mismatch(source, *spec, "dtype", std::string(nameOf(tensor->dtype)),
                    std::string(nameOf(spec->dtype)));
  if (!matchesStatically(*spec, tensor->shape))
    return mismatch(source, *spec, "shape", formatShape(tensor->shape),
                    spec->formatShape());
  // On a device, a host tensor is copied there now (a device tensor is
  // bound as it is, so a mutable weight can change between calls).
  if (tensor->device != session.device ||
      (session.cuda && !isDense(*tensor))) {
    Expected<TensorRef> placed = toSessionDevice(session, tensor);
    if (!placed)
      return placed.takeError();
    tensor = std::move(*placed);
  }
  session.weights[name] = {std::move(tensor), kind};
  return Error();
}
