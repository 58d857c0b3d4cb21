//===- MemorySpec.h - a memory level described in JSON ----------*- C++ -*-===//
//
// `hope-models memory-level --memory-spec=FILE.json`: every field of
// MemoryLevelConfig from a file, so that tests (test/parity/memory_ir.py)
// and users can build any memory level the dialect expresses, not only the
// named configs.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_MODELS_MEMORYSPEC_H
#define HOPE_MODELS_MEMORYSPEC_H

#include "nl/Models/MemoryLevel.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace hope::models {

/// Reads a memory level from JSON text: an object whose keys are
/// MemoryLevelConfig's fields in snake case, each optional (a missing one
/// keeps the default), enumerations spelled as in the nl dialect. Unknown
/// keys and ill-typed values are errors naming the key.
llvm::Expected<mlir::nl::models::MemoryLevelConfig>
parseMemorySpec(llvm::StringRef json);

/// The keys parseMemorySpec reads, for --help.
llvm::StringRef getMemorySpecKeys();

} // namespace hope::models

#endif // HOPE_MODELS_MEMORYSPEC_H
