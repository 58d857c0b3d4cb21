//===- CudaEmulatedTest.cpp - the CUDA backend over its CPU stand-in ------===//
//
// The runtime's CUDA backend on Inputs/emulated_artifact.c: module loading
// from the file's images, the session's stream and arena, copies, launches
// through the service table, sticky errors, counters; and the errors of a
// "cuda" artifact where no driver (or only the toolkit's stub) is.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include "cuda/CudaDevice.h"
#include "cuda/EmulatedDriver.h"

#include <cstdlib>
#include <dlfcn.h>

using namespace hope;
using namespace hope::test;

namespace {

/// Sets an environment variable for the life of the object.
class ScopedEnv {
public:
  ScopedEnv(const char *name, const char *value) : name(name) {
    if (const char *old = getenv(name))
      previous = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (previous)
      setenv(name, previous->c_str(), 1);
    else
      unsetenv(name);
  }

private:
  const char *name;
  std::optional<std::string> previous;
};

class CudaEmulated : public ::testing::Test {
protected:
  void SetUp() override {
    module = take(Module::load(HOPE_EMULATED_GOOD));
    session = take(Session::create(module)); // the artifact's device
    ASSERT_FALSE(session.setWeight("w", tensorOf<float>({5}, {1, 2, 3, 4, 5})));
  }

  Tensor onDevice(const Tensor &tensor) { return take(session.toDevice(tensor)); }

  /// x = [1, 1, 1, 1, 1], state = [10, 20, 30, 40, 50], on the device.
  std::vector<Tensor> inputs() {
    return {onDevice(tensorOf<float>({5}, {1, 1, 1, 1, 1})),
            onDevice(tensorOf<float>({5}, {10, 20, 30, 40, 50}))};
  }

