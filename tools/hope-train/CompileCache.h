//===- CompileCache.h - compile a module for training, once -----*- C++ -*-===//
//
// `--module=model.mlir` runs `hope-compile model.mlir --train ...` (the
// hope-compile beside the hope-train binary) and keeps the artifact in a
// folder under a name made from a hash of the module's bytes and the
// options, so that a second run (or a resumed one) reuses it.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_TOOLS_HOPETRAIN_COMPILECACHE_H
#define HOPE_TOOLS_HOPETRAIN_COMPILECACHE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace hope::train {

/// The training options hope-compile --train takes (docs/training.md).
struct CompileOptions {
  std::string optimizer = "adamw";
  double weightDecay = 0.01;
  double clip = 1.0;
  int64_t warmup = 0;
  int64_t totalSteps = 0;
};

/// hope-compile's arguments after the module's path, before "-o".
std::vector<std::string> getTrainingFlags(const CompileOptions &options);

/// The cached artifact's file name for `module`'s bytes and `options`:
/// "<stem>-train-<xxh3-64 hex>.so".
std::string getCachedArtifactName(llvm::StringRef modulePath,
                                  llvm::StringRef moduleBytes,
                                  const CompileOptions &options);

/// The artifact for `modulePath` in `cacheDir`, compiled with `compiler`
/// unless it is there already; `log` hears what happens.
llvm::Expected<std::string> compileForTraining(llvm::StringRef compiler,
                                               llvm::StringRef modulePath,
                                               const CompileOptions &options,
                                               llvm::StringRef cacheDir,
                                               llvm::raw_ostream &log);

} // namespace hope::train

#endif // HOPE_TOOLS_HOPETRAIN_COMPILECACHE_H
