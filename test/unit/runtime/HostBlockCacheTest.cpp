//===- HostBlockCacheTest.cpp - large blocks kept between calls -----------===//

#include "HostBlockCache.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

using hope::rt::HostBlockCache;

namespace {

constexpr uint64_t kLarge = 1 << 20;

TEST(HostBlockCache, ReleasedLargeBlockIsReused) {
  HostBlockCache cache;
  void *first = cache.allocate(kLarge, 64);
  ASSERT_NE(first, nullptr);
  std::memset(first, 1, kLarge);
  EXPECT_EQ(cache.liveBytes(), kLarge);
  cache.release(first);
  EXPECT_EQ(cache.liveBytes(), 0u);
  EXPECT_EQ(cache.idleBytes(), kLarge);
  // A slightly smaller request of the next call gets the same block.
  void *second = cache.allocate(kLarge - 100, 64);
  EXPECT_EQ(second, first);
  EXPECT_EQ(cache.idleBytes(), 0u);
  cache.release(second);
}

TEST(HostBlockCache, MuchSmallerRequestDoesNotTakeALargeBlock) {
  HostBlockCache cache;
  void *large = cache.allocate(4 * kLarge, 64);
  cache.release(large);
  void *small = cache.allocate(kLarge, 64);
  EXPECT_NE(small, large);
  EXPECT_EQ(cache.idleBytes(), 4 * kLarge);
  cache.release(small);
}

TEST(HostBlockCache, SmallBlocksAreNotKept) {
  HostBlockCache cache;
  void *small = cache.allocate(1024, 64);
  ASSERT_NE(small, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(small) % 64, 0u);
  EXPECT_EQ(cache.liveBytes(), 0u);
  cache.release(small);
  EXPECT_EQ(cache.idleBytes(), 0u);
}

TEST(HostBlockCache, AlignmentIsHonoured) {
  HostBlockCache cache;
  for (uint64_t alignment : {1u, 64u, 256u, 4096u, 65536u}) {
    void *block = cache.allocate(kLarge, alignment);
    ASSERT_NE(block, nullptr) << alignment;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(block) % alignment, 0u) << alignment;
    cache.release(block);
  }
  EXPECT_EQ(cache.allocate(kLarge, 48), nullptr); // not a power of two
  EXPECT_EQ(cache.allocate(UINT64_MAX - 10, 64), nullptr);
}

TEST(HostBlockCache, KeepsAtMostOneWorkingSet) {
  HostBlockCache cache;
  // A call using 3 MiB at once, then calls of other sizes: the idle blocks
  // never exceed the largest working set.
  std::vector<void *> blocks;
  for (int i = 0; i < 3; ++i)
    blocks.push_back(cache.allocate(kLarge, 64));
  for (void *block : blocks)
    cache.release(block);
  EXPECT_EQ(cache.idleBytes(), 3 * kLarge);
  for (uint64_t size : {2 * kLarge, 5 * kLarge / 2, 2 * kLarge}) {
    void *block = cache.allocate(size, 64);
    cache.release(block);
    EXPECT_LE(cache.idleBytes(), 3 * kLarge) << size;
  }
}

TEST(HostBlockCache, ConcurrentCallsShareTheCache) {
  HostBlockCache cache;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 200; ++i) {
        uint64_t size = kLarge / 4 * (1 + (i + t) % 3);
        auto *block = static_cast<unsigned char *>(cache.allocate(size, 64));
        ASSERT_NE(block, nullptr);
        block[0] = block[size - 1] = static_cast<unsigned char>(t);
        cache.release(block);
      }
    });
  for (std::thread &thread : threads)
    thread.join();
  EXPECT_EQ(cache.liveBytes(), 0u);
}

} // namespace
