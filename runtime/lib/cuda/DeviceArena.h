//===- DeviceArena.h - a stream-ordered cache of device memory --*- C++ -*-===//
//
// Every device buffer of a session (its artifact's temporaries through the
// service table's device_alloc, its outputs, its copies of inputs and
// weights) comes from one arena. Blocks are rounded up to size classes and
// a freed block is cached for reuse instead of going back to the driver:
// the session's work runs in order on its one stream, so a block freed by
// the host code may be handed out again at once, since any kernel that
// reads the next owner's data runs after every kernel enqueued before the
// free. cuMemAlloc and cuMemFree, which synchronize the device, are then
// paid once per size class rather than once per call.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_RUNTIME_LIB_CUDA_DEVICEARENA_H
#define HOPE_RUNTIME_LIB_CUDA_DEVICEARENA_H

#include "DriverApi.h"

#include <map>
#include <mutex>
#include <optional>
#include <vector>

namespace hope::rt::cuda {

struct ArenaStats {
  /// Bytes of the blocks handed out and not yet freed (their size class).
  uint64_t inUse = 0;
  /// The most `inUse` has been.
  uint64_t peak = 0;
  /// Bytes taken from the driver: in use plus cached.
  uint64_t reserved = 0;
};

class DeviceArena {
public:
  /// Blocks are used on `stream`, which is drained before memory goes back
  /// to the driver. Allocating needs the driver's context current on the
  /// calling thread; freeing only caches, and needs none.
  DeviceArena(const DriverApi &driver, CUstream stream)
      : driver(driver), stream(stream) {}
  ~DeviceArena();
  DeviceArena(const DeviceArena &) = delete;
  DeviceArena &operator=(const DeviceArena &) = delete;

  /// A block of at least `bytes` bytes (256-byte aligned); fails with the
  /// driver's error once the cache has been given back and it still fails.
  Expected<CUdeviceptr> allocate(uint64_t bytes);
  /// Returns the block at `pointer` to the cache; false if no live block of
  /// this arena starts there.
  bool free(CUdeviceptr pointer);
  /// The bytes asked for when the live block at `pointer` was allocated.
  std::optional<uint64_t> liveSize(CUdeviceptr pointer) const;
  ArenaStats stats() const;

  /// The size class of `bytes`: 256-byte multiples rounded up to a power of
  /// two below 64 MiB, to a multiple of 2 MiB above.
  static uint64_t sizeClass(uint64_t bytes);

private:
  /// Gives every cached block back to the driver (after the stream is done).
  void releaseCached();

  struct Block {
    uint64_t sizeClass;
    uint64_t requested;
  };
  const DriverApi &driver;
  CUstream stream;
  mutable std::mutex mutex;
  std::map<CUdeviceptr, Block> live;
  std::map<uint64_t, std::vector<CUdeviceptr>> cached;
  ArenaStats counters;
};

} // namespace hope::rt::cuda

#endif // HOPE_RUNTIME_LIB_CUDA_DEVICEARENA_H
