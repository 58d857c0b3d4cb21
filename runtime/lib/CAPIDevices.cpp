//===- CAPIDevices.cpp - the C API: devices, copies, counters -------------===//

#include "DeviceTensors.h"
#include "Session.h"
#include "Status.h"
#include "cuda/CudaSession.h"

#include <algorithm>
#include <cstring>

using namespace hope;
using namespace hope::rt;

extern "C" {

hope_status *hope_session_device(const hope_session *session,
                                 hope_device *device) {
  HOPE_CHECK_ARG(session);
  HOPE_CHECK_ARG(device);
  *device = session->device;
  return nullptr;
}

hope_status *hope_tensor_to_device(hope_session *session,
                                   const hope_tensor *tensor,
                                   hope_tensor **out) {
  HOPE_CHECK_ARG(session);
  HOPE_CHECK_ARG(tensor);
  HOPE_CHECK_ARG(out);
  Expected<TensorRef> placed =
      toSessionDevice(*session, TensorRef(const_cast<hope_tensor *>(tensor)));
  if (!placed)
    return toStatus(prefixError(placed.takeError(), "hope_tensor_to_device: "));
  *out = toHandle(std::move(*placed));
  return nullptr;
}

hope_status *hope_tensor_to_host(const hope_tensor *tensor, hope_tensor **out) {
  HOPE_CHECK_ARG(tensor);
  HOPE_CHECK_ARG(out);
  Expected<TensorRef> host = toHost(TensorRef(const_cast<hope_tensor *>(tensor)));
  if (!host)
    return toStatus(prefixError(host.takeError(), "hope_tensor_to_host: "));
  *out = toHandle(std::move(*host));
  return nullptr;
}

hope_status *hope_session_device_stats(const hope_session *session,
                                       hope_device_stats *stats) {
  HOPE_CHECK_ARG(session);
  HOPE_CHECK_ARG(stats);
  if (stats->struct_size < sizeof(size_t))
    return toStatus(makeError(HOPE_INVALID_ARGUMENT,
                              "hope_session_device_stats: set "
                              "stats.struct_size to sizeof(hope_device_stats)"));
  hope_device_stats values{};
  values.struct_size = sizeof(values);
  if (const auto &cuda = session->cuda) {
    {
      std::lock_guard<std::mutex> lock(cuda->statsMutex);
      values.calls = cuda->calls;
      values.launches = cuda->launches;
      values.last_call_launches = cuda->lastCallLaunches;
    }
    cuda::ArenaStats arena = cuda->stream->arena->stats();
    values.bytes_in_use = arena.inUse;
    values.bytes_peak = arena.peak;
    values.bytes_reserved = arena.reserved;
  }
  // The caller's version of the struct may be shorter (or longer).
  size_t size = std::min(stats->struct_size, sizeof(values));
  values.struct_size = stats->struct_size;
  std::memcpy(stats, &values, size);
  return nullptr;
}

hope_status *hope_session_set_profiling(hope_session *session,
                                        int32_t enabled) {
  HOPE_CHECK_ARG(session);
  if (session->cuda)
    session->cuda->profiling = enabled != 0;
  return nullptr;
}

hope_status *hope_module_kernel_count(const hope_module *module,
                                      size_t *count) {
  HOPE_CHECK_ARG(module);
  HOPE_CHECK_ARG(count);
  *count = module->manifest->kernels.size();
  return nullptr;
}

hope_status *hope_session_kernel_stats(const hope_session *session,
                                       size_t index,
                                       hope_kernel_stats *stats) {
  HOPE_CHECK_ARG(session);
  HOPE_CHECK_ARG(stats);
  const std::vector<KernelSpec> &kernels = session->module->manifest->kernels;
  if (index >= kernels.size())
    return indexOutOfRange(__func__, index, kernels.size(), "kernels");
  stats->name = kernels[index].name.data();
  stats->launches = 0;
  stats->milliseconds = 0;
  if (const auto &cuda = session->cuda) {
    std::lock_guard<std::mutex> lock(cuda->statsMutex);
    stats->launches = cuda->kernels[index].launches;
    stats->milliseconds = cuda->kernels[index].milliseconds;
  }
  return nullptr;
}

hope_status *hope_session_device_info(const hope_session *session,
                                      const char **image,
                                      const char **device) {
  HOPE_CHECK_ARG(session);
  const auto &cuda = session->cuda;
  if (image)
    *image = cuda ? cuda->module->image.c_str() : nullptr;
  if (device)
    *device = cuda ? cuda->description.c_str() : nullptr;
  return nullptr;
}

} // extern "C"
