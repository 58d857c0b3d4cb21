/*===- hope/artifact.h - what a compiled artifact gets from the runtime -*- C -*-===*\
|*                                                                            *|
|* The service table: every function a compiled artifact needs from the      *|
|* runtime, handed to each call of an entry point (docs/artifact-abi.md).     *|
|* Artifacts call no runtime symbol; programs that call an artifact's entry   *|
|* points without the runtime (tests, other runtimes) fill this table.        *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef HOPE_ARTIFACT_H
#define HOPE_ARTIFACT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The table version this header describes. The table only grows at its end:
   an artifact needing version N (its manifest's "services") runs with any
   table of version N or later. */
#define HOPE_SERVICES_VERSION 3

typedef struct hope_services {
  /* sizeof the caller's table, and its version. */
  uint32_t struct_size;
  uint32_t version;
  /* The call's own state, passed back to every function below. */
  void *context;

  /* Version 1: host memory. `alloc` returns `bytes` bytes aligned to
     `alignment` (a power of two); `free` releases what `alloc` returned
     (NULL is a no-op). Both are called from every thread of the call's
     parallel loops. Every buffer of the artifact, the outputs included,
     comes from `alloc`; the caller releases the outputs with `free`. */
  void *(*alloc)(void *context, uint64_t bytes, uint64_t alignment);
  void (*free)(void *context, void *pointer);

  /* Version 2: device memory and kernels (GPU targets), stream-ordered on
     the session's stream. Errors are sticky: a failed service records the
     first error of the call and returns NULL or nonzero, every later
     `launch` of the call does nothing, and the runtime reports the error
     when the entry point returns (so host code may ignore the results).
     `device_alloc` returns `bytes` bytes of device memory (256-byte
     aligned) or NULL; `device_free` releases it (NULL is a no-op); the
     outputs' buffers come from `device_alloc` and belong to the caller.
     `launch` runs kernel number `kernel` (its index in the manifest's
     "kernels") on `grid` blocks of `block` threads with `shared_bytes` of
     dynamic shared memory; `params` holds one pointer per kernel parameter,
     as cuLaunchKernel's kernelParams. Returns 0 when the launch was
     enqueued. */
  void *(*device_alloc)(void *context, uint64_t bytes);
  void (*device_free)(void *context, void *pointer);
  int32_t (*launch)(void *context, uint32_t kernel, const uint32_t grid[3],
                    const uint32_t block[3], uint32_t shared_bytes,
                    void **params);

  /* Version 3: a status word the call's kernels wrote (GPU targets; a
     check kernel's verdict on preconditions that read device data).
     `read_status` waits until the session's stream has run everything the
     call enqueued so far and returns the int32_t at `device_word` (from
     `device_alloc`), so that the host code can return it before launching
     work that relies on it. Errors are sticky as above; after one it
     returns 0. */
  int32_t (*read_status)(void *context, const void *device_word);
} hope_services;

/* Entry point `E` of an artifact: `hope_entry_E`. Returns 0 when it ran, or
   the 1-based number of the manifest precondition the inputs break. */
typedef int32_t (*hope_entry_fn)(void **args, const hope_services *services);

#ifdef __cplusplus
}
#endif

#endif /* HOPE_ARTIFACT_H */
