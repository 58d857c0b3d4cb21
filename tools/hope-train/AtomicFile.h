//===- AtomicFile.h - replace a file so that a crash loses nothing -*- C++ -*-===//
//
// The bytes go to "<path>.tmp" first, which is flushed to disk (fsync) and
// then renamed over `path`, and the folder is flushed so that the rename
// itself survives a power cut. A process killed at any point leaves either
// the old file or the new one at `path`, never a mix.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_TOOLS_HOPETRAIN_ATOMICFILE_H
#define HOPE_TOOLS_HOPETRAIN_ATOMICFILE_H

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace hope::train {

/// The temporary file writeFileAtomically uses for `path`.
std::string getTemporaryPath(llvm::StringRef path);

/// Writes `bytes` to `path` atomically. `beforeRename` runs once the
/// temporary file is complete and flushed; an error from it stops the write
/// there (tests use it to interrupt a save).
llvm::Error writeFileAtomically(
    llvm::StringRef path, llvm::StringRef bytes,
    llvm::function_ref<llvm::Error()> beforeRename = nullptr);

} // namespace hope::train

#endif // HOPE_TOOLS_HOPETRAIN_ATOMICFILE_H
