/*===- hope/runtime.h - the HOPE runtime's C API ------------------*- C -*-===*\
|*                                                                            *|
|* Loads a compiled artifact (docs/artifact-abi.md), binds its weights and    *|
|* runs its entry points on the CPU.                                          *|
|*                                                                            *|
|* Conventions:                                                               *|
|*  - Every function returns a `hope_status *`: NULL on success, otherwise a  *|
|*    status the caller frees with hope_status_free. Only hope_api_version,   *|
|*    the *_retain and *_release functions and the three functions that read *|
|*    or free a status itself do not.                                        *|
|*  - Objects (module, session, tensor, tensor map) are reference counted:   *|
|*    a create/load/read call returns one reference, *_retain adds one,       *|
|*    *_release drops one (NULL is a no-op for both). An object lives while   *|
|*    anything refers to it: a session keeps its module, a map keeps its     *|
|*    tensors.                                                                *|
|*  - Out-parameters are written only on success. Strings and arrays that a  *|
|*    query returns belong to the queried object and live as long as it.     *|
|*  - Shapes and strides count elements; strides may be any integers.        *|
|*  - Objects may be shared between threads. Invoking is safe concurrently,  *|
|*    also on one session; binding weights while another thread invokes the *|
|*    same session is not.                                                   *|
|*  - Files given by path must be regular files: a device, a FIFO or a       *|
|*    directory is refused before anything is read.                          *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef HOPE_RUNTIME_H
#define HOPE_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

/* Marks the functions the shared library exports; everything else in it is
   hidden. */
#if defined(__GNUC__)
#define HOPE_API __attribute__((visibility("default")))
#else
#define HOPE_API
#endif

/* The version of this API. The minor version grows when functions or enum
   values are added; the major version when anything changes incompatibly. */
#define HOPE_API_VERSION_MAJOR 1
#define HOPE_API_VERSION_MINOR 1

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the library loaded at run time, which may be newer than the
   headers a program was built with: (major << 16) | minor. A program needs
   the same major version and at least its minor version. */
HOPE_API uint32_t hope_api_version(void);

/*===-- Status ------------------------------------------------------------===*/

typedef struct hope_status hope_status;

typedef enum hope_code {
  HOPE_OK = 0,
  /* A caller mistake: a wrong dtype, shape, count, name or null argument. */
  HOPE_INVALID_ARGUMENT = 1,
  /* A file, entry point, tensor or symbol that is not there. */
  HOPE_NOT_FOUND = 2,
  /* A corrupt or truncated file, or a manifest that breaks the ABI. */
  HOPE_INVALID_FORMAT = 3,
  /* Well formed but not supported here: a dtype, version or CPU feature. */
  HOPE_UNSUPPORTED = 4,
  HOPE_IO_ERROR = 5,
  HOPE_OUT_OF_MEMORY = 6,
  /* An artifact's entry point returned something its manifest forbids. */
  HOPE_INTERNAL = 7,
  /* The device or its driver failed: a kernel launch, a copy, a device
     allocation that is not out of memory. */
  HOPE_DEVICE_ERROR = 8,
} hope_code;

/* The status's message: one line naming what failed and why; "OK" for NULL. */
HOPE_API const char *hope_status_message(const hope_status *status);
/* The status's code; HOPE_OK for NULL. */
HOPE_API hope_code hope_status_code(const hope_status *status);
/* Frees a status; NULL is a no-op. */
HOPE_API void hope_status_free(hope_status *status);

/*===-- Enumerations ------------------------------------------------------===*/

/* Element types. The enumeration grows: values are never reused, and a
   program must expect values it does not know. Reserved values name types
   that the ABI will carry (with ONNX models and GPU targets) but that this
   runtime does not implement yet: every function given one fails with
   HOPE_UNSUPPORTED. */
