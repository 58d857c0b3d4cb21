//===- Invoke.cpp - calling an entry point --------------------------------===//
//
// Checks every input against the manifest, passes MLIR memref descriptors
// (docs/artifact-abi.md), and takes ownership of the outputs the artifact
// allocated, checking them too: an artifact that breaks its own manifest
// gets an error, not a crash further on.
//
//===----------------------------------------------------------------------===//

#include "Invoke.h"
#include "MemRefDescriptor.h"
#include "Services.h"
#include "Session.h"
#include "Shapes.h"
#include "Status.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

using namespace hope;
using namespace hope::rt;

/// Inputs live where the session runs: the caller copies them there
/// (hope_tensor_to_device), and so decides when copies happen.
static Error checkDevice(const hope_session &session, const EntryPoint &entry,
                         const TensorSpec &spec, const hope_tensor &tensor) {
  if (tensor.device == session.device)
    return Error();
  bool toHost = session.device == HOPE_DEVICE_HOST;
  return makeError(HOPE_INVALID_ARGUMENT,
                   std::string(entry.name) + ": " + spec.describe() +
                       " is on " + std::string(nameOf(tensor.device)) +
                       " but the session runs on " +
                       std::string(nameOf(session.device)) +
                       (toHost ? ": copy it with hope_tensor_to_host"
                               : ": copy it with hope_tensor_to_device"));
}

/// An entry point that writes weight `spec` in place (a training step) may
/// only run on a mutable binding (a constant one may have been prepared, and
/// its caller was promised it never changes) of dense memory (a dense copy
/// would take the update and be dropped).
static Error checkUpdatedWeight(const EntryPoint &entry, const TensorSpec &spec,
                                const BoundWeight &bound) {
  if (!spec.updated)
    return Error();
  std::string where = std::string(entry.name) + ": " + spec.describe() +
                      " is updated in place by this entry point";
  if (bound.kind != HOPE_WEIGHT_MUTABLE)
    return makeError(HOPE_INVALID_ARGUMENT,
                     where + " but is bound as HOPE_WEIGHT_CONSTANT: bind it "
                             "with hope_session_set_weight(..., "
                             "HOPE_WEIGHT_MUTABLE)");
  if (!isDense(*bound.tensor))
    return makeError(HOPE_INVALID_ARGUMENT,
                     where + " but its bound tensor is not dense (the update "
                             "would go to a copy): bind a dense tensor");
  return Error();
}

/// Lists the names of `specs` whose role is not weight: "x, state".
static std::string callerInputNames(const EntryPoint &entry) {
  std::vector<std::string> names;
  for (const TensorSpec &spec : entry.inputs)
    if (spec.role != HOPE_ROLE_WEIGHT)
      names.emplace_back(spec.name);
  return join(names);
}

Expected<int64_t> rt::checkOutput(const EntryPoint &entry, size_t index,
                                  const Descriptor &descriptor,
                                  DimBindings &dims) {
  const TensorSpec &spec = entry.outputs[index];
  auto broken = [&](const std::string &what) {
    return makeError(HOPE_INTERNAL, std::string(entry.name) +
                                        ": the artifact returned " +
                                        spec.describe() + " " + what);
  };
  Shape shape = descriptor.sizesView();
  Expected<int64_t> count = numElements(shape);
  if (!count)
    return broken("with an invalid shape " + formatShape(shape));
  if (std::optional<std::string> why = dims.match(spec, shape, spec.describe()))
    return broken("with shape " + formatShape(shape) +
                  " but its manifest declares " + spec.formatShape() + *why);
  if (*count > 0 && !descriptor.aligned())
    return broken("with a null buffer");
  if (descriptor.offset() < 0)
    return broken("with a negative offset");
  return count;
}

