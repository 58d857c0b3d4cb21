//===- CudaDevice.cpp - opening the device, loading an artifact's module --===//

#include "CudaDevice.h"
#include "ArtifactFile.h"
#include "EmulatedDriver.h"
#include "Status.h"

#include <cstring>
#include <map>
#include <optional>

using namespace hope;
using namespace hope::rt;
using namespace hope::rt::cuda;

Expected<std::shared_ptr<CudaDevice>> CudaDevice::open(bool emulated) {
  // One per driver: sessions share the device and its primary context.
  static std::mutex mutex;
  static std::map<const DriverApi *, std::shared_ptr<CudaDevice>> opened;
  std::lock_guard<std::mutex> lock(mutex);
  const DriverApi *driver = &emulatedDriver();
  if (!emulated) {
    Expected<const DriverApi *> loaded = loadDriver();
    if (!loaded)
      return loaded.takeError();
    driver = *loaded;
  }
  if (auto known = opened.find(driver); known != opened.end())
    return known->second;

  auto device = std::make_shared<CudaDevice>(*driver);
  const DriverApi &api = *driver;
  if (Error error = api.check(api.cuInit(0), "cannot initialise the CUDA "
                                             "driver (cuInit)"))
    return error;
  api.cuDriverGetVersion(&device->driverVersion);
  int count = 0;
  if (Error error = api.check(api.cuDeviceGetCount(&count),
                              "cannot count CUDA devices"))
    return error;
  if (count == 0)
    return makeError(HOPE_UNSUPPORTED,
                     "no CUDA device: the NVIDIA driver is installed but "
                     "sees no GPU (CUDA_VISIBLE_DEVICES?)");
  if (Error error = api.check(api.cuDeviceGet(&device->device, 0),
                              "cannot open CUDA device 0"))
    return error;
  char name[256] = {};
  if (api.cuDeviceGetName(name, sizeof(name), device->device) == CUDA_SUCCESS)
    device->name = name;
  auto attribute = [&](int which, int &value, const char *what) {
    return api.check(api.cuDeviceGetAttribute(&value, which, device->device),
                     std::string("cannot read the device's ") + what);
  };
  if (Error error = attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                              device->major, "compute capability"))
    return error;
  if (Error error = attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
                              device->minor, "compute capability"))
    return error;
  if (Error error =
          attribute(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
                    device->maxSharedBytes, "shared memory per block"))
    return error;
  if (Error error = api.check(
          api.cuDevicePrimaryCtxRetain(&device->context, device->device),
          "cannot create a context on " + device->describe()))
    return error;
  opened[driver] = device;
  return device;
}

Error CudaDevice::makeCurrent() const {
  return driver.check(driver.cuCtxSetCurrent(context),
                      "cannot make the context of " + describe() +
                          " current");
}

std::string CudaDevice::chip() const {
  if (driver.emulated)
    return "emulated";
  return "sm_" + std::to_string(major) + std::to_string(minor);
}

std::string CudaDevice::describe() const {
  if (driver.emulated)
    return name;
  return (name.empty() ? std::string("CUDA device 0") : name) + " (" + chip() +
         ", driver " + std::to_string(driverVersion / 1000) + "." +
         std::to_string(driverVersion % 1000 / 10) + ")";
}

LoadedModule::~LoadedModule() {
  if (module && device->makeCurrent().code() == HOPE_OK)
    device->driver.cuModuleUnload(module);
}

Expected<std::unique_ptr<CudaArtifact>>
CudaArtifact::read(const Manifest &manifest, const ArtifactFile &file) {
  std::unique_ptr<CudaArtifact> artifact(new CudaArtifact(manifest));
  artifact->path = file.file.name();
  for (size_t i = 0; i < manifest.images.size(); ++i) {
    const ImageSpec &spec = manifest.images[i];
    Expected<std::string_view> bytes = file.symbolBytes(
        std::string(spec.symbol), spec.bytes,
        "image " + std::to_string(i) + ", " + std::string(spec.format) +
            (spec.chip.empty() ? "" : " " + std::string(spec.chip)));
    if (!bytes)
      return bytes.takeError();
    // std::string keeps a NUL after the bytes: PTX is loaded as a C string.
    artifact->images.emplace_back(*bytes);
  }
  return artifact;
}

namespace {
/// A chip name's compute capability: "sm_90" -> (9, 0), "sm_100" -> (10,
/// 0); whether it is architecture-specific ("sm_90a": runs only there).
struct Capability {
  int major, minor;
  bool specific;
};
std::optional<Capability> capabilityOf(std::string_view chip) {
  if (chip.substr(0, 3) != "sm_")
    return std::nullopt;
  std::string_view digits = chip.substr(3);
  bool specific = !digits.empty() && (digits.back() == 'a' || digits.back() == 'f');
  if (specific)
    digits.remove_suffix(1);
  if (digits.size() < 2 || digits.size() > 3)
    return std::nullopt;
  int value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9')
      return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return Capability{value / 10, value % 10, specific};
}
} // namespace

