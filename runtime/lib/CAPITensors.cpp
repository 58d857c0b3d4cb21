//===- CAPITensors.cpp - the C API: dtypes, tensors, maps and files -------===//

#include "DeviceTensors.h"
#include "Manifest.h"
#include "Npy.h"
#include "Safetensors.h"
#include "Status.h"
#include "TensorMap.h"

#include <cstring>

using namespace hope;
using namespace hope::rt;

static hope_status *invalidDType(const char *function, hope_dtype dtype) {
  if (isKnown(dtype))
    return toStatus(makeError(HOPE_UNSUPPORTED,
                              std::string(function) + ": dtype " +
                                  std::string(nameOf(dtype)) +
                                  " is reserved; this runtime does not "
                                  "implement it yet"));
  return toStatus(makeError(HOPE_INVALID_ARGUMENT,
                            std::string(function) + ": invalid dtype " +
                                std::to_string(int(dtype))));
}

/// Checks the arguments common to tensor_create and tensor_wrap.
static hope_status *checkShape(const char *function, hope_dtype dtype,
                               size_t rank, const int64_t *shape) {
  if (!isValid(dtype))
    return invalidDType(function, dtype);
  if (rank && !shape)
    return nullArgument(function, "shape");
  if (Error error = byteSize(dtype, Shape(shape, rank)).takeError())
    return toStatus(prefixError(std::move(error), std::string(function) + ": "));
  return nullptr;
}

