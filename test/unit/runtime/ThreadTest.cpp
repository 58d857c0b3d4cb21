//===- ThreadTest.cpp - one session invoked from several threads ----------===//
//
// Built against HopeRuntimeTsan, the runtime compiled with ThreadSanitizer,
// which reports any data race in the runtime's own code (reference counts,
// the session's weights and options, output ownership). The artifact and
// OpenMP's runtime are not instrumented: a race inside them is not seen.
//
//===----------------------------------------------------------------------===//

#include "hope/runtime.hpp"

#include "gtest/gtest.h"

#include <thread>
#include <vector>

using namespace hope;

namespace {

template <typename T> T take(Expected<T> value) {
  EXPECT_TRUE(bool(value)) << value.getError().message();
  return value ? std::move(*value) : T();
}

/// forward's output y for x[b, t, d] = seed + b + t, over `calls` calls.
std::vector<std::vector<float>> run(Session &session, float seed, int calls) {
  std::vector<std::vector<float>> results;
  for (int call = 0; call < calls; ++call) {
    std::vector<float> x;
    for (int b = 0; b < 2; ++b)
      for (int t = 0; t < 3; ++t)
        for (int d = 0; d < 4; ++d)
          x.push_back(seed + call + b + t);
    Tensor input = take(Tensor::fromValues<float>({2, 3, 4}, x));
    Tensor state = take(Tensor::create(HOPE_DTYPE_F32, {2, 4}));
    std::vector<Tensor> outputs =
        take(session.invoke("forward", {input, state}));
    if (outputs.empty())
      return results;
    results.push_back(take(outputs[0].toVector<float>()));
  }
  return results;
}

TEST(Threads, TwoThreadsInvokingOneSessionGetOneThreadsResults) {
  Module module = take(Module::load(HOPE_FAKE_GOOD));
  hope_session_options options{sizeof(options), 2, HOPE_DEVICE_HOST, nullptr};
  Session session = take(Session::create(module, &options));
  std::vector<float> w = {1, 2, 3, 4};
  ASSERT_FALSE(session.setWeight("w", take(Tensor::fromValues<float>({4}, w))));

  const int calls = 50;
  std::vector<std::vector<float>> first = run(session, 0, calls);
  std::vector<std::vector<float>> second = run(session, 100, calls);
  std::vector<std::vector<float>> concurrent[2];
  std::thread a([&] { concurrent[0] = run(session, 0, calls); });
  std::thread b([&] { concurrent[1] = run(session, 100, calls); });
  a.join();
  b.join();
  EXPECT_EQ(concurrent[0], first);
  EXPECT_EQ(concurrent[1], second);
}

/// square's output for x = [seed + call, ...] on a CUDA session: inputs
/// copied to the device, outputs back, in every call.
std::vector<std::vector<float>> runOnDevice(Session &session, float seed,
                                            int calls) {
  std::vector<std::vector<float>> results;
  for (int call = 0; call < calls; ++call) {
    std::vector<float> x = {seed + call, seed + call + 1, seed + call + 2};
    Tensor input = take(session.toDevice(take(Tensor::fromValues<float>({3}, x))));
    std::vector<Tensor> outputs = take(session.invoke("square", {input}));
    if (outputs.empty())
      return results;
    results.push_back(take(outputs[0].toVector<float>()));
  }
  return results;
}

// The CUDA backend's session state (stream, arena, counters, the module on
// the device) under two threads, over the CPU stand-in for the driver.
TEST(Threads, TwoThreadsInvokingOneCudaSession) {
  Module module = take(Module::load(HOPE_EMULATED_GOOD));
  Session session = take(Session::create(module));
  ASSERT_FALSE(session.setProfiling(true));
  const int calls = 50;
  std::vector<std::vector<float>> first = runOnDevice(session, 0, calls);
  std::vector<std::vector<float>> second = runOnDevice(session, 100, calls);
  std::vector<std::vector<float>> concurrent[2];
  std::thread a([&] { concurrent[0] = runOnDevice(session, 0, calls); });
  std::thread b([&] { concurrent[1] = runOnDevice(session, 100, calls); });
  std::thread reader([&] {
    for (int i = 0; i < 100; ++i)
      (void)session.deviceStats();
  });
  a.join();
  b.join();
  reader.join();
  EXPECT_EQ(concurrent[0], first);
  EXPECT_EQ(concurrent[1], second);
  EXPECT_EQ(session.deviceStats().calls, uint64_t(4 * calls));
}

} // namespace
