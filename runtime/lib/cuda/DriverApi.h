//===- DriverApi.h - the CUDA driver API as a table of functions -*- C++ -*-===//
//
// The runtime's CUDA backend calls the driver only through a DriverApi:
// either libcuda.so.1, opened with dlopen at run time (loadDriver), or the
// CPU stand-in that runs "cuda-emulated" artifacts (emulatedDriver). The
// few types and constants it needs are declared here, with the values of
// CUDA's cuda.h: the runtime must build where no CUDA toolkit is installed
// (and must not link libcuda, which only a machine with an NVIDIA driver
// has), so cuda.h is not included.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_RUNTIME_LIB_CUDA_DRIVERAPI_H
#define HOPE_RUNTIME_LIB_CUDA_DRIVERAPI_H

#include "hope/runtime.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace hope::rt::cuda {

// Opaque handles and plain types, as cuda.h declares them.
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
using CUevent = struct CUevent_st *;
using CUjit_option = int;

// The values of cuda.h's enumerations this backend uses.
constexpr CUresult CUDA_SUCCESS = 0;
constexpr CUresult CUDA_ERROR_INVALID_VALUE = 1;
constexpr CUresult CUDA_ERROR_OUT_OF_MEMORY = 2;
constexpr CUresult CUDA_ERROR_NOT_INITIALIZED = 3;
constexpr CUresult CUDA_ERROR_STUB_LIBRARY = 34;
constexpr CUresult CUDA_ERROR_NO_DEVICE = 100;
constexpr CUresult CUDA_ERROR_INVALID_IMAGE = 200;
constexpr CUresult CUDA_ERROR_NO_BINARY_FOR_GPU = 209;
constexpr CUresult CUDA_ERROR_INVALID_HANDLE = 400;
constexpr CUresult CUDA_ERROR_NOT_FOUND = 500;
constexpr CUresult CUDA_ERROR_ILLEGAL_ADDRESS = 700;
constexpr CUresult CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES = 701;

constexpr int CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 1;
constexpr int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;
constexpr int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
constexpr unsigned CU_STREAM_NON_BLOCKING = 1;
constexpr unsigned CU_EVENT_DEFAULT = 0;
constexpr CUjit_option CU_JIT_ERROR_LOG_BUFFER = 5;
constexpr CUjit_option CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;

/// Shared memory a kernel gets without opting in (cuFuncSetAttribute).
constexpr uint32_t kDefaultSharedBytes = 48 * 1024;

/// The driver functions the backend calls, with cuda.h's signatures (the
/// symbol each is loaded from is in DriverLoader.cpp).
struct DriverApi {
  /// "libcuda.so.1" or "CPU stand-in (cuda-emulated)", for messages.
  const char *name;
  bool emulated;

  CUresult (*cuInit)(unsigned flags);
  CUresult (*cuDriverGetVersion)(int *version);
  CUresult (*cuDeviceGetCount)(int *count);
  CUresult (*cuDeviceGet)(CUdevice *device, int ordinal);
  CUresult (*cuDeviceGetName)(char *name, int length, CUdevice device);
  CUresult (*cuDeviceGetAttribute)(int *value, int attribute,
                                   CUdevice device);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *context, CUdevice device);
  CUresult (*cuCtxSetCurrent)(CUcontext context);
  CUresult (*cuModuleLoadDataEx)(CUmodule *module, const void *image,
                                 unsigned numOptions, CUjit_option *options,
                                 void **optionValues);
  CUresult (*cuModuleUnload)(CUmodule module);
  CUresult (*cuModuleGetFunction)(CUfunction *function, CUmodule module,
                                  const char *name);
  CUresult (*cuFuncSetAttribute)(CUfunction function, int attribute,
                                 int value);
  CUresult (*cuLaunchKernel)(CUfunction function, unsigned gridX,
                             unsigned gridY, unsigned gridZ, unsigned blockX,
                             unsigned blockY, unsigned blockZ,
                             unsigned sharedBytes, CUstream stream,
                             void **params, void **extra);
  CUresult (*cuStreamCreate)(CUstream *stream, unsigned flags);
  CUresult (*cuStreamDestroy)(CUstream stream);
  CUresult (*cuStreamSynchronize)(CUstream stream);
  CUresult (*cuMemAlloc)(CUdeviceptr *pointer, size_t bytes);
  CUresult (*cuMemFree)(CUdeviceptr pointer);
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr dst, const void *src,
                                size_t bytes, CUstream stream);
  CUresult (*cuMemcpyDtoHAsync)(void *dst, CUdeviceptr src, size_t bytes,
                                CUstream stream);
  CUresult (*cuMemcpyDtoDAsync)(CUdeviceptr dst, CUdeviceptr src,
                                size_t bytes, CUstream stream);
  CUresult (*cuEventCreate)(CUevent *event, unsigned flags);
  CUresult (*cuEventDestroy)(CUevent event);
  CUresult (*cuEventRecord)(CUevent event, CUstream stream);
  CUresult (*cuEventElapsedTime)(float *milliseconds, CUevent start,
                                 CUevent end);
  CUresult (*cuGetErrorName)(CUresult error, const char **name);
  CUresult (*cuGetErrorString)(CUresult error, const char **text);

  /// "CUDA_ERROR_OUT_OF_MEMORY (out of memory)".
  std::string describe(CUresult result) const;
  /// An error "<what>: <describe(result)>" if `result` is not success.
  Error check(CUresult result, const std::string &what) const;
};

/// The environment variable naming another driver library to load instead
/// of libcuda.so.1 (tests use it to make the driver missing or a stub).
constexpr const char *kDriverPathVariable = "HOPE_CUDA_DRIVER";

/// libcuda.so.1 (or $HOPE_CUDA_DRIVER), opened and resolved once per
/// process. Fails naming what is missing: the library ("libcuda.so.1 not
/// found: no NVIDIA driver on this machine") or a function in it.
Expected<const DriverApi *> loadDriver();

/// The CPU stand-in for the driver (EmulatedDriver.cpp).
const DriverApi &emulatedDriver();

} // namespace hope::rt::cuda

#endif // HOPE_RUNTIME_LIB_CUDA_DRIVERAPI_H
