//===- Module.cpp - loading an artifact -----------------------------------===//

#include "Module.h"
#include "ArtifactFile.h"
#include "HostTarget.h"
#include "Status.h"
#include "cuda/CudaDevice.h"

#include <cstdlib>
#include <dlfcn.h>
#include <algorithm>
#include <filesystem>
#include <thread>

using namespace hope;
using namespace hope::rt;

hope_module::~hope_module() {
  cuda.reset(); // its module on the device refers to the library's code
  if (handle)
    dlclose(handle);
}

Expected<size_t> hope_module::findEntry(const std::string &name) const {
  for (size_t i = 0; i < manifest->entryPoints.size(); ++i)
    if (manifest->entryPoints[i].name == name)
      return i;
  std::vector<std::string> names;
  for (const EntryPoint &entry : manifest->entryPoints)
    names.emplace_back(entry.name);
  return makeError(HOPE_NOT_FOUND, "no entry point '" + name + "' in " + path +
                                       " (entry points: " + join(names) + ")");
}

Error rt::checkThreadCount(int64_t threads, const std::string &source) {
  if (threads >= 0 && threads <= HOPE_MAX_THREADS)
    return Error();
  return makeError(HOPE_INVALID_ARGUMENT,
                   source + ": " + std::to_string(threads) +
                       " threads is out of range (0 for the default, or 1 "
                       "to " +
                       std::to_string(HOPE_MAX_THREADS) + ")");
}

int32_t rt::defaultThreadCount() {
  if (const char *env = getenv("OMP_NUM_THREADS")) {
    long count = std::strtol(env, nullptr, 10);
    if (count >= 1 && count <= HOPE_MAX_THREADS)
      return static_cast<int32_t>(count);
  }
  unsigned cores = std::thread::hardware_concurrency();
  return static_cast<int32_t>(
      std::clamp<unsigned>(cores, 1, HOPE_MAX_THREADS));
}

Error rt::checkOmpNumThreads() {
  const char *env = getenv("OMP_NUM_THREADS");
  if (!env)
    return Error();
  std::string text(env);
  auto bad = [&] {
    return makeError(HOPE_INVALID_ARGUMENT,
                     "OMP_NUM_THREADS='" + text +
                         "' is not a thread count from 1 to " +
                         std::to_string(HOPE_MAX_THREADS) +
                         " (or a comma-separated list of them)");
  };
  size_t start = 0;
  while (true) {
    size_t end = std::min(text.find(',', start), text.size());
    std::string item = text.substr(start, end - start);
    size_t first = item.find_first_not_of(' ');
    size_t last = item.find_last_not_of(' ');
    if (first == std::string::npos)
      return bad();
    item = item.substr(first, last - first + 1);
    if (item.empty() || item.size() > 5 ||
        item.find_first_not_of("0123456789") != std::string::npos)
      return bad();
    long count = std::strtol(item.c_str(), nullptr, 10);
    if (count < 1 || count > HOPE_MAX_THREADS)
      return bad();
    if (end == text.size())
      return Error();
    start = end + 1;
  }
}

Expected<ModuleRef> rt::loadModule(const std::string &givenPath) {
  // dlopen searches the library path for a name without a '/': make it
  // absolute so that the file we validate is the file we load.
  std::error_code code;
  std::string path = std::filesystem::absolute(givenPath, code).string();
  if (code)
    return makeError(HOPE_IO_ERROR,
                     "cannot resolve '" + givenPath + "': " + code.message());

  Expected<ArtifactFile> file = readArtifactFile(givenPath);
  if (!file)
    return file.takeError();
  Expected<std::unique_ptr<Manifest>> manifest = parseManifest(file->manifest);
  if (!manifest)
    return prefixError(manifest.takeError(), givenPath + ": ");
  if (Error error = checkHostTarget(**manifest, givenPath))
    return error;
  // Loading the artifact loads its OpenMP runtime, which reads
  // OMP_NUM_THREADS and aborts on values it cannot use.
  if (Error error = checkOmpNumThreads())
    return error;

  // Every symbol the ABI needs, checked before any code of the artifact runs.
  auto missing = [&](const std::string &symbol, const std::string &what) {
    return makeError(HOPE_NOT_FOUND,
                     givenPath + ": no symbol '" + symbol + "'" + what);
  };
  const bool isCuda = (*manifest)->isCuda();
  if ((*manifest)->kind == "cuda-emulated")
    for (const KernelSpec &kernel : (*manifest)->kernels) {
      std::string symbol = "hope_kernel_" + std::string(kernel.name);
      if (!file->symbols.count(symbol))
        return missing(symbol, " for emulated kernel '" +
                                   std::string(kernel.name) + "'");
    }
  for (const EntryPoint &entry : (*manifest)->entryPoints) {
    std::string symbol = "hope_entry_" + std::string(entry.name);
    if (!file->symbols.count(symbol))
      return missing(symbol,
                     " for entry point '" + std::string(entry.name) + "'");
  }

  ModuleRef module(new hope_module);
  module->path = givenPath;
  module->manifest = std::move(*manifest);
  if (isCuda) {
    // The images come from the file, before any of the artifact's code runs.
    Expected<std::unique_ptr<cuda::CudaArtifact>> images =
        cuda::CudaArtifact::read(*module->manifest, *file);
    if (!images)
      return images.takeError();
    module->cuda = std::move(*images);
  }
  // RTLD_LOCAL: two artifacts export the same names. RTLD_NOW: a missing
  // dependency fails here rather than in the middle of a call.
  module->handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!module->handle) {
    const char *reason = dlerror();
    return makeError(HOPE_INVALID_FORMAT,
                     "cannot load " + givenPath + ": " +
                         (reason ? reason : "dlopen failed"));
  }
  auto resolve = [&](const std::string &name) -> Expected<void *> {
    void *symbol = dlsym(module->handle, name.c_str());
    if (!symbol)
      return missing(name, " (dlsym failed)");
    return symbol;
  };
  if (isCuda)
    module->cuda->attach(module->handle);
  for (const EntryPoint &entry : module->manifest->entryPoints) {
    Expected<void *> fn = resolve("hope_entry_" + std::string(entry.name));
    if (!fn)
      return fn.takeError();
    module->entries.push_back(reinterpret_cast<hope_module::EntryFn>(*fn));
  }
  module->setThreads = reinterpret_cast<hope_module::SetThreadsFn>(
      dlsym(module->handle, "omp_set_num_threads"));
  module->getThreads = reinterpret_cast<hope_module::GetThreadsFn>(
      dlsym(module->handle, "omp_get_max_threads"));
  return module;
}
