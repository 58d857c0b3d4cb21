//===- EmulatedDriver.h - the CPU stand-in for the CUDA driver --*- C++ -*-===//
//
// Runs "cuda-emulated" artifacts (docs/artifact-abi.md, "CUDA artifacts")
// through the same DriverApi table as libcuda.so.1, so that the backend's
// module loading, arena, stream, copies and launches are tested on machines
// without a GPU. Device memory is host memory, copies are memcpy, the
// stream runs each operation when it is enqueued, events read the host's
// steady clock, and a kernel is the artifact's exported host function
// `hope_kernel_<name>`, which itself runs every block and thread.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_RUNTIME_LIB_CUDA_EMULATEDDRIVER_H
#define HOPE_RUNTIME_LIB_CUDA_EMULATEDDRIVER_H

#include "DriverApi.h"

namespace hope::rt::cuda {

/// What the runtime hands the stand-in's cuModuleLoadDataEx in place of the
/// image bytes: the artifact's dlopen handle, in which the kernels are
/// resolved. (The artifact's "emulated" image holds nothing to load.)
struct EmulatedImage {
  static constexpr char kMagic[8] = "hopeemu";
  char magic[8];
  void *library;
};

/// An emulated kernel: `hope_kernel_<name>` in the artifact. Returns 0, or
/// nonzero when the launch gave it less dynamic shared memory than its views
/// reach (nothing ran; a GPU would have read past the block's memory).
using EmulatedKernelFn = int32_t (*)(void **params, const uint32_t grid[3],
                                     const uint32_t block[3],
                                     uint32_t sharedBytes);

/// The limits the stand-in enforces at launch, as an sm_90 device does.
constexpr int kEmulatedMaxThreadsPerBlock = 1024;
constexpr int kEmulatedMaxSharedBytes = 227 * 1024;

/// The OpenMP threads the kernels launched on `stream` run their blocks on
/// (a session's `threads`; 0 leaves the launching thread's setting): before
/// each kernel the stand-in sets them on the launching thread through the
/// artifact's omp_set_num_threads, as a CPU artifact's call does.
void emulatedSetStreamThreads(CUstream stream, int threads);

/// Device allocations the stand-in holds now (tests check for leaks).
int64_t emulatedLiveAllocations();

} // namespace hope::rt::cuda

#endif // HOPE_RUNTIME_LIB_CUDA_EMULATEDDRIVER_H