/// Takes ownership of the outputs in `descriptors`, checks them against
/// the manifest (and the sizes the inputs bound) and makes them tensors.
static Expected<std::vector<TensorRef>>
takeOutputs(const hope_session &session, const EntryPoint &entry,
            std::vector<Descriptor> &descriptors, DimBindings &dims,
            const std::set<void *> &inputBuffers,
            const CallServices &services) {
  // Own every distinct buffer first, so that any error below frees them.
  // A buffer that is an input's was not allocated by the artifact: copy it.
  std::map<void *, std::shared_ptr<void>> owners;
  for (Descriptor &descriptor : descriptors) {
    void *buffer = descriptor.allocated();
    if (!buffer || inputBuffers.count(buffer) ||
        inputBuffers.count(descriptor.aligned()) || owners.count(buffer))
      continue;
    owners[buffer] = services.own(buffer);
  }

  std::vector<TensorRef> outputs;
  for (size_t j = 0; j < descriptors.size(); ++j) {
    Descriptor &descriptor = descriptors[j];
    const TensorSpec &spec = entry.outputs[j];
    Expected<int64_t> count = checkOutput(entry, j, descriptor, dims);
    if (!count)
      return count.takeError();
    Shape shape = descriptor.sizesView();

    char *data = static_cast<char *>(descriptor.aligned()) +
                 descriptor.offset() * int64_t(sizeOf(spec.dtype));
    auto owner = owners.find(descriptor.allocated());
    TensorRef view = makeView(spec.dtype, shape, descriptor.stridesView(), data,
                              owner == owners.end() ? nullptr : owner->second);
    if (owner == owners.end() && *count > 0) {
      Expected<TensorRef> copy =
          allocateTensor(spec.dtype, shape, session.allocatorOrNull());
      if (!copy)
        return copy.takeError();
      copyDense(*view, (*copy)->data);
      view = std::move(*copy);
    }
    outputs.push_back(std::move(view));
  }
  return outputs;
}

Expected<std::vector<TensorRef>>
rt::checkInputs(const hope_session &session, const EntryPoint &entry,
                Span<hope_tensor *> callerInputs, DimBindings &dims) {
  auto invalid = [&](const std::string &message) {
    return makeError(HOPE_INVALID_ARGUMENT,
                     std::string(entry.name) + ": " + message);
  };

  size_t expected = std::count_if(
      entry.inputs.begin(), entry.inputs.end(),
      [](const TensorSpec &spec) { return spec.role != HOPE_ROLE_WEIGHT; });
  if (callerInputs.size() != expected)
    return invalid("expects " + std::to_string(expected) +
                   " inputs and states (" + callerInputNames(entry) +
                   ") but got " + std::to_string(callerInputs.size()));

  // Every input, weights included, checked before anything runs.
  std::vector<TensorRef> inputs;
  size_t next = 0;
  for (const TensorSpec &spec : entry.inputs) {
    TensorRef tensor;
    if (spec.role == HOPE_ROLE_WEIGHT) {
      auto bound = session.weights.find(spec.name);
      if (bound == session.weights.end())
        return invalid(spec.describe() +
                       " is not bound; load the weights first "
                       "(hope-run --weights=FILE)");
      tensor = bound->second.tensor;
      if (Error error = checkUpdatedWeight(entry, spec, bound->second))
        return error;
    } else {
      tensor = callerInputs[next++];
      if (!tensor)
        return invalid(spec.describe() + " is null");
    }
    if (tensor->dtype != spec.dtype)
      return invalid(spec.describe() + " has dtype " +
                     std::string(nameOf(tensor->dtype)) +
                     " but the artifact expects " +
                     std::string(nameOf(spec.dtype)));
    if (std::optional<std::string> why =
            dims.match(spec, tensor->shape, spec.describe()))
      return invalid(spec.describe() + " has shape " +
                     formatShape(tensor->shape) + " but the artifact expects " +
                     spec.formatShape() + *why);
    if (Error error = checkDevice(session, entry, spec, *tensor))
      return error;
    inputs.push_back(std::move(tensor));
  }
  return inputs;
}

Error rt::preconditionError(const EntryPoint &entry, int32_t broken) {
  if (broken < 0 || static_cast<size_t>(broken) > entry.preconditions.size())
    return makeError(HOPE_INTERNAL, std::string(entry.name) +
                                        ": the artifact returned status " +
                                        std::to_string(broken) +
                                        ", which its manifest does not list");
  const Precondition &precondition = entry.preconditions[broken - 1];
  bool one = precondition.inputs.size() == 1;
  std::vector<std::string> names(precondition.inputs.begin(),
                                 precondition.inputs.end());
  return makeError(HOPE_INVALID_ARGUMENT,
                   std::string(entry.name) +
                       (one ? ": input '" : ": inputs '") +
                       join(names, "', '") + (one ? "' breaks" : "' break") +
                       " a precondition: " + std::string(precondition.message));
}