  Module module;
  Session session;
};

TEST_F(CudaEmulated, LoadsOntoTheStandIn) {
  EXPECT_EQ(module.kernelCount(), 3u);
  EXPECT_EQ(session.device(), HOPE_DEVICE_CUDA);
  auto [image, device] = session.deviceInfo();
  EXPECT_EQ(image, "emulated");
  EXPECT_EQ(device, "CPU stand-in (cuda-emulated)");
  hope_kernel_stats stats = take(session.kernelStats(1));
  EXPECT_STREQ(stats.name, "accumulate");
  EXPECT_EQ(messageOf(session.kernelStats(3)),
            "hope_session_kernel_stats: index 3 is out of range (3 kernels)");
}

TEST_F(CudaEmulated, RunsKernelsAndCopiesBack) {
  std::vector<Tensor> outputs = take(session.invoke("forward", inputs()));
  ASSERT_EQ(outputs.size(), 2u);
  EXPECT_EQ(outputs[0].device(), HOPE_DEVICE_CUDA);
  // t = x * w = [1..5]; y = t + state; state' = state + t.
  std::vector<float> expected = {11, 22, 33, 44, 55};
  EXPECT_EQ(valuesOf<float>(outputs[0]), expected);
  EXPECT_EQ(valuesOf<float>(outputs[1]), expected);
  Tensor host = take(outputs[0].toHost());
  EXPECT_EQ(host.device(), HOPE_DEVICE_HOST);
  EXPECT_EQ(valuesOf<float>(host), expected);

  hope_device_stats stats = session.deviceStats();
  EXPECT_EQ(stats.calls, 1u);
  EXPECT_EQ(stats.launches, 3u);
  EXPECT_EQ(stats.last_call_launches, 3u);
  EXPECT_EQ(take(session.kernelStats(0)).launches, 1u);
  EXPECT_EQ(take(session.kernelStats(1)).launches, 2u);
  // Each tensor is one 256-byte block. Live now: w, y, state' (x and state
  // went with the temporary vector); at the peak also x, state and the
  // temporary t, which the arena keeps cached.
  EXPECT_EQ(stats.bytes_in_use, 3u * 256);
  EXPECT_EQ(stats.bytes_peak, 6u * 256);
  EXPECT_EQ(stats.bytes_reserved, 6u * 256);
}

TEST_F(CudaEmulated, HostBuffersComeFromTheSessionsAllocator) {
  // The host code's own buffers go through the session's allocator, as on
  // the CPU (the stand-in's forward allocates and frees one).
  CountingAllocator counts;
  hope_allocator allocator = counts.table();
  hope_session_options options{sizeof(options), 1, HOPE_DEVICE_CUDA,
                                &allocator};
  Session counted = take(Session::create(module, &options));
  ASSERT_FALSE(counted.setWeight("w", tensorOf<float>({5}, {1, 2, 3, 4, 5})));
  std::vector<Tensor> in = {
      take(counted.toDevice(tensorOf<float>({5}, {1, 1, 1, 1, 1}))),
      take(counted.toDevice(tensorOf<float>({5}, {10, 20, 30, 40, 50})))};
  int allocsBefore = counts.allocs, freesBefore = counts.frees;
  std::vector<Tensor> outputs = take(counted.invoke("forward", in));
  EXPECT_EQ(valuesOf<float>(outputs[0]),
            (std::vector<float>{11, 22, 33, 44, 55}));
  EXPECT_EQ(counts.allocs - allocsBefore, 1);
  EXPECT_EQ(counts.frees - freesBefore, 1);
}

TEST_F(CudaEmulated, StateStreamsThroughTheDevice) {
  std::vector<Tensor> given = inputs();
  uint64_t reservedAfterFirst = 0;
  for (int call = 0; call < 3; ++call) {
    std::vector<Tensor> outputs =
        take(session.invoke("forward", {given[0], given[1]}));
    given[1] = outputs[1]; // the state output feeds the next call
    if (call == 0)
      reservedAfterFirst = session.deviceStats().bytes_reserved;
  }
  EXPECT_EQ(valuesOf<float>(given[1]),
            (std::vector<float>{13, 26, 39, 52, 65}));
  // The arena reuses the blocks freed by earlier calls: nothing more is
  // taken from the driver after the first call.
  hope_device_stats stats = session.deviceStats();
  EXPECT_EQ(stats.calls, 3u);
  EXPECT_EQ(stats.launches, 9u);
  EXPECT_EQ(stats.bytes_reserved, reservedAfterFirst);
  EXPECT_EQ(stats.bytes_reserved, 6u * 256);
}

TEST_F(CudaEmulated, TimesKernelsWhileProfiling) {
  ASSERT_FALSE(session.setProfiling(true));
  for (int call = 0; call < 2; ++call)
    take(session.invoke("forward", inputs()));
  hope_kernel_stats scale = take(session.kernelStats(0));
  hope_kernel_stats accumulate = take(session.kernelStats(1));
  EXPECT_EQ(scale.launches, 2u);
  EXPECT_EQ(accumulate.launches, 4u);
  EXPECT_GE(scale.milliseconds, 0.0);
  EXPECT_GT(accumulate.milliseconds, 0.0); // it allocates 64 KiB per launch
}

TEST_F(CudaEmulated, FailedLaunchIsStickyAndReportedAfterTheCall) {
  Tensor x = onDevice(tensorOf<float>({5}, {1, 2, 3, 4, 5}));
  uint64_t before = session.deviceStats().bytes_in_use;
  hope::Expected<std::vector<Tensor>> outputs = session.invoke("broken", {x});
  EXPECT_EQ(messageOf(outputs),
            "broken: kernel scale: CUDA_ERROR_INVALID_VALUE (invalid argument)");
  EXPECT_EQ(codeOf(outputs), HOPE_DEVICE_ERROR);
  // The second launch did nothing; the output allocated went back.
  hope_device_stats stats = session.deviceStats();
  EXPECT_EQ(stats.last_call_launches, 0u);
  EXPECT_EQ(stats.bytes_in_use, before);
  // The session still works.
  EXPECT_EQ(valuesOf<float>(take(session.invoke("forward", inputs()))[0]),
            (std::vector<float>{11, 22, 33, 44, 55}));
}

// An emulated kernel given less dynamic shared memory than it stages runs
// nothing; the stand-in reports what a GPU's out-of-bounds accesses would.
TEST_F(CudaEmulated, TooLittleSharedMemoryIsAnError) {
  Tensor x = onDevice(tensorOf<float>({3}, {1, 2, 3}));
  hope::Expected<std::vector<Tensor>> outputs = session.invoke("short", {x});
  EXPECT_EQ(messageOf(outputs), "short: kernel accumulate: "
                                "CUDA_ERROR_ILLEGAL_ADDRESS (an illegal "
                                "memory access was encountered)");
  EXPECT_EQ(codeOf(outputs), HOPE_DEVICE_ERROR);
}

TEST_F(CudaEmulated, LaunchOfAnUnknownKernelIsAnError) {
  Tensor x = onDevice(tensorOf<float>({3}, {1, 2, 3}));
  hope::Expected<std::vector<Tensor>> outputs = session.invoke("stray", {x});
  EXPECT_EQ(messageOf(outputs),
            "stray: launch of kernel number 7, but the manifest lists 3 "
            "kernels");
  EXPECT_EQ(codeOf(outputs), HOPE_INTERNAL);
}

TEST_F(CudaEmulated, ChecksInputsAndPreconditions) {
  std::vector<Tensor> given = inputs();
  Tensor hostX = tensorOf<float>({5}, {1, 1, 1, 1, 1});
  EXPECT_EQ(messageOf(session.invoke("forward", {hostX, given[1]})),
            "forward: input 'x' is on the host but the session runs on the "
            "CUDA device: copy it with hope_tensor_to_device");
  Tensor empty = onDevice(take(Tensor::create(HOPE_DTYPE_F32, {0})));
  Tensor emptyState = onDevice(take(Tensor::create(HOPE_DTYPE_F32, {0})));
  ASSERT_FALSE(session.setWeight("w", take(Tensor::create(HOPE_DTYPE_F32, {0}))));
  EXPECT_EQ(messageOf(session.invoke("forward", {empty, emptyState})),
            "forward: input 'x' breaks a precondition: x must not be empty");
}

// A precondition on device data: a kernel writes the verdict into a status
// word, read_status (services version 3) reads it once the stream ran the
// kernel, and the entry point returns it before launching anything else.
TEST_F(CudaEmulated, PreconditionsOnDeviceDataReadAStatusWord) {
  Tensor good = onDevice(tensorOf<float>({3}, {1, 2, 3}));
  Tensor bad = onDevice(tensorOf<float>({3}, {1, -2, 3}));
  uint64_t before = session.deviceStats().bytes_in_use;
  EXPECT_EQ(valuesOf<float>(take(session.invoke("positive", {good}))[0]),
            (std::vector<float>{1, 4, 9}));
  EXPECT_EQ(session.deviceStats().last_call_launches, 2u);

  hope::Expected<std::vector<Tensor>> outputs =
      session.invoke("positive", {bad});
  EXPECT_EQ(messageOf(outputs),
            "positive: input 'x' breaks a precondition: x must be positive");
  // Only the check ran; its status word went back to the arena.
  hope_device_stats stats = session.deviceStats();
  EXPECT_EQ(stats.last_call_launches, 1u);
  EXPECT_EQ(take(session.kernelStats(2)).launches, 2u);
  EXPECT_EQ(stats.bytes_in_use, before);
}

TEST_F(CudaEmulated, StridedDeviceInputsArePassedDense) {
  // A column of a 5x2 host matrix, made a device tensor by a strided view
  // of device memory: hope_tensor_to_device makes it dense.
  std::vector<float> matrix = {1, 0, 1, 0, 1, 0, 1, 0, 1, 0};
  Tensor column = take(Tensor::wrap(HOPE_DTYPE_F32, {5}, matrix.data(), {2}));
  Tensor x = onDevice(column);
  EXPECT_EQ(x.strides(), llvm::ArrayRef<int64_t>({1}));
  EXPECT_EQ(valuesOf<float>(take(session.invoke("forward", {x, inputs()[1]}))[0]),
            (std::vector<float>{11, 22, 33, 44, 55}));
}

TEST_F(CudaEmulated, HostSessionIsRefused) {
  hope_session_options options{};
  options.struct_size = sizeof(options);
  options.device = HOPE_DEVICE_HOST;
  std::string message = messageOf(Session::create(module, &options));
  EXPECT_NE(message.find("is compiled for target 'cuda-emulated', which runs "
                         "on the CUDA device, not on the host "
                         "(hope-run --device=cuda)"),
            std::string::npos)
      << message;
}

TEST_F(CudaEmulated, WritesDeviceTensorsToFiles) {
  std::vector<Tensor> outputs = take(session.invoke("forward", inputs()));
  TempDir dir;
  ASSERT_FALSE(writeNpy(dir.path("y.npy"), outputs[0]));
  EXPECT_EQ(valuesOf<float>(take(readNpy(dir.path("y.npy")))),
            (std::vector<float>{11, 22, 33, 44, 55}));
}

// Emulated kernels run their blocks on the session's threads: the stand-in
// sets them through the artifact's omp_set_num_threads before each kernel.
TEST(CudaArtifacts, EmulatedKernelsRunOnTheSessionsThreads) {
  Module module = take(Module::load(HOPE_EMULATED_GOOD));
  void *library = dlopen(HOPE_EMULATED_GOOD, RTLD_NOW);
  ASSERT_NE(library, nullptr) << dlerror();
  auto threadsSet =
      reinterpret_cast<int (*)()>(dlsym(library, "emulated_threads_set"));
  ASSERT_NE(threadsSet, nullptr);
  for (int32_t threads : {3, 1}) {
    hope_session_options options{};
    options.struct_size = sizeof(options);
    options.threads = threads;
    Session session = take(Session::create(module, &options));
    Tensor x = take(session.toDevice(tensorOf<float>({2}, {1, 2})));
    EXPECT_EQ(valuesOf<float>(take(session.invoke("square", {x}))[0]),
              (std::vector<float>{1, 4}));
    EXPECT_EQ(threadsSet(), threads);
  }
  dlclose(library);
}

TEST(CudaArtifacts, DeviceMemoryGoesBackWithTheLastTensor) {
  int64_t before = rt::cuda::emulatedLiveAllocations();
  {
    Module module = take(Module::load(HOPE_EMULATED_GOOD));
    Session session = take(Session::create(module));
    ASSERT_FALSE(session.setWeight("w", tensorOf<float>({2}, {1, 2})));
    Tensor x = take(session.toDevice(tensorOf<float>({2}, {1, 1})));
    std::vector<Tensor> outputs = take(session.invoke("forward", {x, x}));
    EXPECT_FALSE(session.invoke("broken", {x}));
    session = Session(); // the outputs outlive the session
    EXPECT_GT(rt::cuda::emulatedLiveAllocations(), before);
    EXPECT_EQ(valuesOf<float>(outputs[0]), (std::vector<float>{2, 3}));
  }
  EXPECT_EQ(rt::cuda::emulatedLiveAllocations(), before);
}

TEST(CudaArtifacts, BrokenTwinsFailToLoad) {
  std::string message = messageOf(Module::load(HOPE_EMULATED_MISSING_KERNEL));
  EXPECT_NE(message.find(": no symbol 'hope_kernel_accumulate' for emulated "
                         "kernel 'accumulate'"),
            std::string::npos)
      << message;
  message = messageOf(Module::load(HOPE_EMULATED_IMAGE_SIZE));
  EXPECT_NE(message.find(": symbol 'hope_image_0' (image 0, emulated) has 9 "
                         "bytes but the manifest says 99"),
            std::string::npos)
      << message;
}

TEST(CudaArtifacts, NoDriverIsAClearError) {
  Module module = take(Module::load(HOPE_EMULATED_CUDA));
  EXPECT_EQ(module.kernelCount(), 3u);
  {
    ScopedEnv driver("HOPE_CUDA_DRIVER", "/nonexistent/libcuda.so.1");
    std::string message = messageOf(Session::create(module));
    EXPECT_NE(message.find(": cannot run on the CUDA device: cannot load the "
                           "CUDA driver '/nonexistent/libcuda.so.1' (from "
                           "HOPE_CUDA_DRIVER): "),
              std::string::npos)
        << message;
  }
  // Where this machine has no driver, the plain message.
  if (void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL)) {
    dlclose(library);
    GTEST_SKIP() << "this machine has an NVIDIA driver";
  }
  hope::Expected<Session> session = Session::create(module);
  EXPECT_EQ(codeOf(session), HOPE_UNSUPPORTED);
  std::string message = messageOf(session);
  EXPECT_NE(message.find(": cannot run on the CUDA device: libcuda.so.1 not "
                         "found: no NVIDIA driver on this machine (dlopen: "),
            std::string::npos)
      << message;
}

