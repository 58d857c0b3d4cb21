//===- Manifest.h - an artifact's manifest, validated -----------*- C++ -*-===//
//
// The JSON manifest of docs/artifact-abi.md. Strings are kept in a store
// that never moves them, NUL-terminated, so the C API can hand out
// `const char *`s that live as long as the module.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_RUNTIME_LIB_MANIFEST_H
#define HOPE_RUNTIME_LIB_MANIFEST_H

#include "hope/runtime.hpp"

#include <nlohmann/json_fwd.hpp>

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hope::rt {

/// One parameter of an entry point.
struct TensorSpec {
  std::string_view name;
  hope_role role;
  hope_dtype dtype;
  /// Sizes; -1 where symbolic.
  std::vector<int64_t> shape;
  /// Names of symbolic sizes; null where static.
  std::vector<const char *> dimNames;
  /// A weight the entry point writes in place (`"updated": true`): it must
  /// be bound HOPE_WEIGHT_MUTABLE and dense.
  bool updated = false;

  /// "[B, T, 384]".
  std::string formatShape() const;
  /// "input 'x'", "weight 'w'", "state 's'", "output 'y'".
  std::string describe() const;
};

/// A relation between inputs the artifact checks before it runs an entry
/// point (docs/artifact-abi.md): its entry returns the 1-based number of the
/// first that fails.
struct Precondition {
  std::string_view message;
  /// The inputs the condition reads.
  std::vector<std::string_view> inputs;
};

struct EntryPoint {
  std::string_view name;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  std::vector<Precondition> preconditions;
};

/// The manifest format this runtime reads (3: the target names its kind;
/// entries return a status and may list preconditions; 4: entries take the
/// service table, which the manifest's `services` versions).
constexpr int64_t kManifestVersion = 4;

/// A GPU kernel of a CUDA artifact: its index in the manifest's list is the
/// kernel number the host code passes to the service table's `launch`.
struct KernelSpec {
  std::string_view name;
  uint32_t block[3] = {1, 1, 1};
  uint32_t sharedBytes = 0;
};

/// A device image of a CUDA artifact (one module holding every kernel):
/// the bytes of the exported data symbol `symbol`.
struct ImageSpec {
  /// "cubin", "ptx" or "emulated".
  std::string_view format;
  /// "sm_90"; empty for "emulated".
  std::string_view chip;
  std::string_view symbol;
  uint64_t bytes = 0;
};

/// Whether `kind` is a target kind of the CUDA backend.
inline bool isCudaKind(std::string_view kind) {
  return kind == "cuda" || kind == "cuda-emulated";
}

struct Manifest {
  std::string json;
  /// The target's kind: "cpu" is the only one this runtime runs.
  std::string_view kind;
  std::string_view model;
  /// The service table version the artifact needs (hope/artifact.h).
  int64_t services = 0;
  std::string_view triple;
  std::string_view cpu;
  std::vector<std::string_view> features;
  std::vector<EntryPoint> entryPoints;

  /// CUDA artifacts only (cuda/CudaManifest.cpp): the chips it was compiled
  /// for, the PTX ISA version, its kernels and its images.
  std::vector<std::string_view> chips;
  std::string_view ptxVersion;
  std::vector<KernelSpec> kernels;
  std::vector<ImageSpec> images;
  bool isCuda() const { return isCudaKind(kind); }

  /// The entry point called `name`, or null.
  const EntryPoint *find(std::string_view name) const;

  /// A NUL-terminated copy of `text` that lives as long as the manifest.
  std::string_view save(std::string text) {
    return strings.emplace_back(std::move(text));
  }

private:
  std::deque<std::string> strings;
};

/// "input", "weight", "state", "output".
std::string_view nameOf(hope_role role);

/// Parses and validates `json`. Every missing or ill-typed field is an error
/// naming its path (e.g. manifest.entry_points[0].inputs[1].dtype); errors
/// have no file name prefix.
Expected<std::unique_ptr<Manifest>> parseManifest(std::string_view json);

class JsonReader;
/// Reads and checks the fields of a CUDA artifact's manifest `root` into
/// `manifest` (cuda/CudaManifest.cpp); errors like parseManifest's.
Error parseCudaManifest(JsonReader &reader, const nlohmann::json &root,
                        Manifest &manifest);

} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_MANIFEST_H
