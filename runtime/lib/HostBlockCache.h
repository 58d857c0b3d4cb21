//===- HostBlockCache.h - host blocks kept between calls ---*- C++ -*-===//
//
// A call's large temporaries and outputs, freed, return to the C library;
// glibc then trims its heap or unmaps them, and the next call faults every
// page in again (a quarter of a Titans-memory call's time on the bench
// machine). A session without an allocator of its own keeps those blocks
// here instead and hands them to its next calls, as IREE's caching
// allocator and PyTorch's do.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_RUNTIME_LIB_HOSTBLOCKCACHE_H
#define HOPE_RUNTIME_LIB_HOSTBLOCKCACHE_H

#include <cstdint>
#include <map>
#include <mutex>
#include <unordered_map>

namespace hope::rt {

/// Thread-safe: the artifact's parallel loops allocate, and calls of one
/// session may run concurrently.
class HostBlockCache {
public:
  /// Smaller blocks go straight to the C library, whose bins serve them
  /// without system calls.
  static constexpr uint64_t kMinCachedBytes = 64 * 1024;
  /// Every block is aligned to this (what hope_allocator promises).
  static constexpr uint64_t kAlignment = 64;

  HostBlockCache() = default;
  HostBlockCache(const HostBlockCache &) = delete;
  HostBlockCache &operator=(const HostBlockCache &) = delete;
  ~HostBlockCache();

  /// `bytes` bytes aligned to `alignment` (a power of two), or null.
  void *allocate(uint64_t bytes, uint64_t alignment);
  /// Releases what allocate returned (null is ignored).
  void release(void *block);

  /// Bytes of the blocks kept for later calls, and of those in use.
  uint64_t idleBytes() const;
  uint64_t liveBytes() const;

private:
  mutable std::mutex mutex;
  /// Blocks handed out, by address: their rounded size.
  std::unordered_map<void *, uint64_t> live;
  /// Blocks kept for reuse, by rounded size.
  std::multimap<uint64_t, void *> idle;
  uint64_t idleTotal = 0;
  uint64_t liveTotal = 0;
  /// The most bytes in use at once: more is never kept idle, so the cache
  /// holds at most one working set of the session.
  uint64_t highWater = 0;
};

} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_HOSTBLOCKCACHE_H
