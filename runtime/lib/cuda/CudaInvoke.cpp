//===- CudaInvoke.cpp - calling an entry point of a CUDA artifact ---------===//
//
// The host code of a CUDA artifact runs on the calling thread; everything it
// does on the device goes through the service table (hope/artifact.h,
// version 2), whose functions here enqueue on the session's stream. Errors
// are sticky: the first is kept in the call's context and later launches do
// nothing, and it is reported once the entry point returns and the stream
// is drained. Every device buffer the call allocated and did not hand back
// as an output is freed then, so a failing call leaks nothing.
//
//===----------------------------------------------------------------------===//

#include "CudaSession.h"
#include "DeviceTensors.h"
#include "EmulatedDriver.h"
#include "Invoke.h"
#include "Services.h"
#include "Status.h"

#include "hope/artifact.h"

#include <map>
#include <set>

using namespace hope;
using namespace hope::rt;
using namespace hope::rt::cuda;

namespace {
/// The state of one call, passed to every service as its context.
struct Call {
  CudaSession &session;
  const Manifest &manifest;
  std::mutex mutex;
  /// The first error, without the entry point's name.
  std::optional<Error> error;
  /// Blocks device_alloc returned in this call and not yet freed.
  std::set<CUdeviceptr> allocated;
  uint64_t launches = 0;
  /// Launches per kernel, in manifest order.
  std::vector<uint64_t> perKernel;
  /// Launches timed with events (while profiling).
  struct Timed {
    uint32_t kernel;
    CUevent start, end;
  };
  std::vector<Timed> timed;

  /// The host code's own buffers: from the session's allocator, or its
  /// block cache, as for a CPU call.
  CallServices host;

