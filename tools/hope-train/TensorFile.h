//===- TensorFile.h - safetensors with metadata, checksummed ----*- C++ -*-===//
//
// hope-train's checkpoints and exports are safetensors files (the format
// hope-run reads: an 8-byte little-endian header length, a JSON header, the
// data). Unlike the runtime's writer, this one fills "__metadata__" and adds
// "checksum": xxh3-64 over every tensor's name, dtype and shape, every other
// metadata entry and the data, so that a flipped byte anywhere in a file
// read back is an error naming the file.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_TOOLS_HOPETRAIN_TENSORFILE_H
#define HOPE_TOOLS_HOPETRAIN_TENSORFILE_H

#include "hope/runtime.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <map>
#include <string>
#include <vector>

namespace hope::train {

/// Bytes per element of f32, f64 and i64; 0 for any other dtype.
size_t getElementSize(hope_dtype dtype);

/// A tensor's description and bytes, row-major, borrowed.
struct TensorView {
  llvm::StringRef name;
  hope_dtype dtype;
  llvm::ArrayRef<int64_t> shape;
  llvm::ArrayRef<char> bytes;
};

/// A tensor read from a file.
struct TensorData {
  std::string name;
  hope_dtype dtype;
  std::vector<int64_t> shape;
  std::vector<char> bytes;
  TensorView view() const { return {name, dtype, shape, bytes}; }
};

using Metadata = std::map<std::string, std::string>;

/// The file's bytes: the tensors in order, `metadata` plus "checksum".
std::string formatTensorFile(llvm::ArrayRef<TensorView> tensors,
                             const Metadata &metadata);

/// Writes formatTensorFile's bytes to `path` atomically (AtomicFile.h).
llvm::Error writeTensorFile(
    llvm::StringRef path, llvm::ArrayRef<TensorView> tensors,
    const Metadata &metadata,
    llvm::function_ref<llvm::Error()> beforeRename = nullptr);

struct TensorFile {
  std::vector<TensorData> tensors; // in the order of their data
  Metadata metadata;               // "checksum" included
  const TensorData *find(llvm::StringRef name) const;
};

/// Reads and validates the file at `path`: the layout, and the checksum
/// when `requireChecksum` (a file without one is then an error too). Every
/// error names the file.
llvm::Expected<TensorFile> readTensorFile(llvm::StringRef path,
                                          bool requireChecksum);

} // namespace hope::train

#endif // HOPE_TOOLS_HOPETRAIN_TENSORFILE_H
