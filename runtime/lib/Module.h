//===- Module.h - a loaded artifact -----------------------------*- C++ -*-===//

#ifndef HOPE_RUNTIME_LIB_MODULE_H
#define HOPE_RUNTIME_LIB_MODULE_H

#include "Manifest.h"
#include "hope/artifact.h"
#include "Ref.h"

#include <memory>
#include <string>
#include <vector>

namespace hope::rt::cuda {
class CudaArtifact;
} // namespace hope::rt::cuda

/// An artifact loaded with dlopen, with its validated manifest and resolved
/// entry points. It is unloaded when the last reference goes: sessions hold
/// one.
struct hope_module : hope::rt::RefCounted<hope_module> {
  /// Returns 0, or the 1-based number of the precondition the call broke.
  using EntryFn = hope_entry_fn;
  using SetThreadsFn = void (*)(int);
  using GetThreadsFn = int (*)();

  ~hope_module();

  std::string path;
  std::unique_ptr<hope::rt::Manifest> manifest;
  void *handle = nullptr;
  /// One per manifest entry point, in its order.
  std::vector<EntryFn> entries;
  /// The OpenMP runtime the artifact uses, if it has parallel loops
  /// (found through its own dependencies); else null.
  SetThreadsFn setThreads = nullptr;
  GetThreadsFn getThreads = nullptr;
  /// A CUDA artifact's images and its module on the device; else null.
  std::unique_ptr<hope::rt::cuda::CudaArtifact> cuda;

  /// The index of the entry point `name`; NOT_FOUND names the choices.
  hope::Expected<size_t> findEntry(const std::string &name) const;
};

namespace hope::rt {

using ModuleRef = Ref<hope_module>;

/// Loads the artifact at `path` (see hope_module_load).
Expected<ModuleRef> loadModule(const std::string &path);

/// Checks a thread count given as `source` (e.g. "--num-threads"): 0 (the
/// default) or 1 to HOPE_MAX_THREADS.
Error checkThreadCount(int64_t threads, const std::string &source);

/// Checks OMP_NUM_THREADS, if set, before OpenMP reads it: a list of counts
/// (OpenMP's nesting syntax), each 1 to HOPE_MAX_THREADS.
Error checkOmpNumThreads();
/// The thread count a session with `threads = 0` runs with: the first count
/// of OMP_NUM_THREADS (checked when the module was loaded), else one per
/// core. Set explicitly on each call, since OpenMP keeps the last count set
/// on an OS thread, whichever session set it.
int32_t defaultThreadCount();

} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_MODULE_H