  Call(const hope_session &hopeSession, CudaSession &session,
       const Manifest &manifest)
      : session(session), manifest(manifest),
        perKernel(manifest.kernels.size(), 0),
        host(hopeSession.allocator,
             hopeSession.allocator ? nullptr : hopeSession.hostBlocks) {}
  const DriverApi &api() const { return session.stream->gpu->driver; }
  void fail(Error failure) {
    if (!error)
      error = std::move(failure);
  }
  /// Two events for a timed launch, from the session's pool.
  Expected<std::pair<CUevent, CUevent>> events() {
    size_t needed = 2 * (timed.size() + 1);
    while (session.events.size() < needed) {
      CUevent event = nullptr;
      if (Error failure = api().check(api().cuEventCreate(&event, CU_EVENT_DEFAULT),
                                      "cannot create an event"))
        return failure;
      session.events.push_back(event);
    }
    return std::make_pair(session.events[needed - 2],
                          session.events[needed - 1]);
  }
};

Call &callOf(void *context) { return *static_cast<Call *>(context); }

// Version 1: host memory, for the host code's own buffers (the call's
// CallServices, whose table has its own context).
void *hostAlloc(void *context, uint64_t bytes, uint64_t alignment) {
  const hope_services *host = callOf(context).host.table();
  return host->alloc(host->context, bytes, alignment);
}

void hostFree(void *context, void *pointer) {
  const hope_services *host = callOf(context).host.table();
  host->free(host->context, pointer);
}

// Version 2: device memory and launches.
void *deviceAlloc(void *context, uint64_t bytes) {
  Call &call = callOf(context);
  std::lock_guard<std::mutex> lock(call.mutex);
  // The host code may call from threads of its own parallel loops, where
  // the context is not current yet.
  if (Error error = call.session.stream->gpu->makeCurrent()) {
    call.fail(std::move(error));
    return nullptr;
  }
  Expected<CUdeviceptr> pointer = call.session.stream->arena->allocate(bytes);
  if (!pointer) {
    call.fail(prefixError(pointer.takeError(), "device_alloc: "));
    return nullptr;
  }
  call.allocated.insert(*pointer);
  return reinterpret_cast<void *>(uintptr_t(*pointer));
}

void deviceFree(void *context, void *pointer) {
  if (!pointer)
    return;
  Call &call = callOf(context);
  std::lock_guard<std::mutex> lock(call.mutex);
  CUdeviceptr address = CUdeviceptr(reinterpret_cast<uintptr_t>(pointer));
  if (!call.allocated.erase(address)) {
    call.fail(makeError(HOPE_INTERNAL,
                        "device_free of a pointer that device_alloc did not "
                        "return in this call (an input's buffer?)"));
    return;
  }
  call.session.stream->arena->free(address);
}

int32_t launch(void *context, uint32_t kernel, const uint32_t grid[3],
               const uint32_t block[3], uint32_t sharedBytes, void **params) {
  Call &call = callOf(context);
  std::lock_guard<std::mutex> lock(call.mutex);
  if (call.error)
    return 1;
  const std::vector<KernelSpec> &kernels = call.manifest.kernels;
  if (kernel >= kernels.size()) {
    call.fail(makeError(HOPE_INTERNAL,
                        "launch of kernel number " + std::to_string(kernel) +
                            ", but the manifest lists " +
                            std::to_string(kernels.size()) + " kernels"));
    return 1;
  }
  const DriverApi &api = call.api();
  LoadedModule &module = *call.session.module;
  std::string what = "kernel " + std::string(kernels[kernel].name);
  if (Error error = call.session.stream->gpu->makeCurrent()) {
    call.fail(std::move(error));
    return 1;
  }
  CUfunction function = module.functions[kernel];
  {
    // More dynamic shared memory than the manifest declared: allow it.
    std::lock_guard<std::mutex> sharedLock(module.sharedMutex);
    if (sharedBytes > module.sharedAllowed[kernel]) {
      if (Error error = api.check(
              api.cuFuncSetAttribute(
                  function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                  int(sharedBytes)),
              what + ": cannot allow " + std::to_string(sharedBytes) +
                  " bytes of shared memory")) {
        call.fail(std::move(error));
        return 1;
      }
      module.sharedAllowed[kernel] = sharedBytes;
    }
  }
  CUstream stream = call.session.stream->stream;
  std::optional<std::pair<CUevent, CUevent>> events;
  if (call.session.profiling) {
    Expected<std::pair<CUevent, CUevent>> pair = call.events();
    if (!pair) {
      call.fail(pair.takeError());
      return 1;
    }
    events = *pair;
    api.cuEventRecord(events->first, stream);
  }
  if (Error error = api.check(
          api.cuLaunchKernel(function, grid[0], grid[1], grid[2], block[0],
                             block[1], block[2], sharedBytes, stream, params,
                             nullptr),
          what)) {
    call.fail(std::move(error));
    return 1;
  }
  if (events) {
    api.cuEventRecord(events->second, stream);
    call.timed.push_back({kernel, events->first, events->second});
  }
  ++call.launches;
  ++call.perKernel[kernel];
  return 0;
}

// Version 3: a status word the call's kernels wrote (a precondition check
// kernel's), read once the stream has run them.
int32_t readStatus(void *context, const void *deviceWord) {
  Call &call = callOf(context);
  std::lock_guard<std::mutex> lock(call.mutex);
  if (call.error)
    return 0;
  int32_t status = 0;
  if (Error error = call.session.stream->copyToHost(&status, deviceWord,
                                                    sizeof status)) {
    call.fail(prefixError(std::move(error), "read_status: "));
    return 0;
  }
  return status;
}

/// The device tensors of the inputs, dense and on this session's device.
Expected<std::vector<TensorRef>> prepareInputs(CudaSession &session,
                                               const EntryPoint &entry,
                                               std::vector<TensorRef> inputs) {
  size_t next = 0;
  for (TensorRef &tensor : inputs) {
    const TensorSpec &spec = entry.inputs[next++];
    auto *stream = static_cast<CudaStream *>(tensor->memory.get());
    if (stream->gpu != session.stream->gpu)
      return makeError(HOPE_INVALID_ARGUMENT,
                       std::string(entry.name) + ": " + spec.describe() +
                           " is on " + stream->describe() +
                           " but the session runs on " +
                           session.stream->describe());
    if (isDense(*tensor))
      continue;
    // The ABI passes dense inputs: gather a strided one through the host.
    Expected<TensorRef> host = toHost(tensor);
    if (!host)
      return host.takeError();
    Expected<TensorRef> dense = session.upload(**host);
    if (!dense)
      return dense.takeError();
    tensor = std::move(*dense);
  }
  return inputs;
}

/// Takes the outputs the call returned in `descriptors`: each buffer must
/// be one device_alloc gave this call (its owner from now on), or an input's
/// (copied, since the input's memory is the caller's).
Expected<std::vector<TensorRef>>
takeOutputs(Call &call, const EntryPoint &entry,
            std::vector<Descriptor> &descriptors, DimBindings &dims,
            const std::vector<TensorRef> &inputs) {
  CudaStream &stream = *call.session.stream;
  std::map<void *, std::shared_ptr<void>> owners;
  std::vector<TensorRef> outputs;
  for (size_t j = 0; j < descriptors.size(); ++j) {
    Descriptor &descriptor = descriptors[j];
    const TensorSpec &spec = entry.outputs[j];
    auto broken = [&](const std::string &what) {
      return makeError(HOPE_INTERNAL, std::string(entry.name) +
                                          ": the artifact returned " +
                                          spec.describe() + " " + what);
    };
    Expected<int64_t> count = checkOutput(entry, j, descriptor, dims);
    if (!count)
      return count.takeError();
    int64_t item = int64_t(sizeOf(spec.dtype));
    Shape shape = descriptor.sizesView(), strides = descriptor.stridesView();
    char *data = static_cast<char *>(descriptor.aligned()) +
                 descriptor.offset() * item;
    if (*count == 0) {
      TensorRef empty = makeView(spec.dtype, shape, strides, nullptr, nullptr);
      empty->device = HOPE_DEVICE_CUDA;
      empty->memory = call.session.stream;
      outputs.push_back(std::move(empty));
      continue;
    }
    // The span of bytes the view reaches, from its allocation's start.
    int64_t low = 0, high = 0;
    for (size_t d = 0; d < shape.size(); ++d)
      (strides[d] < 0 ? low : high) += (shape[d] - 1) * strides[d];
    char *base = static_cast<char *>(descriptor.allocated());
    int64_t first = (data - base) + low * item;
    int64_t end = (data - base) + (high + 1) * item;

    void *buffer = descriptor.allocated();
    CUdeviceptr address = CUdeviceptr(reinterpret_cast<uintptr_t>(buffer));
    std::shared_ptr<void> owner;
    if (owners.count(buffer)) {
      owner = owners[buffer];
    } else if (call.allocated.count(address)) {
      call.allocated.erase(address);
      owner = owners[buffer] = stream.adopt(address);
    }
    if (owner) {
      uint64_t size = *stream.arena->liveSize(address);
      if (first < 0 || end > int64_t(size))
        return broken("whose elements lie outside its buffer of " +
                      std::to_string(size) + " bytes");
      TensorRef view = makeView(spec.dtype, shape, strides, data, owner);
      view->device = HOPE_DEVICE_CUDA;
      view->memory = call.session.stream;
      outputs.push_back(std::move(view));
      continue;
    }
    // An input's buffer: copy the whole input.
    const hope_tensor *source = nullptr;
    for (const TensorRef &input : inputs)
      if (input->data == buffer)
        source = input.get();
    if (!source)
      return broken("in a buffer that device_alloc did not return in this "
                    "call");
    size_t bytes = *byteSize(source->dtype, source->shape);
    if (first < 0 || end > int64_t(bytes))
      return broken("whose elements lie outside the input buffer it reuses");
    Expected<std::shared_ptr<void>> copy = stream.allocate(bytes);
    if (!copy)
      return copy.takeError();
    const DriverApi &api = call.api();
    if (Error error = api.check(
            api.cuMemcpyDtoDAsync(
                CUdeviceptr(reinterpret_cast<uintptr_t>(copy->get())),
                address, bytes, stream.stream),
            std::string(entry.name) + ": cannot copy " + spec.describe()))
      return error;
    TensorRef view = makeView(spec.dtype, shape, strides,
                              static_cast<char *>(copy->get()) + (data - base),
                              *copy);
    view->device = HOPE_DEVICE_CUDA;
    view->memory = call.session.stream;
    outputs.push_back(std::move(view));
  }
  if (Error error = stream.synchronize(std::string(entry.name) +
                                       ": cannot copy the outputs"))
    return error;
  return outputs;
}

/// Adds the call's launches and (while profiling) their times to the
/// session's counters; the stream has been drained.
void count(Call &call) {
  CudaSession &session = call.session;
  std::vector<double> milliseconds(call.timed.size(), 0);
  for (size_t i = 0; i < call.timed.size(); ++i) {
    float elapsed = 0;
    if (call.api().cuEventElapsedTime(&elapsed, call.timed[i].start,
                                      call.timed[i].end) == CUDA_SUCCESS)
      milliseconds[i] = elapsed;
  }
  std::lock_guard<std::mutex> lock(session.statsMutex);
  ++session.calls;
  session.launches += call.launches;
  session.lastCallLaunches = call.launches;
  for (size_t k = 0; k < call.perKernel.size(); ++k)
    session.kernels[k].launches += call.perKernel[k];
  for (size_t i = 0; i < call.timed.size(); ++i)
    session.kernels[call.timed[i].kernel].milliseconds += milliseconds[i];
}
} // namespace

