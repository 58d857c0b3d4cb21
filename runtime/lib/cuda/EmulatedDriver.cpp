//===- EmulatedDriver.cpp - the CPU stand-in for the CUDA driver ----------===//
//
// Every function checks its arguments as the driver documents (null
// handles, launch limits) and returns the driver's error codes, so that the
// backend's error paths run in the tests too.
//
//===----------------------------------------------------------------------===//

#include "EmulatedDriver.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace hope::rt;
using namespace hope::rt::cuda;

// The handle types DriverApi.h declares, as the stand-in defines them.
namespace hope::rt::cuda {
struct CUctx_st {};
struct CUstream_st {
  /// The threads each kernel on the stream runs on; 0: as they are.
  int threads = 0;
};
struct CUevent_st {
  std::chrono::steady_clock::time_point time;
  bool recorded = false;
};
struct CUfunc_st {
  EmulatedKernelFn kernel;
  /// The artifact's omp_set_num_threads (its OpenMP runtime's), if any.
  void (*setThreads)(int) = nullptr;
  int maxDynamicShared = kDefaultSharedBytes;
};
struct CUmod_st {
  void *library;
  std::vector<std::unique_ptr<CUfunc_st>> functions;
};
} // namespace hope::rt::cuda

namespace {
std::atomic<int64_t> liveAllocations{0};
CUctx_st theContext;

CUresult init(unsigned flags) {
  return flags == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult driverVersion(int *version) {
  if (!version)
    return CUDA_ERROR_INVALID_VALUE;
  *version = 13000;
  return CUDA_SUCCESS;
}

CUresult deviceCount(int *count) {
  if (!count)
    return CUDA_ERROR_INVALID_VALUE;
  *count = 1;
  return CUDA_SUCCESS;
}

CUresult deviceGet(CUdevice *device, int ordinal) {
  if (!device || ordinal != 0)
    return CUDA_ERROR_INVALID_VALUE;
  *device = 0;
  return CUDA_SUCCESS;
}

CUresult deviceName(char *name, int length, CUdevice device) {
  const char text[] = "CPU stand-in (cuda-emulated)";
  if (!name || length <= 0 || device != 0)
    return CUDA_ERROR_INVALID_VALUE;
  std::strncpy(name, text, size_t(length));
  name[length - 1] = '\0';
  return CUDA_SUCCESS;
}

CUresult deviceAttribute(int *value, int attribute, CUdevice device) {
  if (!value || device != 0)
    return CUDA_ERROR_INVALID_VALUE;
  switch (attribute) {
  case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK:
    *value = kEmulatedMaxThreadsPerBlock;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT:
    *value = int(std::max(1u, std::thread::hardware_concurrency()));
    return CUDA_SUCCESS;
  // No chip: the emulated image is the only one an emulated artifact has.
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR:
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR:
    *value = 0;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN:
    *value = kEmulatedMaxSharedBytes;
    return CUDA_SUCCESS;
  default:
    return CUDA_ERROR_INVALID_VALUE;
  }
}

CUresult primaryContextRetain(CUcontext *context, CUdevice device) {
  if (!context || device != 0)
    return CUDA_ERROR_INVALID_VALUE;
  *context = &theContext;
  return CUDA_SUCCESS;
}

CUresult contextSetCurrent(CUcontext context) {
  return context == &theContext || !context ? CUDA_SUCCESS
                                            : CUDA_ERROR_INVALID_HANDLE;
}

CUresult moduleLoad(CUmodule *module, const void *image, unsigned, CUjit_option *,
                    void **) {
  if (!module || !image)
    return CUDA_ERROR_INVALID_VALUE;
  EmulatedImage given;
  std::memcpy(&given, image, sizeof(given));
  if (std::memcmp(given.magic, EmulatedImage::kMagic, sizeof(given.magic)) !=
          0 ||
      !given.library)
    return CUDA_ERROR_INVALID_IMAGE;
  *module = new CUmod_st{given.library, {}};
  return CUDA_SUCCESS;
}

CUresult moduleUnload(CUmodule module) {
  if (!module)
    return CUDA_ERROR_INVALID_HANDLE;
  delete module;
  return CUDA_SUCCESS;
}

CUresult moduleGetFunction(CUfunction *function, CUmodule module,
                           const char *name) {
  if (!function || !module || !name)
    return CUDA_ERROR_INVALID_VALUE;
  std::string symbol = std::string("hope_kernel_") + name;
  void *address = dlsym(module->library, symbol.c_str());
  if (!address)
    return CUDA_ERROR_NOT_FOUND;
  auto entry = std::make_unique<CUfunc_st>();
  entry->kernel = reinterpret_cast<EmulatedKernelFn>(address);
  entry->setThreads = reinterpret_cast<void (*)(int)>(
      dlsym(module->library, "omp_set_num_threads"));
  module->functions.push_back(std::move(entry));
  *function = module->functions.back().get();
  return CUDA_SUCCESS;
}

CUresult functionSetAttribute(CUfunction function, int attribute, int value) {
  if (!function)
    return CUDA_ERROR_INVALID_HANDLE;
  if (attribute != CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES ||
      value < 0 || value > kEmulatedMaxSharedBytes)
    return CUDA_ERROR_INVALID_VALUE;
  function->maxDynamicShared = value;
  return CUDA_SUCCESS;
}

CUresult launchKernel(CUfunction function, unsigned gridX, unsigned gridY,
                      unsigned gridZ, unsigned blockX, unsigned blockY,
                      unsigned blockZ, unsigned sharedBytes, CUstream stream,
                      void **params, void **extra) {
  if (!function)
    return CUDA_ERROR_INVALID_HANDLE;
  // The driver's limits (compute capability 9.0).
  uint64_t threads = uint64_t(blockX) * blockY * blockZ;
  if (extra || !gridX || !gridY || !gridZ || gridX > 0x7fffffffu ||
      gridY > 65535 || gridZ > 65535 || !blockX || !blockY || !blockZ ||
      blockX > 1024 || blockY > 1024 || blockZ > 64 ||
      threads > uint64_t(kEmulatedMaxThreadsPerBlock) ||
      sharedBytes > unsigned(function->maxDynamicShared))
    return CUDA_ERROR_INVALID_VALUE;
  // The blocks run on the stream's threads: the kernel's parallel loop over
  // them is an OpenMP region started by this (the launching) thread.
  if (stream && stream->threads > 0 && function->setThreads)
    function->setThreads(stream->threads);
  const uint32_t grid[3] = {gridX, gridY, gridZ};
  const uint32_t block[3] = {blockX, blockY, blockZ};
  // Too little dynamic shared memory: the driver reports the out-of-bounds
  // accesses a GPU would make as an illegal address.
  if (function->kernel(params, grid, block, sharedBytes) != 0)
    return CUDA_ERROR_ILLEGAL_ADDRESS;
  return CUDA_SUCCESS;
}

CUresult streamCreate(CUstream *stream, unsigned) {
  if (!stream)
    return CUDA_ERROR_INVALID_VALUE;
  *stream = new CUstream_st;
  return CUDA_SUCCESS;
}

CUresult streamDestroy(CUstream stream) {
  if (!stream)
    return CUDA_ERROR_INVALID_HANDLE;
  delete stream;
  return CUDA_SUCCESS;
}

// Every operation ran when it was enqueued.
CUresult streamSynchronize(CUstream) { return CUDA_SUCCESS; }

CUresult memAlloc(CUdeviceptr *pointer, size_t bytes) {
  if (!pointer || bytes == 0)
    return CUDA_ERROR_INVALID_VALUE;
  // The driver aligns allocations to at least 256 bytes.
  size_t rounded = (bytes + 255) & ~size_t(255);
  void *memory = rounded >= bytes ? std::aligned_alloc(256, rounded) : nullptr;
  if (!memory)
    return CUDA_ERROR_OUT_OF_MEMORY;
  ++liveAllocations;
  *pointer = reinterpret_cast<uintptr_t>(memory);
  return CUDA_SUCCESS;
}

CUresult memFree(CUdeviceptr pointer) {
  if (!pointer)
    return CUDA_ERROR_INVALID_VALUE;
  --liveAllocations;
  std::free(reinterpret_cast<void *>(uintptr_t(pointer)));
  return CUDA_SUCCESS;
}

CUresult copyHtoD(CUdeviceptr dst, const void *src, size_t bytes, CUstream) {
  if (bytes && (!dst || !src))
    return CUDA_ERROR_INVALID_VALUE;
  if (bytes)
    std::memcpy(reinterpret_cast<void *>(uintptr_t(dst)), src, bytes);
  return CUDA_SUCCESS;
}

CUresult copyDtoH(void *dst, CUdeviceptr src, size_t bytes, CUstream) {
  if (bytes && (!dst || !src))
    return CUDA_ERROR_INVALID_VALUE;
  if (bytes)
    std::memcpy(dst, reinterpret_cast<const void *>(uintptr_t(src)), bytes);
  return CUDA_SUCCESS;
}

CUresult copyDtoD(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream) {
  if (bytes && (!dst || !src))
    return CUDA_ERROR_INVALID_VALUE;
  if (bytes)
    std::memmove(reinterpret_cast<void *>(uintptr_t(dst)),
                 reinterpret_cast<const void *>(uintptr_t(src)), bytes);
  return CUDA_SUCCESS;
}

CUresult eventCreate(CUevent *event, unsigned) {
  if (!event)
    return CUDA_ERROR_INVALID_VALUE;
  *event = new CUevent_st;
  return CUDA_SUCCESS;
}

CUresult eventDestroy(CUevent event) {
  if (!event)
    return CUDA_ERROR_INVALID_HANDLE;
  delete event;
  return CUDA_SUCCESS;
}

CUresult eventRecord(CUevent event, CUstream) {
  if (!event)
    return CUDA_ERROR_INVALID_HANDLE;
  event->time = std::chrono::steady_clock::now();
  event->recorded = true;
  return CUDA_SUCCESS;
}

CUresult eventElapsed(float *milliseconds, CUevent start, CUevent end) {
  if (!milliseconds || !start || !end)
    return CUDA_ERROR_INVALID_HANDLE;
  if (!start->recorded || !end->recorded)
    return CUDA_ERROR_INVALID_HANDLE;
  *milliseconds = std::chrono::duration<float, std::milli>(end->time -
                                                            start->time)
                      .count();
  return CUDA_SUCCESS;
}

struct ErrorText {
  CUresult code;
  const char *name, *text;
};
constexpr ErrorText kErrors[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED",
     "initialization error"},
    {CUDA_ERROR_STUB_LIBRARY, "CUDA_ERROR_STUB_LIBRARY",
     "CUDA driver is a stub library"},
    {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE",
     "no CUDA-capable device is detected"},
    {CUDA_ERROR_INVALID_IMAGE, "CUDA_ERROR_INVALID_IMAGE",
     "device kernel image is invalid"},
    {CUDA_ERROR_NO_BINARY_FOR_GPU, "CUDA_ERROR_NO_BINARY_FOR_GPU",
     "no kernel image is available for execution on the device"},
    {CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE",
     "invalid resource handle"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {CUDA_ERROR_ILLEGAL_ADDRESS, "CUDA_ERROR_ILLEGAL_ADDRESS",
     "an illegal memory access was encountered"},
    {CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
     "too many resources requested for launch"},
};

CUresult errorName(CUresult error, const char **name) {
  for (const ErrorText &entry : kErrors)
    if (entry.code == error) {
      *name = entry.name;
      return CUDA_SUCCESS;
    }
  return CUDA_ERROR_INVALID_VALUE;
}

CUresult errorString(CUresult error, const char **text) {
  for (const ErrorText &entry : kErrors)
    if (entry.code == error) {
      *text = entry.text;
      return CUDA_SUCCESS;
    }
  return CUDA_ERROR_INVALID_VALUE;
}
} // namespace

int64_t cuda::emulatedLiveAllocations() { return liveAllocations.load(); }

void cuda::emulatedSetStreamThreads(CUstream stream, int threads) {
  if (stream)
    stream->threads = threads;
}

const DriverApi &cuda::emulatedDriver() {
  static const DriverApi api = {
      "CPU stand-in (cuda-emulated)",
      /*emulated=*/true,
      init,
      driverVersion,
      deviceCount,
      deviceGet,
      deviceName,
      deviceAttribute,
      primaryContextRetain,
      contextSetCurrent,
      moduleLoad,
      moduleUnload,
      moduleGetFunction,
      functionSetAttribute,
      launchKernel,
      streamCreate,
      streamDestroy,
      streamSynchronize,
      memAlloc,
      memFree,
      copyHtoD,
      copyDtoH,
      copyDtoD,
      eventCreate,
      eventDestroy,
      eventRecord,
      eventElapsed,
      errorName,
      errorString,
  };
  return api;
}
