//===- DriverLoader.cpp - libcuda.so.1, loaded at run time ----------------===//
//
// The driver library is opened with dlopen, never linked: the runtime must
// load, and run CPU artifacts, on machines without an NVIDIA driver. Each
// function is resolved by the symbol cuda.h maps its name to (the _v2
// variants where cuda.h has them).
//
//===----------------------------------------------------------------------===//

#include "DriverApi.h"
#include "Status.h"

#include <cstdlib>
#include <dlfcn.h>
#include <map>
#include <mutex>

using namespace hope;
using namespace hope::rt;
using namespace hope::rt::cuda;

std::string DriverApi::describe(CUresult result) const {
  const char *name = nullptr;
  const char *text = nullptr;
  // A driver that cannot name its errors (the toolkit's stub cannot) gets
  // the names the stand-in knows.
  const DriverApi &known = emulatedDriver();
  if (!cuGetErrorName || cuGetErrorName(result, &name) != CUDA_SUCCESS ||
      !name) {
    if (known.cuGetErrorName(result, &name) != CUDA_SUCCESS)
      return "CUDA error " + std::to_string(result);
    known.cuGetErrorString(result, &text);
  } else if (!cuGetErrorString ||
             cuGetErrorString(result, &text) != CUDA_SUCCESS) {
    text = nullptr;
  }
  std::string description = name;
  if (text)
    description += std::string(" (") + text + ")";
  return description;
}

Error DriverApi::check(CUresult result, const std::string &what) const {
  if (result == CUDA_SUCCESS)
    return Error();
  return makeError(result == CUDA_ERROR_OUT_OF_MEMORY ? HOPE_OUT_OF_MEMORY
                                                      : HOPE_DEVICE_ERROR,
                   what + ": " + describe(result));
}

namespace {
/// Resolves every function of `api` from `library`; the name of the first
/// missing one otherwise.
std::string resolve(void *library, DriverApi &api) {
  std::string missing;
  auto load = [&](auto &function, const char *symbol,
                  const char *fallback = nullptr) {
    void *address = dlsym(library, symbol);
    if (!address && fallback)
      address = dlsym(library, fallback);
    if (!address && missing.empty())
      missing = symbol;
    function = reinterpret_cast<std::remove_reference_t<decltype(function)>>(
        address);
  };
  load(api.cuInit, "cuInit");
  load(api.cuDriverGetVersion, "cuDriverGetVersion");
  load(api.cuDeviceGetCount, "cuDeviceGetCount");
  load(api.cuDeviceGet, "cuDeviceGet");
  load(api.cuDeviceGetName, "cuDeviceGetName");
  load(api.cuDeviceGetAttribute, "cuDeviceGetAttribute");
  load(api.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
  load(api.cuCtxSetCurrent, "cuCtxSetCurrent");
  load(api.cuModuleLoadDataEx, "cuModuleLoadDataEx");
  load(api.cuModuleUnload, "cuModuleUnload");
  load(api.cuModuleGetFunction, "cuModuleGetFunction");
  load(api.cuFuncSetAttribute, "cuFuncSetAttribute");
  load(api.cuLaunchKernel, "cuLaunchKernel");
  load(api.cuStreamCreate, "cuStreamCreate");
  load(api.cuStreamDestroy, "cuStreamDestroy_v2");
  load(api.cuStreamSynchronize, "cuStreamSynchronize");
  load(api.cuMemAlloc, "cuMemAlloc_v2");
  load(api.cuMemFree, "cuMemFree_v2");
  load(api.cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2");
  load(api.cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2");
  load(api.cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2");
  load(api.cuEventCreate, "cuEventCreate");
  load(api.cuEventDestroy, "cuEventDestroy_v2");
  // CUDA 12.8 added the _v2 form (the same signature); older drivers have
  // only the first.
  load(api.cuEventElapsedTime, "cuEventElapsedTime_v2", "cuEventElapsedTime");
  load(api.cuGetErrorName, "cuGetErrorName");
  load(api.cuGetErrorString, "cuGetErrorString");
  return missing;
}
} // namespace

Expected<const DriverApi *> cuda::loadDriver() {
  // Once per process and path: the library stays loaded (the driver does
  // not support being unloaded while contexts exist).
  static std::mutex mutex;
  // Never destroyed: devices refer to it until the process ends.
  static auto &loaded = *new std::map<std::string, DriverApi>;
  std::lock_guard<std::mutex> lock(mutex);
  const char *override = std::getenv(kDriverPathVariable);
  std::string path =
      override && *override ? std::string(override) : "libcuda.so.1";
  auto known = loaded.find(path);
  if (known != loaded.end())
    return &known->second;

  void *library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *reason = dlerror();
    std::string why = reason ? reason : "dlopen failed";
    if (override && *override)
      return makeError(HOPE_UNSUPPORTED,
                       "cannot load the CUDA driver '" + path + "' (from " +
                           kDriverPathVariable + "): " + why);
    return makeError(HOPE_UNSUPPORTED,
                     "libcuda.so.1 not found: no NVIDIA driver on this "
                     "machine (dlopen: " +
                         why + ")");
  }
  DriverApi candidate{};
  candidate.name = "libcuda.so.1";
  candidate.emulated = false;
  std::string missing = resolve(library, candidate);
  if (!missing.empty()) {
    dlclose(library);
    return makeError(HOPE_UNSUPPORTED,
                     path + " has no function '" + missing +
                         "' (an NVIDIA driver older than this runtime "
                         "supports?)");
  }
  return &loaded.emplace(path, candidate).first->second;
}
