//===- CudaSession.h - a session on a CUDA device ---------------*- C++ -*-===//
//
// What a session of a CUDA artifact holds: the module on the device, one
// stream on which all its work runs in order, the arena its device memory
// comes from, and its counters (calls, launches, per-kernel times).
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_RUNTIME_LIB_CUDA_CUDASESSION_H
#define HOPE_RUNTIME_LIB_CUDA_CUDASESSION_H

#include "CudaDevice.h"
#include "DeviceArena.h"
#include "DeviceMemory.h"
#include "Tensor.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

struct hope_module;

namespace hope::rt::cuda {

/// A stream and the arena of memory used on it. Device tensors hold it
/// (as their DeviceMemory), so it lives as long as any of them.
class CudaStream final : public DeviceMemory,
                         public std::enable_shared_from_this<CudaStream> {
public:
  static Expected<std::shared_ptr<CudaStream>>
  create(std::shared_ptr<CudaDevice> device);
  ~CudaStream() override;

  hope_device device() const override { return HOPE_DEVICE_CUDA; }
  std::string describe() const override { return gpu->describe(); }
  Expected<std::shared_ptr<void>> allocate(size_t bytes) override;
  Error copyToHost(void *hostDst, const void *deviceSrc,
                   size_t bytes) override;
  Error copyFromHost(void *deviceDst, const void *hostSrc,
                     size_t bytes) override;
  /// Waits for everything enqueued so far.
  Error synchronize(const std::string &what);
  /// An owner of the arena block at `pointer` (from the service table's
  /// device_alloc), which frees it when the last copy goes.
  std::shared_ptr<void> adopt(CUdeviceptr pointer);

  std::shared_ptr<CudaDevice> gpu;
  CUstream stream = nullptr;
  std::unique_ptr<DeviceArena> arena;

private:
  explicit CudaStream(std::shared_ptr<CudaDevice> device)
      : gpu(std::move(device)) {}
  /// Checks the result of enqueuing a copy of `bytes` bytes ("to" or
  /// "from" the device) and waits for it.
  Error finishCopy(CUresult enqueued, size_t bytes, const char *direction);
};

struct KernelStats {
  uint64_t launches = 0;
  double milliseconds = 0;
};

class CudaSession {
public:
  /// Opens the device of `module`'s kind (the driver or the stand-in),
  /// loads the module's kernels onto it and creates the session's stream.
  static Expected<std::shared_ptr<CudaSession>> create(hope_module &module);
  ~CudaSession();

  /// A dense copy of host `tensor` on the device.
  Expected<TensorRef> upload(const hope_tensor &tensor);

  std::shared_ptr<CudaStream> stream;
  std::shared_ptr<LoadedModule> module;
  /// The device, described (hope_session_device_info).
  std::string description;
  /// The session's calls run one at a time (they share the stream).
  std::mutex callMutex;
  std::atomic<bool> profiling{false};

  /// Counters, under statsMutex.
  mutable std::mutex statsMutex;
  uint64_t calls = 0, launches = 0, lastCallLaunches = 0;
  std::vector<KernelStats> kernels;

  /// Events for timing launches, reused across calls (under callMutex).
  std::vector<CUevent> events;

private:
  CudaSession() = default;
};

} // namespace hope::rt::cuda

#endif // HOPE_RUNTIME_LIB_CUDA_CUDASESSION_H
