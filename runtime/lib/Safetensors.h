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

#include "TensorMap.h"

#include "llvm/Support/MemoryBuffer.h"

#include <memory>
#include <vector>

namespace hope::rt {

/// One tensor of a file, validated: `bytes` holds exactly the bytes its
/// dtype and shape need.
struct SafetensorsEntry {
  std::string name;
  std::string dtype; // as the file spells it: "F32", "BF16", ...
  llvm::SmallVector<int64_t, 4> shape;
  llvm::StringRef bytes;
};

/// A safetensors file whose header and layout have been validated; tensors
/// are read from it one by one.
class SafetensorsFile {
public:
  /// Reads and validates the file at `path`.
  static llvm::Expected<SafetensorsFile> open(llvm::StringRef path);
  /// Validates `buffer` (named after its identifier in messages).
  static llvm::Expected<SafetensorsFile>
  parse(std::unique_ptr<llvm::MemoryBuffer> buffer);

  llvm::StringRef path() const { return buffer->getBufferIdentifier(); }
  /// Every tensor, in the order of their data.
  llvm::ArrayRef<SafetensorsEntry> entries() const { return tensors; }
  /// The tensor called `name`, or null.
  const SafetensorsEntry *find(llvm::StringRef name) const;
  /// A runtime-owned copy of `entry`; fails if the runtime lacks its dtype.
  llvm::Expected<TensorRef> load(const SafetensorsEntry &entry) const;

private:
  std::unique_ptr<llvm::MemoryBuffer> buffer;
  std::vector<SafetensorsEntry> tensors;
};

/// Every tensor of the file at `path`.
llvm::Expected<TensorMapRef> readSafetensors(llvm::StringRef path);

/// Writes every tensor of `map`, in order, to `path` (atomically).
llvm::Error writeSafetensors(llvm::StringRef path, const hope_tensor_map &map);

} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_SAFETENSORS_H