Expected<std::vector<TensorRef>> rt::invoke(const hope_session &session,
                                            size_t entryIndex,
                                            Span<hope_tensor *> callerInputs) {
  const EntryPoint &entry = session.module->manifest->entryPoints[entryIndex];
  DimBindings dims;
  Expected<std::vector<TensorRef>> checked =
      checkInputs(session, entry, callerInputs, dims);
  if (!checked)
    return checked.takeError();
  if (session.cuda)
    return cuda::invoke(session, entryIndex, std::move(*checked), dims);
  std::vector<TensorRef> inputs; // dense; keeps temporary copies alive
  for (const TensorRef &tensor : *checked) {
    Expected<TensorRef> dense = toDense(tensor, session.allocatorOrNull());
    if (!dense)
      return dense.takeError();
    inputs.push_back(std::move(*dense));
  }

  std::vector<Descriptor> descriptors;
  std::set<void *> inputBuffers;
  for (const TensorRef &tensor : inputs) {
    descriptors.push_back(Descriptor::input(*tensor));
    inputBuffers.insert(tensor->data);
  }
  for (const TensorSpec &spec : entry.outputs)
    descriptors.emplace_back(spec.shape.size());
  std::vector<void *> args;
  for (Descriptor &descriptor : descriptors)
    args.push_back(descriptor.address());

  // The session's thread count applies to this call: OpenMP keeps it per
  // OS thread, so it is set on the invoking thread each time (the default
  // too, or another session's count would stay).
  if (session.module->setThreads)
    session.module->setThreads(session.threads > 0 ? session.threads
                                                   : defaultThreadCount());
  // Every buffer of the call, the outputs' too, comes from the session's
  // allocator through the table (hope/artifact.h).
  CallServices services(session.allocator, session.allocator
                                                    ? nullptr
                                                    : session.hostBlocks);
  int32_t broken =
      session.module->entries[entryIndex](args.data(), services.table());
  if (broken != 0) // nothing ran: the outputs were not allocated
    return preconditionError(entry, broken);

  std::vector<Descriptor> outputs(
      std::make_move_iterator(descriptors.begin() + inputs.size()),
      std::make_move_iterator(descriptors.end()));
  return takeOutputs(session, entry, outputs, dims, inputBuffers, services);
}

Expected<TensorMapRef> rt::invokeByName(const hope_session &session,
                                        size_t entryIndex,
                                        const hope_tensor_map &inputs) {
  const EntryPoint &entry = session.module->manifest->entryPoints[entryIndex];
  auto invalid = [&](const std::string &message) {
    return makeError(HOPE_INVALID_ARGUMENT,
                     std::string(entry.name) + ": " + message);
  };
  for (const auto &[name, tensor] : inputs.entries) {
    const TensorSpec *spec = nullptr;
    for (const TensorSpec &candidate : entry.inputs)
      if (candidate.name == name)
        spec = &candidate;
    if (!spec)
      return invalid(
          "unexpected tensor '" + name +
          "' (the inputs and states are: " + callerInputNames(entry) + ")");
    if (spec->role == HOPE_ROLE_WEIGHT)
      return invalid("'" + name +
                     "' is a weight: bind it to the session instead");
  }
  std::vector<hope_tensor *> positional;
  for (const TensorSpec &spec : entry.inputs) {
    if (spec.role == HOPE_ROLE_WEIGHT)
      continue;
    hope_tensor *tensor = inputs.find(spec.name);
    if (!tensor)
      return invalid("no tensor given for " + spec.describe());
    positional.push_back(tensor);
  }
  Expected<std::vector<TensorRef>> outputs =
      invoke(session, entryIndex, positional);
  if (!outputs)
    return outputs.takeError();
  TensorMapRef map(new hope_tensor_map);
  for (size_t j = 0; j < outputs->size(); ++j)
    map->set(entry.outputs[j].name, std::move((*outputs)[j]));
  return map;
}
