//===- Invoke.cpp - calling an entry point --------------------------------===//
//
// Checks every input against the manifest, passes MLIR memref descriptors
// (docs/artifact-abi.md), and takes ownership of the outputs the artifact
// allocated, checking them too: an artifact that breaks its own manifest
// gets an error, not a crash further on.
//
//===----------------------------------------------------------------------===//

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

static_assert(sizeof(void *) == sizeof(int64_t),
              "memref descriptors are read as 64-bit words");

namespace {
/// A ranked memref descriptor as 64-bit words: allocated, aligned, offset,
/// sizes[rank], strides[rank].
class Descriptor {
public:
  explicit Descriptor(size_t rank) : words(3 + 2 * rank, 0) {}

  /// A dense, row-major input.
  static Descriptor input(const hope_tensor &tensor) {
    Descriptor descriptor(tensor.shape.size());
    descriptor.setPointer(0, tensor.data);
    descriptor.setPointer(1, tensor.data);
    std::vector<int64_t> strides = denseStrides(tensor.shape);
    for (size_t i = 0; i < tensor.shape.size(); ++i) {
      descriptor.sizes()[i] = tensor.shape[i];
      descriptor.strides()[i] = strides[i];
    }
    return descriptor;
  }

  void *address() { return words.data(); }
  size_t rank() const { return (words.size() - 3) / 2; }
  void *allocated() const { return pointer(0); }
  void *aligned() const { return pointer(1); }
  int64_t offset() const { return words[2]; }
  int64_t *sizes() { return words.data() + 3; }
  int64_t *strides() { return words.data() + 3 + rank(); }
  Shape sizesView() const { return Shape(words.data() + 3, rank()); }
  Shape stridesView() const { return Shape(words.data() + 3 + rank(), rank()); }

private:
  void *pointer(size_t word) const {
    void *p;
    std::memcpy(&p, &words[word], sizeof(p));
    return p;
  }
  void setPointer(size_t word, void *p) {
    std::memcpy(&words[word], &p, sizeof(p));
  }

  std::vector<int64_t> words;
};
} // namespace

/// Lists the names of `specs` whose role is not weight: "x, state".
static std::string callerInputNames(const EntryPoint &entry) {
  std::vector<std::string> names;
  for (const TensorSpec &spec : entry.inputs)
    if (spec.role != HOPE_ROLE_WEIGHT)
      names.emplace_back(spec.name);
  return join(names);
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
    auto broken = [&](const std::string &what) {
      return makeError(HOPE_INTERNAL, std::string(entry.name) +
                                          ": the artifact returned " +
                                          spec.describe() + " " + what);
    };
    Shape shape = descriptor.sizesView();
    Expected<int64_t> count = numElements(shape);
    if (!count)
      return broken("with an invalid shape " + formatShape(shape));
    if (std::optional<std::string> why =
            dims.match(spec, shape, spec.describe()))
      return broken("with shape " + formatShape(shape) +
                    " but its manifest declares " + spec.formatShape() + *why);
    if (*count > 0 && !descriptor.aligned())
      return broken("with a null buffer");
    if (descriptor.offset() < 0)
      return broken("with a negative offset");

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

Expected<std::vector<TensorRef>> rt::invoke(const hope_session &session,
                                            size_t entryIndex,
                                            Span<hope_tensor *> callerInputs) {
  const EntryPoint &entry = session.module->manifest->entryPoints[entryIndex];
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
  DimBindings dims;
  std::vector<TensorRef> inputs; // dense; keeps temporary copies alive
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
  CallServices services(session.allocator);
  int32_t broken =
      session.module->entries[entryIndex](args.data(), services.table());
  if (broken != 0) {
    // Nothing ran: the outputs were not allocated.
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
                         join(names, "', '") +
                         (one ? "' breaks" : "' break") +
                         " a precondition: " +
                         std::string(precondition.message));
  }

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
