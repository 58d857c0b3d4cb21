//===- CAPIModules.cpp - the C API: modules and sessions ------------------===//

#include "Session.h"
#include "Status.h"

using namespace hope;
using namespace hope::rt;

/// Fills `param` from `spec`; its pointers live in the module's manifest.
static void describe(const TensorSpec &spec, hope_param *param) {
  param->name = spec.name.data();
  param->role = spec.role;
  param->dtype = spec.dtype;
  param->rank = spec.shape.size();
  param->shape = spec.shape.empty() ? nullptr : spec.shape.data();
  param->dim_names = spec.dimNames.empty() ? nullptr : spec.dimNames.data();
}

/// The `index`-th input or output of `function`, into `param`.
static hope_status *describeParam(const char *caller, const hope_module *module,
                                  const char *function, size_t index,
                                  bool output, hope_param *param) {
  Expected<size_t> entry = module->findEntry(function);
  if (!entry)
    return toStatus(entry.takeError());
  const EntryPoint &point = module->manifest->entryPoints[*entry];
  const std::vector<TensorSpec> &specs = output ? point.outputs : point.inputs;
  if (index >= specs.size())
    return toStatus(makeError(HOPE_INVALID_ARGUMENT,
                              std::string(caller) + ": " + function + " has " +
                                  std::to_string(specs.size()) +
                                  (output ? " outputs" : " inputs") +
                                  ", no index " + std::to_string(index)));
  describe(specs[index], param);
  return nullptr;
}

