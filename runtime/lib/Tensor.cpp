//===- Tensor.cpp - tensor creation, layout and copies --------------------===//

#include "Tensor.h"
#include "Status.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

using namespace hope;
using namespace hope::rt;

bool rt::isValid(hope_dtype dtype) { return sizeOf(dtype) != 0; }

bool rt::isKnown(hope_dtype dtype) {
  return dtype >= HOPE_DTYPE_F32 && dtype <= HOPE_DTYPE_BF16;
}

size_t rt::sizeOf(hope_dtype dtype) {
  switch (dtype) {
  case HOPE_DTYPE_F32:
    return 4;
  case HOPE_DTYPE_F64:
  case HOPE_DTYPE_I64:
    return 8;
  default:
    return 0; // reserved, or from outside the enumeration
  }
}

std::string_view rt::nameOf(hope_dtype dtype) {
  switch (dtype) {
  case HOPE_DTYPE_F32:
    return "f32";
  case HOPE_DTYPE_F64:
    return "f64";
  case HOPE_DTYPE_I64:
    return "i64";
  case HOPE_DTYPE_BOOL:
    return "bool";
  case HOPE_DTYPE_I32:
    return "i32";
  case HOPE_DTYPE_F16:
    return "f16";
  case HOPE_DTYPE_BF16:
    return "bf16";
  }
  return "<invalid dtype>";
}

std::string_view rt::nameOf(hope_device device) {
  switch (device) {
  case HOPE_DEVICE_HOST:
    return "the host";
  case HOPE_DEVICE_CUDA:
    return "the CUDA device";
  }
  return "<invalid device>";
}

std::optional<hope_dtype> rt::parseDType(std::string_view name) {
  if (name == "f32")
    return HOPE_DTYPE_F32;
  if (name == "f64")
    return HOPE_DTYPE_F64;
  if (name == "i64")
    return HOPE_DTYPE_I64;
  return std::nullopt;
}

std::string rt::formatShape(Shape shape) { return formatList(shape); }

Expected<int64_t> rt::numElements(Shape shape) {
  int64_t count = 1;
  for (int64_t size : shape)
    if (size < 0)
      return makeError(HOPE_INVALID_ARGUMENT,
                       "shape " + formatShape(shape) + " has a negative size");
  for (int64_t size : shape) {
    if (__builtin_mul_overflow(count, size, &count))
      return makeError(HOPE_INVALID_ARGUMENT, "shape " + formatShape(shape) +
                                                  " has too many elements");
  }
  return count;
}

Expected<size_t> rt::byteSize(hope_dtype dtype, Shape shape) {
  Expected<int64_t> count = numElements(shape);
  if (!count)
    return count.takeError();
  int64_t bytes;
  if (__builtin_mul_overflow(*count, int64_t(sizeOf(dtype)), &bytes) ||
      uint64_t(bytes) > SIZE_MAX)
    return makeError(HOPE_INVALID_ARGUMENT,
                     "shape " + formatShape(shape) + " has too many elements");
  return size_t(bytes);
}

int64_t rt::numElements(const hope_tensor &tensor) {
  int64_t count = 1;
  for (int64_t size : tensor.shape)
    count *= size; // checked when the tensor was made
  return count;
}

std::vector<int64_t> rt::denseStrides(Shape shape) {
  std::vector<int64_t> strides(shape.size());
  // Unsigned, as the product may overflow when another size is 0 (e.g.
  // [0, 2^62, 4], which has no element): such strides are never used.
  uint64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = int64_t(stride);
    stride *= uint64_t(shape[i]);
  }
  return strides;
}

bool rt::isDense(const hope_tensor &tensor) {
  if (numElements(tensor) == 0)
    return true;
  int64_t stride = 1;
  for (size_t i = tensor.shape.size(); i-- > 0;) {
    // A stride along a dimension of size 1 is never used.
    if (tensor.shape[i] != 1 && tensor.strides[i] != stride)
      return false;
    stride *= tensor.shape[i];
  }
  return true;
}

Expected<TensorRef> rt::allocateTensor(hope_dtype dtype, Shape shape,
                                       const hope_allocator *allocator) {
  Expected<size_t> bytes = byteSize(dtype, shape);
  if (!bytes)
    return bytes.takeError();
  // 64-byte alignment suits any vector width the code was compiled for;
  // aligned_alloc wants a multiple of the alignment, and never 0.
  size_t rounded = (std::max<size_t>(*bytes, 1) + 63) & ~size_t(63);
  if (rounded < *bytes)
    return makeError(HOPE_OUT_OF_MEMORY,
                     "cannot allocate " + std::to_string(*bytes) + " bytes");
  void *data = allocator ? allocator->alloc(allocator->ctx, rounded, 64)
                         : std::aligned_alloc(64, rounded);
  if (!data)
    return makeError(HOPE_OUT_OF_MEMORY,
                     "cannot allocate " + std::to_string(*bytes) +
                         " bytes for a tensor of shape " + formatShape(shape));
  std::memset(data, 0, *bytes);
  std::shared_ptr<void> storage =
      allocator ? std::shared_ptr<void>(data,
                                        [copy = *allocator](void *data) {
                                          copy.free(copy.ctx, data);
                                        })
                : std::shared_ptr<void>(data, std::free);
  return makeView(dtype, shape, denseStrides(shape), data, std::move(storage));
}

TensorRef rt::makeView(hope_dtype dtype, Shape shape, Shape strides,
                       void *data, std::shared_ptr<void> storage) {
  TensorRef tensor(new hope_tensor);
  tensor->dtype = dtype;
  tensor->shape.assign(shape.begin(), shape.end());
  tensor->strides.assign(strides.begin(), strides.end());
  tensor->data = data;
  tensor->storage = std::move(storage);
  return tensor;
}

void rt::copyDense(const hope_tensor &tensor, void *dst) {
  const size_t item = sizeOf(tensor.dtype);
  const int64_t count = numElements(tensor);
  if (count == 0)
    return;
  if (isDense(tensor)) {
    std::memcpy(dst, tensor.data, count * item);
    return;
  }
  // Walk the outer dimensions with an odometer; copy rows of the innermost.
  const size_t rank = tensor.shape.size();
  const int64_t inner = tensor.shape[rank - 1];
  const int64_t innerStride = tensor.strides[rank - 1];
  std::vector<int64_t> index(rank, 0);
  auto *out = static_cast<char *>(dst);
  const auto *base = static_cast<const char *>(tensor.data);
  for (int64_t row = 0, rows = count / inner; row < rows; ++row) {
    int64_t offset = 0;
    for (size_t d = 0; d + 1 < rank; ++d)
      offset += index[d] * tensor.strides[d];
    if (innerStride == 1) {
      std::memcpy(out, base + offset * int64_t(item), inner * item);
    } else {
      for (int64_t i = 0; i < inner; ++i)
        std::memcpy(out + i * item,
                    base + (offset + i * innerStride) * int64_t(item), item);
    }
    out += inner * item;
    for (size_t d = rank - 1; d-- > 0;) {
      if (++index[d] < tensor.shape[d])
        break;
      index[d] = 0;
    }
  }
}

Expected<TensorRef> rt::toDense(const TensorRef &tensor,
                                const hope_allocator *allocator) {
  if (isDense(*tensor))
    return tensor;
  Expected<TensorRef> copy =
      allocateTensor(tensor->dtype, tensor->shape, allocator);
  if (!copy)
    return copy.takeError();
  copyDense(*tensor, (*copy)->data);
  return copy;
}
