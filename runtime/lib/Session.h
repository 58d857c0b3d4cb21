//===- Session.h - a module with its weights bound --------------*- C++ -*-===//

#ifndef HOPE_RUNTIME_LIB_SESSION_H
#define HOPE_RUNTIME_LIB_SESSION_H

#include "HostBlockCache.h"
#include "Module.h"
#include "TensorMap.h"

#include <map>
#include <optional>

namespace hope::rt {
namespace cuda {
class CudaSession;
} // namespace cuda

/// A bound weight and how it may change.
struct BoundWeight {
  TensorRef tensor;
  hope_weight_kind kind = HOPE_WEIGHT_CONSTANT;
};
} // namespace hope::rt

struct hope_session : hope::rt::RefCounted<hope_session> {
  hope::rt::ModuleRef module;
  /// Threads for the artifact's OpenMP loops, set in each invoke (0: the
  /// default, rt::defaultThreadCount()).
  int32_t threads = 0;
  hope_device device = HOPE_DEVICE_HOST;
  /// Where runtime-made tensors come from; none: aligned_alloc.
  std::optional<hope_allocator> allocator;
  /// Without an allocator: the large blocks of finished calls, for the next
  /// calls (no page faults in the steady state).
  std::shared_ptr<hope::rt::HostBlockCache> hostBlocks =
      std::make_shared<hope::rt::HostBlockCache>();
  /// Bound weights by name (one binding serves every entry point).
  std::map<std::string, hope::rt::BoundWeight, std::less<>> weights;
  /// A session on a CUDA device: its stream, arena and module on the
  /// device; null on the host.
  std::shared_ptr<hope::rt::cuda::CudaSession> cuda;

  const hope_allocator *allocatorOrNull() const {
    return allocator ? &*allocator : nullptr;
  }
};

namespace hope::rt {

using SessionRef = Ref<hope_session>;

/// A session of `module` with `options` (null: the defaults), validated.
Expected<SessionRef> createSession(hope_module *module,
                                   const hope_session_options *options);

/// Binds every weight of the module from the safetensors file at `path`,
/// checking dtypes and static sizes before copying, and that the file holds
/// nothing else; all or nothing.
Error loadWeights(hope_session &session, const std::string &path);

/// A dense copy of `tensor` where `session` runs (the tensor itself if it
/// is there already and dense).
Expected<TensorRef> toSessionDevice(const hope_session &session,
                                    const TensorRef &tensor);

/// Binds the weight `name` to `tensor`, checking its dtype and static sizes.
Error setWeight(hope_session &session, const std::string &name,
                TensorRef tensor, hope_weight_kind kind);

/// Runs entry point `entry` on the caller's inputs and states (manifest
/// order, weights left out); returns every output in manifest order.
Expected<std::vector<TensorRef>> invoke(const hope_session &session,
                                        size_t entry,
                                        Span<hope_tensor *> inputs);

/// The same with inputs and outputs by name.
Expected<TensorMapRef> invokeByName(const hope_session &session, size_t entry,
                                    const hope_tensor_map &inputs);

} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_SESSION_H