extern "C" {

//===-- Modules -----------------------------------------------------------===//

hope_status *hope_module_load(const char *path, hope_module **out) {
  HOPE_CHECK_ARG(path);
  HOPE_CHECK_ARG(out);
  Expected<ModuleRef> module = loadModule(path);
  if (!module)
    return toStatus(module.takeError());
  *out = toHandle(std::move(*module));
  return nullptr;
}

void hope_module_retain(hope_module *module) {
  if (module)
    module->retain();
}

void hope_module_release(hope_module *module) {
  if (module)
    module->release();
}

hope_status *hope_module_manifest(const hope_module *module,
                                  const char **json) {
  HOPE_CHECK_ARG(module);
  HOPE_CHECK_ARG(json);
  *json = module->manifest->json.c_str();
  return nullptr;
}

hope_status *hope_module_model(const hope_module *module, const char **model,
                               const char **triple, const char **cpu) {
  HOPE_CHECK_ARG(module);
  const Manifest &manifest = *module->manifest;
  if (model)
    *model = manifest.model.data();
  if (triple)
    *triple = manifest.triple.data();
  if (cpu)
    *cpu = manifest.cpu.data();
  return nullptr;
}

hope_status *hope_module_threads(const hope_module *module, int32_t *threads) {
  HOPE_CHECK_ARG(module);
  HOPE_CHECK_ARG(threads);
  *threads = module->getThreads ? module->getThreads() : 1;
  return nullptr;
}

hope_status *hope_module_entry_point_count(const hope_module *module,
                                           size_t *count) {
  HOPE_CHECK_ARG(module);
  HOPE_CHECK_ARG(count);
  *count = module->manifest->entryPoints.size();
  return nullptr;
}

hope_status *hope_module_entry_point_name(const hope_module *module,
                                          size_t index, const char **name) {
  HOPE_CHECK_ARG(module);
  HOPE_CHECK_ARG(name);
  const auto &entries = module->manifest->entryPoints;
  if (index >= entries.size())
    return indexOutOfRange(__func__, index, entries.size(), "entry points");
  *name = entries[index].name.data();
  return nullptr;
}

hope_status *hope_module_signature(const hope_module *module,
                                   const char *function, size_t *n_inputs,
                                   size_t *n_outputs) {
  HOPE_CHECK_ARG(module);
  HOPE_CHECK_ARG(function);
  Expected<size_t> entry = module->findEntry(function);
  if (!entry)
    return toStatus(entry.takeError());
  const EntryPoint &point = module->manifest->entryPoints[*entry];
  if (n_inputs)
    *n_inputs = point.inputs.size();
  if (n_outputs)
    *n_outputs = point.outputs.size();
  return nullptr;
}

hope_status *hope_module_input(const hope_module *module, const char *function,
                               size_t index, hope_param *param) {
  HOPE_CHECK_ARG(module);
  HOPE_CHECK_ARG(function);
  HOPE_CHECK_ARG(param);
  return describeParam(__func__, module, function, index, false, param);
}

hope_status *hope_module_output(const hope_module *module, const char *function,
                                size_t index, hope_param *param) {
  HOPE_CHECK_ARG(module);
  HOPE_CHECK_ARG(function);
  HOPE_CHECK_ARG(param);
  return describeParam(__func__, module, function, index, true, param);
}

//===-- Sessions ----------------------------------------------------------===//

hope_status *hope_session_create(hope_module *module,
                                 const hope_session_options *options,
                                 hope_session **out) {
  HOPE_CHECK_ARG(module);
  HOPE_CHECK_ARG(out);
  Expected<SessionRef> session = createSession(module, options);
  if (!session)
    return toStatus(session.takeError());
  *out = toHandle(std::move(*session));
  return nullptr;
}

void hope_session_retain(hope_session *session) {
  if (session)
    session->retain();
}

void hope_session_release(hope_session *session) {
  if (session)
    session->release();
}

hope_status *hope_session_module(const hope_session *session,
                                 hope_module **module) {
  HOPE_CHECK_ARG(session);
  HOPE_CHECK_ARG(module);
  *module = session->module.get();
  return nullptr;
}

hope_status *hope_session_load_weights(hope_session *session,
                                       const char *path) {
  HOPE_CHECK_ARG(session);
  HOPE_CHECK_ARG(path);
  return toStatus(loadWeights(*session, path));
}

hope_status *hope_session_set_weight(hope_session *session, const char *name,
                                     hope_tensor *tensor,
                                     hope_weight_kind kind) {
  HOPE_CHECK_ARG(session);
  HOPE_CHECK_ARG(name);
  HOPE_CHECK_ARG(tensor);
  return toStatus(setWeight(*session, name, tensor, kind));
}

hope_status *hope_session_invoke(hope_session *session, const char *function,
                                 hope_tensor *const *inputs, size_t n_inputs,
                                 hope_tensor **outputs, size_t n_outputs) {
  HOPE_CHECK_ARG(session);
  HOPE_CHECK_ARG(function);
  if (n_inputs)
    HOPE_CHECK_ARG(inputs);
  Expected<size_t> entry = session->module->findEntry(function);
  if (!entry)
    return toStatus(entry.takeError());
  size_t expected =
      session->module->manifest->entryPoints[*entry].outputs.size();
  if (n_outputs != expected)
    return toStatus(makeError(HOPE_INVALID_ARGUMENT,
                              std::string(function) + ": has " +
                                  std::to_string(expected) +
                                  " outputs but room for " +
                                  std::to_string(n_outputs) + " was given"));
  if (n_outputs)
    HOPE_CHECK_ARG(outputs);
  Expected<std::vector<TensorRef>> results = invoke(
      *session, *entry, Span<hope_tensor *>(inputs, inputs ? n_inputs : 0));
  if (!results)
    return toStatus(results.takeError());
  for (size_t j = 0; j < n_outputs; ++j)
    outputs[j] = toHandle(std::move((*results)[j]));
  return nullptr;
}

hope_status *hope_session_invoke_map(hope_session *session,
                                     const char *function,
                                     const hope_tensor_map *inputs,
                                     hope_tensor_map **outputs) {
  HOPE_CHECK_ARG(session);
  HOPE_CHECK_ARG(function);
  HOPE_CHECK_ARG(inputs);
  HOPE_CHECK_ARG(outputs);
  Expected<size_t> entry = session->module->findEntry(function);
  if (!entry)
    return toStatus(entry.takeError());
  Expected<TensorMapRef> results = invokeByName(*session, *entry, *inputs);
  if (!results)
    return toStatus(results.takeError());
  *outputs = toHandle(std::move(*results));
  return nullptr;
}

} // extern "C"
