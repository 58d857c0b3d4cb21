//===- CudaSession.cpp - a session on a CUDA device -----------------------===//

#include "CudaSession.h"
#include "Module.h"
#include "Status.h"

#include <cstring>

using namespace hope;
using namespace hope::rt;
using namespace hope::rt::cuda;

static CUdeviceptr address(const void *pointer) {
  return CUdeviceptr(reinterpret_cast<uintptr_t>(pointer));
}

Expected<std::shared_ptr<CudaStream>>
CudaStream::create(std::shared_ptr<CudaDevice> device) {
  std::shared_ptr<CudaStream> stream(new CudaStream(std::move(device)));
  const DriverApi &api = stream->gpu->driver;
  if (Error error = stream->gpu->makeCurrent())
    return error;
  if (Error error =
          api.check(api.cuStreamCreate(&stream->stream, CU_STREAM_NON_BLOCKING),
                    "cannot create a stream on " + stream->describe()))
    return error;
  stream->arena = std::make_unique<DeviceArena>(api, stream->stream);
  return stream;
}

CudaStream::~CudaStream() {
  if (!stream)
    return;
  (void)gpu->makeCurrent();
  arena.reset(); // waits for the stream, then frees its memory
  gpu->driver.cuStreamDestroy(stream);
}

Error CudaStream::synchronize(const std::string &what) {
  if (Error error = gpu->makeCurrent())
    return error;
  return gpu->driver.check(gpu->driver.cuStreamSynchronize(stream), what);
}

std::shared_ptr<void> CudaStream::adopt(CUdeviceptr pointer) {
  return std::shared_ptr<void>(
      reinterpret_cast<void *>(uintptr_t(pointer)),
      [self = shared_from_this()](void *pointer) {
        // The context need not be current: the arena only caches.
        self->arena->free(address(pointer));
      });
}

Expected<std::shared_ptr<void>> CudaStream::allocate(size_t bytes) {
  if (Error error = gpu->makeCurrent())
    return error;
  Expected<CUdeviceptr> pointer = arena->allocate(bytes);
  if (!pointer)
    return pointer.takeError();
  return adopt(*pointer);
}

Error CudaStream::copyToHost(void *hostDst, const void *deviceSrc,
                             size_t bytes) {
  if (bytes == 0)
    return Error();
  if (Error error = gpu->makeCurrent())
    return error;
  return finishCopy(gpu->driver.cuMemcpyDtoHAsync(hostDst, address(deviceSrc),
                                                  bytes, stream),
                    bytes, "from");
}

Error CudaStream::copyFromHost(void *deviceDst, const void *hostSrc,
                               size_t bytes) {
  if (bytes == 0)
    return Error();
  if (Error error = gpu->makeCurrent())
    return error;
  return finishCopy(gpu->driver.cuMemcpyHtoDAsync(address(deviceDst), hostSrc,
                                                  bytes, stream),
                    bytes, "to");
}

Error CudaStream::finishCopy(CUresult enqueued, size_t bytes,
                             const char *direction) {
  std::string what = "cannot copy " + std::to_string(bytes) + " bytes " +
                     direction + " the device";
  if (Error error = gpu->driver.check(enqueued, what))
    return error;
  // Synchronous for the caller: its host buffer may go once this returns.
  return synchronize(what);
}

Expected<std::shared_ptr<CudaSession>>
CudaSession::create(hope_module &module) {
  bool emulated = module.manifest->kind == "cuda-emulated";
  Expected<std::shared_ptr<CudaDevice>> device = CudaDevice::open(emulated);
  if (!device)
    return prefixError(device.takeError(),
                       module.path + ": cannot run on the CUDA device: ");
  Expected<std::shared_ptr<LoadedModule>> loaded = module.cuda->load(*device);
  if (!loaded)
    return loaded.takeError();
  Expected<std::shared_ptr<CudaStream>> stream = CudaStream::create(*device);
  if (!stream)
    return stream.takeError();
  std::shared_ptr<CudaSession> session(new CudaSession);
  session->module = *loaded;
  session->stream = *stream;
  session->description = (*device)->describe();
  session->kernels.resize(module.manifest->kernels.size());
  return session;
}

CudaSession::~CudaSession() {
  if (events.empty())
    return;
  (void)stream->gpu->makeCurrent();
  for (CUevent event : events)
    stream->gpu->driver.cuEventDestroy(event);
}

Expected<TensorRef> CudaSession::upload(const hope_tensor &tensor) {
  Expected<TensorRef> dense = toDense(TensorRef(const_cast<hope_tensor *>(&tensor)));
  if (!dense)
    return dense.takeError();
  Expected<size_t> bytes = byteSize(tensor.dtype, tensor.shape);
  if (!bytes)
    return bytes.takeError();
  Expected<std::shared_ptr<void>> memory = stream->allocate(*bytes);
  if (!memory)
    return memory.takeError();
  if (Error error = stream->copyFromHost(memory->get(), (*dense)->data, *bytes))
    return error;
  TensorRef copy = makeView(tensor.dtype, tensor.shape,
                            denseStrides(tensor.shape), memory->get(),
                            std::move(*memory));
  copy->device = HOPE_DEVICE_CUDA;
  copy->memory = stream;
  return copy;
}
