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
#define HOPE_SERVICES_VERSION 1

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
} hope_services;

/* Entry point `E` of an artifact: `hope_entry_E`. Returns 0 when it ran, or
   the 1-based number of the manifest precondition the inputs break. */
typedef int32_t (*hope_entry_fn)(void **args, const hope_services *services);

#ifdef __cplusplus
}
#endif

#endif /* HOPE_ARTIFACT_H */