std::optional<size_t> cuda::selectImage(const std::vector<ImageSpec> &specs,
                                        int major, int minor) {
  std::optional<size_t> cubin, ptx;
  auto newer = [&](std::optional<size_t> current, const Capability &given) {
    if (!current)
      return true;
    Capability old = *capabilityOf(specs[*current].chip);
    return std::make_pair(given.major, given.minor) >
           std::make_pair(old.major, old.minor);
  };
  for (size_t i = 0; i < specs.size(); ++i) {
    std::optional<Capability> cap = capabilityOf(specs[i].chip);
    if (!cap)
      continue;
    bool fits = cap->specific ? cap->major == major && cap->minor == minor
                              : std::make_pair(cap->major, cap->minor) <=
                                    std::make_pair(major, minor);
    if (!fits)
      continue;
    // A cubin runs on devices of its major version only.
    if (specs[i].format == "cubin" && cap->major == major && newer(cubin, *cap))
      cubin = i;
    if (specs[i].format == "ptx" && newer(ptx, *cap))
      ptx = i;
  }
  return cubin ? cubin : ptx;
}

Expected<std::pair<size_t, std::string>>
CudaArtifact::choose(const CudaDevice &device) {
  const std::vector<ImageSpec> &specs = manifest.images;
  if (device.driver.emulated) {
    if (specs.front().format != "emulated")
      return makeError(HOPE_UNSUPPORTED,
                       path + ": has no emulated image (compiled for 'cuda', "
                              "not 'cuda-emulated')");
    return std::make_pair(size_t(0), std::string("emulated"));
  }
  if (specs.front().format == "emulated")
    return makeError(HOPE_UNSUPPORTED,
                     path + ": compiled for 'cuda-emulated': its kernels run "
                            "only on the CPU stand-in, not on " +
                         device.describe());
  if (std::optional<size_t> chosen =
          selectImage(specs, device.major, device.minor)) {
    const ImageSpec &spec = specs[*chosen];
    std::string how = std::string(spec.format) + " " + std::string(spec.chip);
    if (spec.format == "ptx")
      how += " (JIT for " + device.chip() + ")";
    return std::make_pair(*chosen, how);
  }
  std::vector<std::string> have;
  for (const ImageSpec &spec : specs)
    have.push_back(std::string(spec.format) + " " + std::string(spec.chip));
  return makeError(HOPE_UNSUPPORTED,
                   path + ": no image runs on " + device.describe() +
                       ": the artifact has " + join(have) +
                       " (compile it with --gpu=" + device.chip() + ")");
}

Expected<std::shared_ptr<LoadedModule>>
CudaArtifact::load(const std::shared_ptr<CudaDevice> &device) {
  std::lock_guard<std::mutex> lock(mutex);
  if (loaded && loaded->device == device)
    return loaded;
  Expected<std::pair<size_t, std::string>> chosen = choose(*device);
  if (!chosen)
    return chosen.takeError();
  if (Error error = device->makeCurrent())
    return error;
  const DriverApi &api = device->driver;

  auto module = std::make_shared<LoadedModule>();
  module->device = device;
  module->image = chosen->second;
  EmulatedImage emulated{};
  std::memcpy(emulated.magic, EmulatedImage::kMagic, sizeof(emulated.magic));
  emulated.library = library;
  const void *image = api.emulated
                          ? static_cast<const void *>(&emulated)
                          : static_cast<const void *>(
                                images[chosen->first].c_str());
  // The JIT's error log, for PTX the driver cannot compile.
  char log[4096] = {};
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {log, reinterpret_cast<void *>(uintptr_t(sizeof(log)))};
  CUresult result =
      api.cuModuleLoadDataEx(&module->module, image, 2, options, values);
  if (result != CUDA_SUCCESS) {
    module->module = nullptr;
    std::string details(log, strnlen(log, sizeof(log)));
    for (char &c : details)
      if (c == '\n')
        c = ' ';
    return makeError(HOPE_UNSUPPORTED,
                     path + ": cannot load its " + module->image + " on " +
                         device->describe() + ": " + api.describe(result) +
                         (details.empty() ? "" : ": " + details));
  }
  for (const KernelSpec &kernel : manifest.kernels) {
    CUfunction function = nullptr;
    std::string name(kernel.name);
    if (Error error = api.check(
            api.cuModuleGetFunction(&function, module->module, name.c_str()),
            path + ": kernel '" + name + "' of its " + module->image))
      return error;
    uint32_t allowed = kDefaultSharedBytes;
    if (kernel.sharedBytes > kDefaultSharedBytes) {
      if (kernel.sharedBytes > uint32_t(device->maxSharedBytes))
        return makeError(HOPE_UNSUPPORTED,
                         path + ": kernel '" + name + "' needs " +
                             std::to_string(kernel.sharedBytes) +
                             " bytes of shared memory per block; " +
                             device->describe() + " allows " +
                             std::to_string(device->maxSharedBytes));
      if (Error error = api.check(
              api.cuFuncSetAttribute(
                  function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                  int(kernel.sharedBytes)),
              path + ": kernel '" + name + "': cannot allow " +
                  std::to_string(kernel.sharedBytes) +
                  " bytes of shared memory"))
        return error;
      allowed = kernel.sharedBytes;
    }
    module->functions.push_back(function);
    module->sharedAllowed.push_back(allowed);
  }
  loaded = module;
  return module;
}
