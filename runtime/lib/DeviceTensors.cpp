//===- DeviceTensors.cpp - tensors on a device, copied to the host --------===//

#include "DeviceTensors.h"
#include "Status.h"

#include <vector>

using namespace hope;
using namespace hope::rt;

Expected<TensorRef> rt::toHost(const TensorRef &tensor) {
  if (tensor->device == HOPE_DEVICE_HOST)
    return tensor;
  Expected<TensorRef> copy = allocateTensor(tensor->dtype, tensor->shape);
  if (!copy)
    return copy.takeError();
  int64_t count = numElements(*tensor);
  if (count == 0)
    return copy;
  size_t item = sizeOf(tensor->dtype);
  if (isDense(*tensor)) {
    if (Error error = tensor->memory->copyToHost((*copy)->data, tensor->data,
                                                 size_t(count) * item))
      return error;
    return copy;
  }
  // The elements a strided view reaches lie between its lowest and highest
  // offsets: copy that span, then gather it on the host.
  int64_t low = 0, high = 0;
  for (size_t d = 0; d < tensor->shape.size(); ++d) {
    int64_t reach = (tensor->shape[d] - 1) * tensor->strides[d];
    (reach < 0 ? low : high) += reach;
  }
  std::vector<char> span(size_t(high - low + 1) * item);
  if (Error error = tensor->memory->copyToHost(
          span.data(), static_cast<char *>(tensor->data) + low * int64_t(item),
          span.size()))
    return error;
  TensorRef view =
      makeView(tensor->dtype, tensor->shape, tensor->strides,
               span.data() - low * int64_t(item), nullptr);
  copyDense(*view, (*copy)->data);
  return copy;
}
