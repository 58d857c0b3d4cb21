//===- DeviceArena.cpp - a stream-ordered cache of device memory ----------===//

#include "DeviceArena.h"
#include "Status.h"

#include <algorithm>

using namespace hope;
using namespace hope::rt;
using namespace hope::rt::cuda;

uint64_t DeviceArena::sizeClass(uint64_t bytes) {
  constexpr uint64_t kLarge = uint64_t(64) << 20, kLargeStep = uint64_t(2)
                                                               << 20;
  uint64_t size = std::max<uint64_t>(bytes, 256);
  if (size > kLarge)
    return size > UINT64_MAX - kLargeStep ? 0
                                          : (size + kLargeStep - 1) /
                                                kLargeStep * kLargeStep;
  uint64_t power = 256;
  while (power < size)
    power *= 2;
  return power;
}

DeviceArena::~DeviceArena() {
  std::lock_guard<std::mutex> lock(mutex);
  // Blocks still live belong to no tensor (each holds the arena): they
  // were leaked by an artifact, and go back with the cache.
  for (auto &[pointer, block] : live)
    cached[block.sizeClass].push_back(pointer);
  live.clear();
  releaseCached();
}

void DeviceArena::releaseCached() {
  if (cached.empty())
    return;
  driver.cuStreamSynchronize(stream);
  for (auto &[size, pointers] : cached)
    for (CUdeviceptr pointer : pointers) {
      driver.cuMemFree(pointer);
      counters.reserved -= size;
    }
  cached.clear();
}

Expected<CUdeviceptr> DeviceArena::allocate(uint64_t bytes) {
  uint64_t size = sizeClass(bytes);
  if (size == 0 || size > SIZE_MAX)
    return makeError(HOPE_OUT_OF_MEMORY,
                     "cannot allocate " + std::to_string(bytes) +
                         " bytes of device memory");
  std::lock_guard<std::mutex> lock(mutex);
  CUdeviceptr pointer = 0;
  auto reuse = cached.find(size);
  if (reuse != cached.end() && !reuse->second.empty()) {
    pointer = reuse->second.back();
    reuse->second.pop_back();
  } else {
    CUresult result = driver.cuMemAlloc(&pointer, size_t(size));
    if (result == CUDA_ERROR_OUT_OF_MEMORY && !cached.empty()) {
      releaseCached();
      result = driver.cuMemAlloc(&pointer, size_t(size));
    }
    if (Error error =
            driver.check(result, "cannot allocate " + std::to_string(bytes) +
                                     " bytes of device memory (" +
                                     std::to_string(counters.inUse) +
                                     " bytes in use)"))
      return error;
    counters.reserved += size;
  }
  live[pointer] = {size, bytes};
  counters.inUse += size;
  counters.peak = std::max(counters.peak, counters.inUse);
  return pointer;
}

bool DeviceArena::free(CUdeviceptr pointer) {
  std::lock_guard<std::mutex> lock(mutex);
  auto block = live.find(pointer);
  if (block == live.end())
    return false;
  counters.inUse -= block->second.sizeClass;
  cached[block->second.sizeClass].push_back(pointer);
  live.erase(block);
  return true;
}

std::optional<uint64_t> DeviceArena::liveSize(CUdeviceptr pointer) const {
  std::lock_guard<std::mutex> lock(mutex);
  auto block = live.find(pointer);
  if (block == live.end())
    return std::nullopt;
  return block->second.requested;
}

ArenaStats DeviceArena::stats() const {
  std::lock_guard<std::mutex> lock(mutex);
  return counters;
}