Expected<std::vector<TensorRef>> cuda::invoke(const hope_session &hopeSession,
                                              size_t entryIndex,
                                              std::vector<TensorRef> checked,
                                              DimBindings &dims) {
  CudaSession &session = *hopeSession.cuda;
  const Manifest &manifest = *hopeSession.module->manifest;
  const EntryPoint &entry = manifest.entryPoints[entryIndex];
  std::lock_guard<std::mutex> callLock(session.callMutex);
  Expected<std::vector<TensorRef>> inputs =
      prepareInputs(session, entry, std::move(checked));
  if (!inputs)
    return inputs.takeError();

  std::vector<Descriptor> descriptors;
  for (const TensorRef &tensor : *inputs)
    descriptors.push_back(Descriptor::input(*tensor));
  for (const TensorSpec &spec : entry.outputs)
    descriptors.emplace_back(spec.shape.size());
  std::vector<void *> args;
  for (Descriptor &descriptor : descriptors)
    args.push_back(descriptor.address());

  if (Error error = session.stream->gpu->makeCurrent())
    return error;
  // Emulated kernels run their blocks on the session's threads, as a CPU
  // artifact's loops do (hope_session_options.threads).
  if (session.stream->gpu->driver.emulated)
    emulatedSetStreamThreads(session.stream->stream,
                             hopeSession.threads > 0 ? hopeSession.threads
                                                     : defaultThreadCount());
  Call call(hopeSession, session, manifest);
  hope_services services{};
  services.struct_size = sizeof(services);
  services.version = HOPE_SERVICES_VERSION;
  services.context = &call;
  services.alloc = hostAlloc;
  services.free = hostFree;
  services.device_alloc = deviceAlloc;
  services.device_free = deviceFree;
  services.launch = launch;
  services.read_status = readStatus;
  // The module keeps entry points as the CPU ABI's type; a CUDA artifact's
  // take the service table (manifest version 4). Cast through void (*)(),
  // the generic function pointer.
  auto entryFn = reinterpret_cast<hope_entry_fn>(
      reinterpret_cast<void (*)()>(hopeSession.module->entries[entryIndex]));
  int32_t broken = entryFn(args.data(), &services);

  // Kernels fail asynchronously too: their errors show when the stream is
  // drained.
  if (Error error = session.stream->synchronize("after the call's kernels"))
    call.fail(std::move(error));
  count(call);
  // Whatever the call allocated and does not hand back goes back to the
  // arena: all of it on error, else what the artifact did not free.
  auto release = [&] {
    for (CUdeviceptr pointer : call.allocated)
      session.stream->arena->free(pointer);
    call.allocated.clear();
  };
  if (broken != 0 && !call.error) {
    release();
    return preconditionError(entry, broken);
  }
  if (call.error) {
    release();
    return prefixError(std::move(*call.error), std::string(entry.name) + ": ");
  }
  std::vector<Descriptor> outputs(
      std::make_move_iterator(descriptors.begin() + inputs->size()),
      std::make_move_iterator(descriptors.end()));
  Expected<std::vector<TensorRef>> taken =
      takeOutputs(call, entry, outputs, dims, *inputs);
  release();
  return taken;
}
