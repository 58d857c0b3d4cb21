//===- Tensor.h - tensors: dtype, shape, strides and storage ----*- C++ -*-===//

#ifndef HOPE_RUNTIME_LIB_TENSOR_H
#define HOPE_RUNTIME_LIB_TENSOR_H

#include "hope/runtime.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/IntrusiveRefCntPtr.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <optional>
#include <string>

/// A view of elements of one dtype: `data` is the first element, `strides`
/// count elements. `storage` keeps the memory alive: a runtime allocation,
/// an artifact's output buffer, or nothing when the caller's memory is
/// borrowed.
struct hope_tensor : llvm::ThreadSafeRefCountedBase<hope_tensor> {
  hope_dtype dtype = HOPE_DTYPE_F32;
  llvm::SmallVector<int64_t, 4> shape;
  llvm::SmallVector<int64_t, 4> strides;
  void *data = nullptr;
  std::shared_ptr<void> storage;
};

namespace hope::rt {

using TensorRef = llvm::IntrusiveRefCntPtr<hope_tensor>;

bool isValid(hope_dtype dtype);
/// Bytes per element; 0 for an invalid dtype.
size_t sizeOf(hope_dtype dtype);
/// "f32", "f64", "i64".
llvm::StringRef nameOf(hope_dtype dtype);
std::optional<hope_dtype> parseDType(llvm::StringRef name);

/// "[2, 7, 64]".
std::string formatShape(llvm::ArrayRef<int64_t> shape);

/// The number of elements of `shape`; fails on a negative size or overflow.
llvm::Expected<int64_t> numElements(llvm::ArrayRef<int64_t> shape);
/// The bytes of a dense `shape` of `dtype`; fails like numElements.
llvm::Expected<size_t> byteSize(hope_dtype dtype,
                                llvm::ArrayRef<int64_t> shape);
int64_t numElements(const hope_tensor &tensor);

/// Row-major strides of `shape`.
llvm::SmallVector<int64_t, 4> denseStrides(llvm::ArrayRef<int64_t> shape);
/// Whether `tensor` is laid out dense and row-major.
bool isDense(const hope_tensor &tensor);

/// A new zeroed runtime-owned dense tensor (64-byte aligned).
llvm::Expected<TensorRef> allocateTensor(hope_dtype dtype,
                                         llvm::ArrayRef<int64_t> shape);
/// A view of memory that `storage` keeps alive (null: borrowed).
TensorRef makeView(hope_dtype dtype, llvm::ArrayRef<int64_t> shape,
                   llvm::ArrayRef<int64_t> strides, void *data,
                   std::shared_ptr<void> storage);

/// Copies the elements of `tensor`, dense and row-major, to `dst`, which
/// holds numElements(tensor) * sizeOf(dtype) bytes.
void copyDense(const hope_tensor &tensor, void *dst);

/// `tensor` itself if dense, else a dense copy.
llvm::Expected<TensorRef> toDense(const TensorRef &tensor);

} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_TENSOR_H
