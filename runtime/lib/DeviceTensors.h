//===- DeviceTensors.h - tensors on a device, copied to the host -*- C++ -*-===//

#ifndef HOPE_RUNTIME_LIB_DEVICETENSORS_H
#define HOPE_RUNTIME_LIB_DEVICETENSORS_H

#include "Tensor.h"

namespace hope::rt {

/// `tensor` itself if it is on the host; else a dense host copy of its
/// elements (a strided view is copied by the span of memory it covers).
Expected<TensorRef> toHost(const TensorRef &tensor);

} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_DEVICETENSORS_H