extern "C" {

hope_status *hope_dtype_name(hope_dtype dtype, const char **name) {
  HOPE_CHECK_ARG(name);
  if (!isValid(dtype))
    return invalidDType(__func__, dtype);
  *name = nameOf(dtype).data(); // a NUL-terminated literal
  return nullptr;
}

hope_status *hope_dtype_size(hope_dtype dtype, size_t *size) {
  HOPE_CHECK_ARG(size);
  if (!isValid(dtype))
    return invalidDType(__func__, dtype);
  *size = sizeOf(dtype);
  return nullptr;
}

hope_status *hope_role_name(hope_role role, const char **name) {
  HOPE_CHECK_ARG(name);
  std::string_view text = nameOf(role);
  if (text.front() == '<')
    return toStatus(makeError(HOPE_INVALID_ARGUMENT,
                              "hope_role_name: invalid role " +
                                  std::to_string(int(role))));
  *name = text.data();
  return nullptr;
}

//===-- Tensors -----------------------------------------------------------===//

hope_status *hope_tensor_create(hope_dtype dtype, size_t rank,
                                const int64_t *shape, const void *data,
                                size_t byte_size, hope_tensor **out) {
  HOPE_CHECK_ARG(out);
  if (hope_status *status = checkShape(__func__, dtype, rank, shape))
    return status;
  Shape dims(shape, rank);
  size_t bytes = *byteSize(dtype, dims);
  if (data && byte_size != bytes)
    return toStatus(makeError(HOPE_INVALID_ARGUMENT,
                              "hope_tensor_create: shape " + formatShape(dims) +
                                  " of " + std::string(nameOf(dtype)) +
                                  " needs " + std::to_string(bytes) +
                                  " bytes but " + std::to_string(byte_size) +
                                  " were given"));
  Expected<TensorRef> tensor = allocateTensor(dtype, dims);
  if (!tensor)
    return toStatus(tensor.takeError());
  if (data && bytes)
    std::memcpy((*tensor)->data, data, bytes);
  *out = toHandle(std::move(*tensor));
  return nullptr;
}

hope_status *hope_tensor_wrap(hope_dtype dtype, size_t rank,
                              const int64_t *shape, const int64_t *strides,
                              const void *data, hope_tensor **out) {
  HOPE_CHECK_ARG(out);
  if (hope_status *status = checkShape(__func__, dtype, rank, shape))
    return status;
  Shape dims(shape, rank);
  if (!data && *numElements(dims) > 0)
    return nullArgument(__func__, "data");
  std::vector<int64_t> layout = strides
                                    ? std::vector<int64_t>(strides, strides + rank)
                                    : denseStrides(dims);
  // The runtime only reads through a wrapped tensor (see runtime.h).
  *out = toHandle(
      makeView(dtype, dims, layout, const_cast<void *>(data), nullptr));
  return nullptr;
}

void hope_tensor_retain(hope_tensor *tensor) {
  if (tensor)
    tensor->retain();
}

void hope_tensor_release(hope_tensor *tensor) {
  if (tensor)
    tensor->release();
}

hope_status *hope_tensor_device(const hope_tensor *tensor,
                                hope_device *device) {
  HOPE_CHECK_ARG(tensor);
  HOPE_CHECK_ARG(device);
  *device = tensor->device;
  return nullptr;
}

hope_status *hope_tensor_dtype(const hope_tensor *tensor, hope_dtype *dtype) {
  HOPE_CHECK_ARG(tensor);
  HOPE_CHECK_ARG(dtype);
  *dtype = tensor->dtype;
  return nullptr;
}

hope_status *hope_tensor_shape(const hope_tensor *tensor, size_t *rank,
                               const int64_t **shape, const int64_t **strides) {
  HOPE_CHECK_ARG(tensor);
  if (rank)
    *rank = tensor->shape.size();
  if (shape)
    *shape = tensor->shape.empty() ? nullptr : tensor->shape.data();
  if (strides)
    *strides = tensor->strides.empty() ? nullptr : tensor->strides.data();
  return nullptr;
}

hope_status *hope_tensor_numel(const hope_tensor *tensor, int64_t *numel) {
  HOPE_CHECK_ARG(tensor);
  HOPE_CHECK_ARG(numel);
  *numel = numElements(*tensor);
  return nullptr;
}

hope_status *hope_tensor_data(const hope_tensor *tensor, void **data) {
  HOPE_CHECK_ARG(tensor);
  HOPE_CHECK_ARG(data);
  *data = tensor->data;
  return nullptr;
}

hope_status *hope_tensor_copy_to(const hope_tensor *tensor, void *dst,
                                 size_t byte_size) {
  HOPE_CHECK_ARG(tensor);
  size_t bytes = numElements(*tensor) * sizeOf(tensor->dtype);
  if (byte_size != bytes)
    return toStatus(makeError(HOPE_INVALID_ARGUMENT,
                              "hope_tensor_copy_to: the tensor has " +
                                  std::to_string(bytes) + " bytes but " +
                                  std::to_string(byte_size) + " were given"));
  if (bytes)
    HOPE_CHECK_ARG(dst);
  Expected<TensorRef> host = toHost(TensorRef(const_cast<hope_tensor *>(tensor)));
  if (!host)
    return toStatus(prefixError(host.takeError(), "hope_tensor_copy_to: "));
  copyDense(**host, dst);
  return nullptr;
}

//===-- Tensor maps -------------------------------------------------------===//

hope_status *hope_tensor_map_create(hope_tensor_map **out) {
  HOPE_CHECK_ARG(out);
  *out = toHandle(TensorMapRef(new hope_tensor_map));
  return nullptr;
}

void hope_tensor_map_retain(hope_tensor_map *map) {
  if (map)
    map->retain();
}

void hope_tensor_map_release(hope_tensor_map *map) {
  if (map)
    map->release();
}

hope_status *hope_tensor_map_set(hope_tensor_map *map, const char *name,
                                 hope_tensor *tensor) {
  HOPE_CHECK_ARG(map);
  HOPE_CHECK_ARG(name);
  HOPE_CHECK_ARG(tensor);
  map->set(name, TensorRef(tensor));
  return nullptr;
}

hope_status *hope_tensor_map_size(const hope_tensor_map *map, size_t *size) {
  HOPE_CHECK_ARG(map);
  HOPE_CHECK_ARG(size);
  *size = map->entries.size();
  return nullptr;
}

hope_status *hope_tensor_map_entry(const hope_tensor_map *map, size_t index,
                                   const char **name, hope_tensor **tensor) {
  HOPE_CHECK_ARG(map);
  if (index >= map->entries.size())
    return indexOutOfRange(__func__, index, map->entries.size(), "entries");
  if (name)
    *name = map->entries[index].first.c_str();
  if (tensor)
    *tensor = map->entries[index].second.get();
  return nullptr;
}

hope_status *hope_tensor_map_find(const hope_tensor_map *map, const char *name,
                                  hope_tensor **tensor) {
  HOPE_CHECK_ARG(map);
  HOPE_CHECK_ARG(name);
  HOPE_CHECK_ARG(tensor);
  hope_tensor *found = map->find(name);
  if (!found)
    return toStatus(
        makeError(HOPE_NOT_FOUND, std::string("no tensor '") + name + "'"));
  *tensor = found;
  return nullptr;
}

//===-- Files -------------------------------------------------------------===//

hope_status *hope_safetensors_read(const char *path, hope_tensor_map **out) {
  HOPE_CHECK_ARG(path);
  HOPE_CHECK_ARG(out);
  Expected<TensorMapRef> map = rt::readSafetensors(path);
  if (!map)
    return toStatus(map.takeError());
  *out = toHandle(std::move(*map));
  return nullptr;
}

hope_status *hope_safetensors_write(const char *path,
                                    const hope_tensor_map *map) {
  HOPE_CHECK_ARG(path);
  HOPE_CHECK_ARG(map);
  // Device tensors are written from host copies.
  TensorMapRef onHost(new hope_tensor_map);
  for (const auto &[name, tensor] : map->entries) {
    Expected<TensorRef> host = toHost(tensor);
    if (!host)
      return toStatus(host.takeError());
    onHost->set(name, std::move(*host));
  }
  return toStatus(rt::writeSafetensors(path, *onHost));
}

hope_status *hope_npy_read(const char *path, hope_tensor **out) {
  HOPE_CHECK_ARG(path);
  HOPE_CHECK_ARG(out);
  Expected<TensorRef> tensor = rt::readNpy(path);
  if (!tensor)
    return toStatus(tensor.takeError());
  *out = toHandle(std::move(*tensor));
  return nullptr;
}

hope_status *hope_npy_write(const char *path, const hope_tensor *tensor) {
  HOPE_CHECK_ARG(path);
  HOPE_CHECK_ARG(tensor);
  Expected<TensorRef> host = toHost(TensorRef(const_cast<hope_tensor *>(tensor)));
  if (!host)
    return toStatus(host.takeError());
  return toStatus(rt::writeNpy(path, **host));
}

} // extern "C"