typedef enum hope_dtype {
  HOPE_DTYPE_F32 = 1,
  HOPE_DTYPE_F64 = 2,
  HOPE_DTYPE_I64 = 3,
  HOPE_DTYPE_BOOL = 4, /* reserved */
  HOPE_DTYPE_I32 = 5,  /* reserved */
  HOPE_DTYPE_F16 = 6,  /* reserved */
  HOPE_DTYPE_BF16 = 7, /* reserved */
} hope_dtype;

/* Where a tensor's elements live, and where a session runs. The
   enumeration grows with targets. */
typedef enum hope_device {
  HOPE_DEVICE_HOST = 1,
  /* An NVIDIA GPU through the CUDA driver (libcuda.so.1, loaded when the
     first such session is created), or, for artifacts compiled for
     "cuda-emulated", the runtime's CPU stand-in for it. A CUDA tensor's
     data is a device address: copy it with hope_tensor_to_host. */
  HOPE_DEVICE_CUDA = 2,
} hope_device;

/* The role of an entry point's parameter (the manifest's `role`). */
typedef enum hope_role {
  HOPE_ROLE_INPUT = 1,  /* given by the caller on each call */
  HOPE_ROLE_WEIGHT = 2, /* bound once per session, by name */
  HOPE_ROLE_STATE = 3,  /* given by the caller, and returned updated */
  HOPE_ROLE_OUTPUT = 4, /* a plain result */
} hope_role;

/* "f32", "f64", "i64". */
HOPE_API hope_status *hope_dtype_name(hope_dtype dtype, const char **name);
/* Bytes per element. */
HOPE_API hope_status *hope_dtype_size(hope_dtype dtype, size_t *size);
/* "input", "weight", "state", "output". */
HOPE_API hope_status *hope_role_name(hope_role role, const char **name);

/*===-- Tensors -----------------------------------------------------------===*/

typedef struct hope_tensor hope_tensor;

/* A new tensor the runtime owns, dense and row-major, with a copy of `data`
   (`byte_size` must be the product of `shape` times the element size), or
   zeros if `data` is NULL. `shape` may be NULL when `rank` is 0. */
HOPE_API hope_status *hope_tensor_create(hope_dtype dtype, size_t rank,
                                const int64_t *shape, const void *data,
                                size_t byte_size, hope_tensor **out);

/* A tensor that borrows the caller's memory: `data` points to the first
   element, `strides` (NULL: dense row-major) are in elements. Nothing is
   copied; the memory must stay valid until the last reference to the tensor
   is released (by the caller, by a map holding it, or at the end of an
   invocation that read it). The runtime never writes through it. */
HOPE_API hope_status *hope_tensor_wrap(hope_dtype dtype, size_t rank,
                              const int64_t *shape, const int64_t *strides,
                              const void *data, hope_tensor **out);

HOPE_API void hope_tensor_retain(hope_tensor *tensor);
HOPE_API void hope_tensor_release(hope_tensor *tensor);

/* Where the elements live. */
HOPE_API hope_status *hope_tensor_device(const hope_tensor *tensor, hope_device *device);

HOPE_API hope_status *hope_tensor_dtype(const hope_tensor *tensor, hope_dtype *dtype);
/* The rank, and arrays of `rank` sizes and strides (NULL when rank is 0). */
HOPE_API hope_status *hope_tensor_shape(const hope_tensor *tensor, size_t *rank,
                               const int64_t **shape, const int64_t **strides);
/* The number of elements (the product of the shape). */
HOPE_API hope_status *hope_tensor_numel(const hope_tensor *tensor, int64_t *numel);
/* The first element (a device address for a device tensor). Outputs may be
   strided: read them through the strides or with hope_tensor_copy_to. A wrapped tensor's memory is the caller's,
   which the runtime never writes through, whatever this pointer's type. */
HOPE_API hope_status *hope_tensor_data(const hope_tensor *tensor, void **data);
/* Copies the elements, dense and row-major, into `dst` (host memory, also
   for a device tensor); `byte_size` must be numel times the element size. */
HOPE_API hope_status *hope_tensor_copy_to(const hope_tensor *tensor, void *dst,
                                 size_t byte_size);