#ifdef HOPE_CUDA_STUB
TEST(CudaArtifacts, DriverThatCannotInitialiseIsAClearError) {
  Module module = take(Module::load(HOPE_EMULATED_CUDA));
  ScopedEnv driver("HOPE_CUDA_DRIVER", HOPE_CUDA_STUB);
  std::string message = messageOf(Session::create(module));
  EXPECT_NE(message.find(": cannot run on the CUDA device: cannot initialise "
                         "the CUDA driver (cuInit): CUDA_ERROR_STUB_LIBRARY "
                         "(CUDA driver is a stub library)"),
            std::string::npos)
      << message;
}
#endif

} // namespace

namespace {
using hope::rt::ImageSpec;
using hope::rt::cuda::selectImage;

TEST(CudaImages, TheDevicesCapabilityPicksTheImage) {
  std::vector<ImageSpec> images = {{"cubin", "sm_80", "i0", 1},
                                   {"cubin", "sm_90", "i1", 1},
                                   {"ptx", "sm_80", "i2", 1},
                                   {"cubin", "sm_90a", "i3", 1}};
  EXPECT_EQ(selectImage(images, 9, 0), 1u); // its own cubin (or sm_90a's)
  EXPECT_EQ(selectImage(images, 8, 0), 0u);
  EXPECT_EQ(selectImage(images, 8, 6), 0u); // sm_80's cubin runs on 8.6
  EXPECT_EQ(selectImage(images, 8, 9), 0u);
  EXPECT_EQ(selectImage(images, 10, 0), 2u); // no sm_10x cubin: PTX JIT
  EXPECT_EQ(selectImage(images, 12, 0), 2u);
  EXPECT_EQ(selectImage(images, 7, 5), std::nullopt); // nothing this old
  // An architecture-specific cubin runs only on its own chip.
  std::vector<ImageSpec> specific = {{"cubin", "sm_90a", "i0", 1}};
  EXPECT_EQ(selectImage(specific, 9, 0), 0u);
  EXPECT_EQ(selectImage(specific, 10, 0), std::nullopt);
  // The newest PTX not above the device.
  std::vector<ImageSpec> ptx = {{"ptx", "sm_80", "i0", 1},
                                {"ptx", "sm_90", "i1", 1},
                                {"ptx", "sm_100", "i2", 1}};
  EXPECT_EQ(selectImage(ptx, 9, 0), 1u);
  EXPECT_EQ(selectImage(ptx, 8, 9), 0u);
  EXPECT_EQ(selectImage(ptx, 12, 0), 2u);
}

#ifdef HOPE_CUDA_ARTIFACT
// The artifact with real cubins and PTX (built by nvcc) loads here and its
// images are read from the file; running it needs a GPU.
TEST(CudaImages, RealImagesAreReadFromTheFile) {
  Module module = take(Module::load(HOPE_CUDA_ARTIFACT));
  EXPECT_EQ(module.kernelCount(), 3u);
  std::string manifest(module.manifest());
  EXPECT_NE(manifest.find("\"chip\": \"sm_90\""), std::string::npos);
}
#endif
} // namespace
