//===- Safetensors.h - the safetensors format: reader, writer ---*- C++ -*-===//
//
// https://github.com/huggingface/safetensors: an 8-byte little-endian header
// length, a JSON header mapping each tensor's name to its dtype, shape and
// data_offsets (relative to the data after the header), an optional
// "__metadata__" map of strings, then the data. Like the reference
// implementation, the reader requires the tensors to cover the data exactly:
// no overlaps, no holes, nothing after the last one.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_RUNTIME_LIB_SAFETENSORS_H
#define HOPE_RUNTIME_LIB_SAFETENSORS_H

#include "File.h"
#include "TensorMap.h"

#include <memory>
#include <vector>

namespace hope::rt {

/// One tensor of a file, validated: `bytes` holds exactly the bytes its
/// dtype and shape need.
struct SafetensorsEntry {
  std::string name;
  std::string dtype; // as the file spells it: "F32", "BF16", ...
  std::vector<int64_t> shape;
  std::string_view bytes;
};

/// A safetensors file whose header and layout have been validated; tensors
/// are read from it one by one.
class SafetensorsFile {
public:
  /// Reads and validates the file at `path`.
  static Expected<SafetensorsFile> open(const std::string &path);
  /// Validates `file` (named after it in messages).
  static Expected<SafetensorsFile> parse(FileBytes file);

  const std::string &path() const { return file.name(); }
  /// Every tensor, in the order of their data.
  const std::vector<SafetensorsEntry> &entries() const { return tensors; }
  /// The tensor called `name`, or null.
  const SafetensorsEntry *find(std::string_view name) const;
  /// A runtime-owned copy of `entry`; fails if the runtime lacks its dtype.
  Expected<TensorRef> load(const SafetensorsEntry &entry) const;

private:
  FileBytes file;
  std::vector<SafetensorsEntry> tensors;
};

/// Every tensor of the file at `path`.
Expected<TensorMapRef> readSafetensors(const std::string &path);

/// Writes every tensor of `map`, in order, to `path` (atomically).
Error writeSafetensors(const std::string &path, const hope_tensor_map &map);

} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_SAFETENSORS_H