/* A dense copy of `tensor` on the host; a host tensor itself (retained). */
HOPE_API hope_status *hope_tensor_to_host(const hope_tensor *tensor,
                                          hope_tensor **out);

/*===-- Named tensors -----------------------------------------------------===*/

/* Tensors by name, in insertion order (a safetensors file, a set of states,
   the outputs of a call). */
typedef struct hope_tensor_map hope_tensor_map;

HOPE_API hope_status *hope_tensor_map_create(hope_tensor_map **out);
HOPE_API void hope_tensor_map_retain(hope_tensor_map *map);
HOPE_API void hope_tensor_map_release(hope_tensor_map *map);
/* Adds `tensor` under `name` (retaining it), replacing any tensor of that
   name in place. */
HOPE_API hope_status *hope_tensor_map_set(hope_tensor_map *map, const char *name,
                                 hope_tensor *tensor);
HOPE_API hope_status *hope_tensor_map_size(const hope_tensor_map *map, size_t *size);
/* The i-th entry; both results are borrowed from the map. */
HOPE_API hope_status *hope_tensor_map_entry(const hope_tensor_map *map, size_t index,
                                   const char **name, hope_tensor **tensor);
/* The tensor named `name` (borrowed), or HOPE_NOT_FOUND. */
HOPE_API hope_status *hope_tensor_map_find(const hope_tensor_map *map, const char *name,
                                  hope_tensor **tensor);

/*===-- Files -------------------------------------------------------------===*/

/* Safetensors (https://github.com/huggingface/safetensors): every tensor must
   be F32, F64 or I64; the file is validated before anything is read. */
HOPE_API hope_status *hope_safetensors_read(const char *path, hope_tensor_map **out);
/* Writes every tensor of `map`, in order (replaces `path` atomically). */
HOPE_API hope_status *hope_safetensors_write(const char *path,
                                    const hope_tensor_map *map);

/* NumPy .npy, versions 1.0 to 3.0: little-endian <f4, <f8, <i8 in C order. */
HOPE_API hope_status *hope_npy_read(const char *path, hope_tensor **out);
/* Writes version 1.0 (2.0 for headers over 64 KiB), dense C order. */
HOPE_API hope_status *hope_npy_write(const char *path, const hope_tensor *tensor);

/*===-- Modules -----------------------------------------------------------===*/

/* A loaded artifact. */
typedef struct hope_module hope_module;

/* Loads the artifact at `path`: reads and validates its ELF file and
   manifest, checks that this host has the architecture and every CPU
   feature it was compiled for (naming each one missing), then dlopens it
   (RTLD_LOCAL) and resolves every entry point. The manifest is read from the
   file before dlopen runs any of the artifact's code. */
HOPE_API hope_status *hope_module_load(const char *path, hope_module **out);
HOPE_API void hope_module_retain(hope_module *module);
HOPE_API void hope_module_release(hope_module *module);

/* The manifest, as the artifact's JSON text. */
HOPE_API hope_status *hope_module_manifest(const hope_module *module, const char **json);
/* The manifest's `model`, `target.triple` and `target.cpu`. */
HOPE_API hope_status *hope_module_model(const hope_module *module, const char **model,
                               const char **triple, const char **cpu);

/* The most threads a session may ask for (hope_session_options.threads,
   hope-run --num-threads, OMP_NUM_THREADS). */
#define HOPE_MAX_THREADS 1024

/* How many threads the module's parallel loops use on the calling thread
   now: the OpenMP runtime's setting for this thread, which every invoke
   sets to its session's count (or the default); 1 for a module without
   parallel loops, which runs on the calling thread. */
HOPE_API hope_status *hope_module_threads(const hope_module *module, int32_t *threads);

HOPE_API hope_status *hope_module_entry_point_count(const hope_module *module,
                                           size_t *count);
HOPE_API hope_status *hope_module_entry_point_name(const hope_module *module,
                                          size_t index, const char **name);

/* One parameter of an entry point, as the manifest declares it. */
typedef struct hope_param {
  const char *name;
  hope_role role;
  hope_dtype dtype;
  size_t rank;
  /* `rank` sizes; -1 where the size is symbolic. */
  const int64_t *shape;
  /* `rank` names; NULL where the size is static. */
  const char *const *dim_names;
} hope_param;

