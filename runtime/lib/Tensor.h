//===- Tensor.h - tensors: dtype, shape, strides and storage ----*- C++ -*-===//

#ifndef HOPE_RUNTIME_LIB_TENSOR_H
#define HOPE_RUNTIME_LIB_TENSOR_H

#include "DeviceMemory.h"
#include "Ref.h"

#include "hope/runtime.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// A view of elements of one dtype: `data` is the first element, `strides`
/// count elements. `storage` keeps the memory alive: a runtime allocation,
/// an artifact's output buffer, or nothing when the caller's memory is
/// borrowed (which the runtime never writes through).
struct hope_tensor : hope::rt::RefCounted<hope_tensor> {
  hope_dtype dtype = HOPE_DTYPE_F32;
  hope_device device = HOPE_DEVICE_HOST;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;
  void *data = nullptr;
  std::shared_ptr<void> storage;
  /// The device memory `data` lies in; null on the host.
  std::shared_ptr<hope::rt::DeviceMemory> memory;
};

namespace hope::rt {

using TensorRef = Ref<hope_tensor>;
using Shape = Span<int64_t>;

/// Whether this runtime implements `dtype` (reserved values are not).
bool isValid(hope_dtype dtype);
/// Whether `dtype` is a value the ABI names (implemented or reserved).
bool isKnown(hope_dtype dtype);
/// Bytes per element; 0 for an invalid dtype.
size_t sizeOf(hope_dtype dtype);
/// "f32", "f64", "i64" (and the reserved "bool", "i32", "f16", "bf16").
std::string_view nameOf(hope_dtype dtype);
/// "the host", "the CUDA device".
std::string_view nameOf(hope_device device);
/// An implemented dtype by name.
std::optional<hope_dtype> parseDType(std::string_view name);

/// "[2, 7, 64]".
std::string formatShape(Shape shape);

/// The number of elements of `shape`; fails on a negative size or overflow.
Expected<int64_t> numElements(Shape shape);
/// The bytes of a dense `shape` of `dtype`; fails like numElements.
Expected<size_t> byteSize(hope_dtype dtype, Shape shape);
int64_t numElements(const hope_tensor &tensor);

/// Row-major strides of `shape`.
std::vector<int64_t> denseStrides(Shape shape);
/// Whether `tensor` is laid out dense and row-major.
bool isDense(const hope_tensor &tensor);

/// A new zeroed runtime-owned dense tensor (64-byte aligned), from
/// `allocator` (null: aligned_alloc).
Expected<TensorRef> allocateTensor(hope_dtype dtype, Shape shape,
                                   const hope_allocator *allocator = nullptr);
/// A view of memory that `storage` keeps alive (null: borrowed).
TensorRef makeView(hope_dtype dtype, Shape shape, Shape strides, void *data,
                   std::shared_ptr<void> storage);

/// Copies the elements of `tensor`, dense and row-major, to `dst`, which
/// holds numElements(tensor) * sizeOf(dtype) bytes.
void copyDense(const hope_tensor &tensor, void *dst);

/// `tensor` itself if dense, else a dense copy from `allocator`.
Expected<TensorRef> toDense(const TensorRef &tensor,
                            const hope_allocator *allocator = nullptr);

} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_TENSOR_H
