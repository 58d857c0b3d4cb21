//===- Manifest.h - an artifact's manifest, validated -----------*- C++ -*-===//
//
// The JSON manifest of docs/artifact-abi.md. Strings live in the manifest's
// allocator, NUL-terminated, so the C API can hand out `const char *`s that
// live as long as the module.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_RUNTIME_LIB_MANIFEST_H
#define HOPE_RUNTIME_LIB_MANIFEST_H

#include "hope/runtime.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Allocator.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace hope::rt {

/// One parameter of an entry point.
struct TensorSpec {
  llvm::StringRef name;
  hope_role role;
  hope_dtype dtype;
  /// Sizes; -1 where symbolic.
  llvm::SmallVector<int64_t, 4> shape;
  /// Names of symbolic sizes; null where static.
  llvm::SmallVector<const char *, 4> dimNames;

  /// "[B, T, 384]".
  std::string formatShape() const;
  /// "input 'x'", "weight 'w'", "state 's'", "output 'y'".
  std::string describe() const;
};

/// A relation between inputs the artifact checks before it runs an entry
/// point (docs/artifact-abi.md): its entry returns the 1-based number of the
/// first that fails.
struct Precondition {
  llvm::StringRef message;
  /// The inputs the condition reads.
  std::vector<llvm::StringRef> inputs;
};

struct EntryPoint {
  llvm::StringRef name;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  std::vector<Precondition> preconditions;
};

/// The manifest format this runtime reads (2: entries return a status and
/// may list preconditions).
constexpr int64_t kManifestVersion = 2;

struct Manifest {
  std::string json;
  llvm::StringRef model;
  llvm::StringRef triple;
  llvm::StringRef cpu;
  std::vector<llvm::StringRef> features;
  std::vector<EntryPoint> entryPoints;
  llvm::BumpPtrAllocator strings;

  /// The entry point called `name`, or null.
  const EntryPoint *find(llvm::StringRef name) const;
};

/// "input", "weight", "state", "output".
llvm::StringRef nameOf(hope_role role);

/// Parses and validates `json`. Every missing or ill-typed field is an error
/// naming its path (e.g. manifest.entry_points[0].inputs[1].dtype); errors
/// have no file name prefix.
llvm::Expected<std::unique_ptr<Manifest>> parseManifest(llvm::StringRef json);

} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_MANIFEST_H
