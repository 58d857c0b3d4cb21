//===- Module.cpp - loading an artifact -----------------------------------===//

#include "Module.h"
#include "ArtifactFile.h"
#include "HostTarget.h"
#include "Status.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"

#include <cstdlib>
#include <dlfcn.h>
#include <thread>

using namespace hope;
using namespace hope::rt;

hope_module::~hope_module() {
  if (handle)
    dlclose(handle);
}

llvm::Error hope_module::setThreads(int32_t threads) {
  // The artifact's OpenMP runtime, if it has parallel loops: found through
  // the artifact's own dependencies.
  using SetThreads = void (*)(int);
  auto set = reinterpret_cast<SetThreads>(dlsym(handle, "omp_set_num_threads"));
  if (!set)
    return llvm::Error::success();
  if (threads == 0) {
    // The default OpenMP starts with: OMP_NUM_THREADS, else every core.
    threads = static_cast<int32_t>(std::thread::hardware_concurrency());
    if (const char *env = getenv("OMP_NUM_THREADS"))
      llvm::StringRef(env).getAsInteger(10, threads);
  }
  set(threads);
  return llvm::Error::success();
}

int32_t hope_module::getThreads() const {
  using GetThreads = int (*)();
  auto get =
      reinterpret_cast<GetThreads>(dlsym(handle, "omp_get_max_threads"));
  return get ? get() : 1;
}

llvm::Expected<size_t> hope_module::findEntry(llvm::StringRef name) const {
  for (size_t i = 0; i < manifest->entryPoints.size(); ++i)
    if (manifest->entryPoints[i].name == name)
      return i;
  llvm::SmallVector<llvm::StringRef> names;
  for (const EntryPoint &entry : manifest->entryPoints)
    names.push_back(entry.name);
  return makeError(HOPE_NOT_FOUND,
                   "no entry point '" + name + "' in " + path +
                       " (entry points: " + llvm::join(names, ", ") + ")");
}

llvm::Expected<ModuleRef> rt::loadModule(llvm::StringRef givenPath) {
  // dlopen searches the library path for a name without a '/': make it
  // absolute so that the file we validate is the file we load.
  llvm::SmallString<256> path(givenPath);
  if (std::error_code error = llvm::sys::fs::make_absolute(path))
    return makeError(HOPE_IO_ERROR,
                     "cannot resolve '" + givenPath + "': " + error.message());

  llvm::Expected<ArtifactFile> file = readArtifactFile(givenPath);
  if (!file)
    return file.takeError();
  llvm::Expected<std::unique_ptr<Manifest>> manifest =
      parseManifest(file->manifest);
  if (!manifest)
    return prefixError(manifest.takeError(), givenPath + ": ");
  if (auto error = checkHostTarget(**manifest, givenPath))
    return std::move(error);

  // Every symbol the ABI needs, checked before any code of the artifact runs.
  auto missing = [&](llvm::StringRef symbol, const llvm::Twine &what) {
    return makeError(HOPE_NOT_FOUND,
                     givenPath + ": no symbol '" + symbol + "'" + what);
  };
  if (!file->symbols.contains("hope_free"))
    return missing("hope_free", " (frees the outputs)");
  for (const EntryPoint &entry : (*manifest)->entryPoints)
    if (!file->symbols.contains(("hope_entry_" + entry.name).str()))
      return missing(("hope_entry_" + entry.name).str(),
                     " for entry point '" + entry.name + "'");

  ModuleRef module(new hope_module);
  module->path = givenPath.str();
  module->manifest = std::move(*manifest);
  // RTLD_LOCAL: two artifacts export the same names. RTLD_NOW: a missing
  // dependency fails here rather than in the middle of a call.
  module->handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!module->handle) {
    const char *reason = dlerror();
    return makeError(HOPE_INVALID_FORMAT,
                     "cannot load " + givenPath + ": " +
                         (reason ? reason : "dlopen failed"));
  }
  auto resolve = [&](llvm::StringRef name) -> llvm::Expected<void *> {
    void *symbol = dlsym(module->handle, name.str().c_str());
    if (!symbol)
      return missing(name, " (dlsym failed)");
    return symbol;
  };
  llvm::Expected<void *> freeBuffer = resolve("hope_free");
  if (!freeBuffer)
    return freeBuffer.takeError();
  module->freeBuffer = reinterpret_cast<hope_module::FreeFn>(*freeBuffer);
  for (const EntryPoint &entry : module->manifest->entryPoints) {
    llvm::Expected<void *> fn = resolve(("hope_entry_" + entry.name).str());
    if (!fn)
      return fn.takeError();
    module->entries.push_back(reinterpret_cast<hope_module::EntryFn>(*fn));
  }
  return module;
}
