//===- CudaDevice.h - a CUDA device, its context and loaded modules -*- C++ -*-//
//
// One device per driver and process (device 0; CUDA_VISIBLE_DEVICES picks
// another), opened on first use with its primary context. An artifact's
// images are loaded onto it once per module (CudaArtifact): the device's
// compute capability picks the cubin, PTX is JIT-compiled otherwise.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_RUNTIME_LIB_CUDA_CUDADEVICE_H
#define HOPE_RUNTIME_LIB_CUDA_CUDADEVICE_H

#include "DriverApi.h"
#include "Manifest.h"

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace hope::rt {
struct ArtifactFile;
}

namespace hope::rt::cuda {

class CudaDevice {
public:
  /// The device of the real driver (libcuda.so.1) or of the CPU stand-in.
  /// Errors name what is missing: the driver, a device.
  static Expected<std::shared_ptr<CudaDevice>> open(bool emulated);

  const DriverApi &driver;
  CUdevice device = 0;
  CUcontext context = nullptr;
  int major = 0, minor = 0;
  /// The most shared memory a block may opt in to.
  int maxSharedBytes = 0;
  int driverVersion = 0;
  std::string name;

  /// Makes the context current on the calling thread (the driver keeps it
  /// per thread).
  Error makeCurrent() const;
  /// "sm_90"; "emulated" for the CPU stand-in.
  std::string chip() const;
  /// "NVIDIA H100 80GB HBM3 (sm_90, driver 13.0)".
  std::string describe() const;

  explicit CudaDevice(const DriverApi &driver) : driver(driver) {}
};

/// The image of `images` (a CUDA manifest's) for a device of compute
/// capability `major`.`minor`: the cubin of that capability, else a cubin of
/// the same major version and a lower minor one (never an architecture-
/// specific one like sm_90a but on its own chip), else the PTX of the
/// highest chip not above the device; nullopt if none runs there.
std::optional<size_t> selectImage(const std::vector<ImageSpec> &images,
                                  int major, int minor);

/// An artifact's module loaded onto a device, with its kernels resolved.
struct LoadedModule {
  std::shared_ptr<CudaDevice> device;
  CUmodule module = nullptr;
  /// One per manifest kernel, in its order.
  std::vector<CUfunction> functions;
  /// The dynamic shared memory each function is allowed now.
  std::vector<uint32_t> sharedAllowed;
  std::mutex sharedMutex;
  /// "cubin sm_90", "ptx sm_80 (JIT for sm_90)", "emulated".
  std::string image;

  ~LoadedModule();
};

/// The CUDA part of a loaded artifact: its images, read from the file when
/// the artifact was loaded, and the module on the device, loaded by the
/// first session.
class CudaArtifact {
public:
  /// Reads every image of `manifest` from `file`, checking each against
  /// the manifest.
  static Expected<std::unique_ptr<CudaArtifact>>
  read(const Manifest &manifest, const ArtifactFile &file);
  /// The artifact's dlopen handle, in which emulated kernels are resolved.
  void attach(void *handle) { library = handle; }

  /// The module on `device` (loaded on the first call).
  Expected<std::shared_ptr<LoadedModule>>
  load(const std::shared_ptr<CudaDevice> &device);

  const Manifest &manifest;
  std::string path;

private:
  CudaArtifact(const Manifest &manifest) : manifest(manifest) {}
  /// The index of the image for `device`, and how it is described.
  Expected<std::pair<size_t, std::string>> choose(const CudaDevice &device);

  /// The bytes of each image (PTX NUL-terminated), in manifest order.
  std::vector<std::string> images;
  void *library = nullptr;
  std::mutex mutex;
  std::shared_ptr<LoadedModule> loaded;
};

} // namespace hope::rt::cuda

#endif // HOPE_RUNTIME_LIB_CUDA_CUDADEVICE_H
