//===- Module.h - a loaded artifact -----------------------------*- C++ -*-===//

#ifndef HOPE_RUNTIME_LIB_MODULE_H
#define HOPE_RUNTIME_LIB_MODULE_H

#include "Manifest.h"

#include "llvm/ADT/IntrusiveRefCntPtr.h"

#include <memory>
#include <string>
#include <vector>

/// An artifact loaded with dlopen, with its validated manifest and resolved
/// entry points. It is unloaded when the last reference goes: sessions and
/// output buffers (freed by its hope_free) hold one.
struct hope_module : llvm::ThreadSafeRefCountedBase<hope_module> {
  /// Returns 0, or the 1-based number of the precondition the call broke.
  using EntryFn = int32_t (*)(void **args);
  using FreeFn = void (*)(void *buffer);

  ~hope_module();

  std::string path;
  std::unique_ptr<hope::rt::Manifest> manifest;
  void *handle = nullptr;
  /// One per manifest entry point, in its order.
  std::vector<EntryFn> entries;
  FreeFn freeBuffer = nullptr;

  /// Threads for the artifact's OpenMP loops (0: the default).
  llvm::Error setThreads(int32_t threads);
  /// Threads the artifact's OpenMP loops use now (1 without such loops).
  int32_t getThreads() const;

  /// The index of the entry point `name`; NOT_FOUND names the choices.
  llvm::Expected<size_t> findEntry(llvm::StringRef name) const;
};

namespace hope::rt {

using ModuleRef = llvm::IntrusiveRefCntPtr<hope_module>;

/// Loads the artifact at `path` (see hope_module_load).
llvm::Expected<ModuleRef> loadModule(llvm::StringRef path);

} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_MODULE_H