/* The number of inputs (every role, weights included) and outputs of the
   entry point `function`, or HOPE_NOT_FOUND. */
HOPE_API hope_status *hope_module_signature(const hope_module *module,
                                   const char *function, size_t *n_inputs,
                                   size_t *n_outputs);
HOPE_API hope_status *hope_module_input(const hope_module *module, const char *function,
                               size_t index, hope_param *param);
HOPE_API hope_status *hope_module_output(const hope_module *module, const char *function,
                                size_t index, hope_param *param);

/*===-- Sessions ----------------------------------------------------------===*/

/* A module with its weights bound. */
typedef struct hope_session hope_session;

/* Where every buffer of a session's calls comes from: the tensors the
   runtime makes (dense copies of strided inputs, copies of outputs) and
   everything the artifact allocates (its temporaries and outputs).
   `alloc` returns `bytes` bytes aligned to `alignment` (a power of two, at
   least 64) or NULL; `free` releases what `alloc` returned. Both are called
   from any thread, the artifact's parallel loops included (they must be
   thread-safe), and `free` as long as such a tensor lives. */
typedef struct hope_allocator {
  void *(*alloc)(void *ctx, size_t bytes, size_t alignment);
  void (*free)(void *ctx, void *ptr);
  void *ctx;
} hope_allocator;

/* How a session runs. Set `struct_size` to sizeof(hope_session_options):
   the struct grows at its end, and the runtime reads only the fields the
   caller's version has. */
typedef struct hope_session_options {
  size_t struct_size;
  /* Threads for the artifact's parallel loops, 1 to HOPE_MAX_THREADS, set on
     the invoking thread at the start of every invoke; 0: OpenMP's default
     (OMP_NUM_THREADS, else one per core). */
  int32_t threads;
  /* Where the session runs: HOPE_DEVICE_HOST for CPU artifacts,
     HOPE_DEVICE_CUDA for artifacts compiled for "cuda" or "cuda-emulated";
     0 for the artifact's device.
     A CUDA session has its own stream: its calls run one at a time, each
     returning when its kernels are done. Inputs and states are device
     tensors (hope_tensor_to_device), outputs are device tensors, and
     weights given as host tensors are copied to the device when bound
     (update a mutable weight through a device tensor). */
  hope_device device;
  /* NULL: the C library's aligned_alloc and free, except that the session
     keeps its calls' large blocks (64 KiB and more; at most the most bytes
     one of its calls had in use at once) for its next calls and frees them
     when it is destroyed: a steady stream of calls faults no page in. */
  const hope_allocator *allocator;
} hope_session_options;

/* A new session of `module`; `options` NULL means the defaults (threads 0,
   the artifact's device, the C library's allocator). A CUDA session opens
   the device and loads the artifact's kernels onto it; without an NVIDIA
   driver or GPU it fails, naming what is missing. The options are copied (the
   allocator struct too). */
HOPE_API hope_status *hope_session_create(hope_module *module,
                                 const hope_session_options *options,
                                 hope_session **out);
HOPE_API void hope_session_retain(hope_session *session);
HOPE_API void hope_session_release(hope_session *session);
/* The session's module (borrowed from the session). */
HOPE_API hope_status *hope_session_module(const hope_session *session,
                                 hope_module **module);

/* Binds every weight of every entry point, by name, from a safetensors file
   (copied: the file is not kept open), as constants. Every weight must be in
   the file, with the manifest's dtype and shape, and nothing else may be: a
   tensor that is no weight of the module is an error naming it (a file of
   another model). On error nothing is bound. */
HOPE_API hope_status *hope_session_load_weights(hope_session *session, const char *path);

