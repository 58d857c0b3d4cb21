//===- DeviceMemory.h - memory of a device other than the host --*- C++ -*-===//
//
// A tensor whose elements live on a device (hope_tensor::device is not
// HOPE_DEVICE_HOST) holds the DeviceMemory it came from: the rest of the
// runtime copies such a tensor to and from the host through it, without
// knowing the device's API.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_RUNTIME_LIB_DEVICEMEMORY_H
#define HOPE_RUNTIME_LIB_DEVICEMEMORY_H

#include "hope/runtime.hpp"

#include <cstddef>
#include <memory>

namespace hope::rt {

class DeviceMemory {
public:
  virtual ~DeviceMemory() = default;
  /// The device, e.g. HOPE_DEVICE_CUDA.
  virtual hope_device device() const = 0;
  /// "cuda (NVIDIA H100 80GB HBM3)", for messages.
  virtual std::string describe() const = 0;
  /// `bytes` bytes of device memory, released when the last copy of the
  /// pointer goes (which keeps this object alive).
  virtual Expected<std::shared_ptr<void>> allocate(size_t bytes) = 0;
  /// Copies `bytes` bytes between the host and device addresses; returns
  /// when the copy is complete.
  virtual Error copyToHost(void *hostDst, const void *deviceSrc,
                           size_t bytes) = 0;
  virtual Error copyFromHost(void *deviceDst, const void *hostSrc,
                             size_t bytes) = 0;
};

} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_DEVICEMEMORY_H
