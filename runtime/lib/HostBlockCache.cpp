//===- HostBlockCache.cpp - host blocks kept between calls ------------===//

#include "HostBlockCache.h"

#include <cstdlib>
#include <vector>

using namespace hope::rt;

/// Cached sizes are whole pages, so that slightly different requests (a
/// shape that changed by a few elements) share blocks.
static constexpr uint64_t kGranule = 4096;

HostBlockCache::~HostBlockCache() {
  for (auto &[size, block] : idle)
    std::free(block);
  // Live blocks belong to tensors that outlive the session; their owners
  // keep this cache alive (CallServices::own), so none is left here.
}

void *HostBlockCache::allocate(uint64_t bytes, uint64_t alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    return nullptr;
  if (alignment < kAlignment)
    alignment = kAlignment;
  uint64_t rounded = (bytes + kGranule - 1) & ~(kGranule - 1);
  if (rounded < bytes)
    return nullptr;
  if (bytes < kMinCachedBytes || alignment > kGranule) {
    uint64_t size = (bytes + alignment - 1) & ~(alignment - 1);
    if (size == 0)
      size = alignment;
    return size < bytes ? nullptr : std::aligned_alloc(alignment, size);
  }
  std::lock_guard<std::mutex> lock(mutex);
  void *block = nullptr;
  // The smallest idle block that fits and wastes at most a quarter.
  auto found = idle.lower_bound(rounded);
  if (found != idle.end() && found->first - rounded <= rounded / 4) {
    block = found->second;
    rounded = found->first;
    idleTotal -= rounded;
    idle.erase(found);
  } else {
    // aligned_alloc with a page multiple: page alignment covers any
    // alignment up to kGranule.
    block = std::aligned_alloc(kGranule, rounded);
    if (!block)
      return nullptr;
  }
  live.emplace(block, rounded);
  liveTotal += rounded;
  if (liveTotal > highWater)
    highWater = liveTotal;
  return block;
}

void HostBlockCache::release(void *block) {
  if (!block)
    return;
  std::vector<void *> surplus;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto found = live.find(block);
    if (found == live.end()) {
      std::free(block); // a small block: the C library's
      return;
    }
    uint64_t size = found->second;
    live.erase(found);
    liveTotal -= size;
    idle.emplace(size, block);
    idleTotal += size;
    // Keep at most one working set: drop the largest idle blocks first
    // (those a shrunken working set is least likely to ask for again).
    while (idleTotal > highWater && !idle.empty()) {
      auto largest = std::prev(idle.end());
      idleTotal -= largest->first;
      surplus.push_back(largest->second);
      idle.erase(largest);
    }
  }
  for (void *extra : surplus)
    std::free(extra);
}

uint64_t HostBlockCache::idleBytes() const {
  std::lock_guard<std::mutex> lock(mutex);
  return idleTotal;
}

uint64_t HostBlockCache::liveBytes() const {
  std::lock_guard<std::mutex> lock(mutex);
  return liveTotal;
}