/* How a bound weight may change. */
typedef enum hope_weight_kind {
  /* Never changes while bound: the runtime may prepare it once (e.g. pack or
     transpose it) and reuse what it prepared in every call. */
  HOPE_WEIGHT_CONSTANT = 1,
  /* A parameter or optimizer state that the caller (e.g. a training step)
     may update in place between calls: nothing derived from it is kept
     across calls. */
  HOPE_WEIGHT_MUTABLE = 2,
} hope_weight_kind;

/* Binds one weight (retaining `tensor`). A constant's memory must stay
   unchanged while the session uses it; a mutable one's may change between
   calls, never during one. */
HOPE_API hope_status *hope_session_set_weight(hope_session *session, const char *name,
                                     hope_tensor *tensor,
                                     hope_weight_kind kind);

/* Runs the entry point `function`. `inputs` holds one tensor per input whose
   role is not `weight` (inputs and states), in manifest order; `outputs`
   receives one new tensor per output (results and states), in manifest
   order, which the caller releases. Dtypes, ranks, static sizes and the
   consistency of symbolic sizes are checked before the artifact runs; on
   error no output is written. */
HOPE_API hope_status *hope_session_invoke(hope_session *session, const char *function,
                                 hope_tensor *const *inputs, size_t n_inputs,
                                 hope_tensor **outputs, size_t n_outputs);

/* The same by name: `inputs` holds exactly the entry point's inputs and
   states (any other name is an error); `*outputs` is a new map of every
   output by name. A state output has its state input's name, so the map can
   feed the next call of a stream. */
HOPE_API hope_status *hope_session_invoke_map(hope_session *session,
                                     const char *function,
                                     const hope_tensor_map *inputs,
                                     hope_tensor_map **outputs);

/*===-- Devices -----------------------------------------------------------===*/

/* Where the session runs. */
HOPE_API hope_status *hope_session_device(const hope_session *session,
                                          hope_device *device);

/* A dense copy of `tensor` where `session` runs (for a host session, or a
   tensor already on the session's device: the tensor itself, retained). The
   copy is complete when this returns. */
HOPE_API hope_status *hope_tensor_to_device(hope_session *session,
                                            const hope_tensor *tensor,
                                            hope_tensor **out);

/* Counters of a session on a device (all zero for a host session). */
typedef struct hope_device_stats {
  /* Set to sizeof(hope_device_stats): fields past it are not written. */
  size_t struct_size;
  /* Calls that ran, and the kernels they launched. */
  uint64_t calls;
  uint64_t launches;
  /* Kernels the last call launched. */
  uint64_t last_call_launches;
  /* Device memory of the session's arena: held by live tensors and the
     running call, the most that ever was, and taken from the driver
     (cached blocks included). */
  uint64_t bytes_in_use;
  uint64_t bytes_peak;
  uint64_t bytes_reserved;
} hope_device_stats;

HOPE_API hope_status *hope_session_device_stats(const hope_session *session,
                                                hope_device_stats *stats);

/* Times every kernel launch of later calls with device events (off by
   default: two events per launch). */
HOPE_API hope_status *hope_session_set_profiling(hope_session *session,
                                                 int32_t enabled);

/* The module's GPU kernels (0 for a CPU artifact). */
HOPE_API hope_status *hope_module_kernel_count(const hope_module *module,
                                               size_t *count);

/* Kernel `index` of the session's module: its name, how often calls
   launched it, and the milliseconds those launches took on the device
   (measured while profiling was on). */
typedef struct hope_kernel_stats {
  const char *name;
  uint64_t launches;
  double milliseconds;
} hope_kernel_stats;

HOPE_API hope_status *hope_session_kernel_stats(const hope_session *session,
                                                size_t index,
                                                hope_kernel_stats *stats);

/* Which of the artifact's images the session loaded ("cubin sm_90",
   "ptx sm_80 (JIT for sm_90)", "emulated") and on which device ("NVIDIA
   H100 80GB HBM3 (sm_90, driver 13.0)"); NULL for a host session. */
HOPE_API hope_status *hope_session_device_info(const hope_session *session,
                                               const char **image,
                                               const char **device);

#ifdef __cplusplus
}
#endif

#endif /* HOPE_RUNTIME_H */
