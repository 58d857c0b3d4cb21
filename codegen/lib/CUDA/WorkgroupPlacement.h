//===- WorkgroupPlacement.h - carried buffers in workgroup memory -*- C++ -*-===//
//
// A memory stage's kernel keeps what its loops carry (states, momenta,
// chunk-start references, scan accumulators) in one block's workgroup
// memory when it fits, instead of in global memory (nl-cuda-form-kernels).
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_CUDA_WORKGROUPPLACEMENT_H
#define NL_CODEGEN_CUDA_WORKGROUPPLACEMENT_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include <string>

namespace mlir::nl::cuda {

/// The block a memory stage's launch runs: one (batch, head).
struct StageBlock {
  gpu::LaunchOp launch;
  /// The kernel's name, for remarks.
  std::string name;
  /// The grid's batch extent (a host value) and the heads.
  Value batch;
  int64_t heads = 0;
  Value blockB, blockH, thread, threadCount;
};

/// A [batch, heads, ...] buffer that the block uses only at its own
/// (batch, head) slice: a host buffer the launch captures (its value after
/// the kernel is copied back to it when the host reads it) or a buffer
/// allocated inside the kernel.
struct WorkgroupCandidate {
  Value buffer;
  /// What it holds, for remarks.
  std::string what;
  /// For each dimension after the first two: its size, or for a dynamic
  /// one an upper bound (a chunk's tokens: the chunk size). May be empty
  /// when those dimensions are static.
  SmallVector<int64_t> bounds;
  /// Scratch of the kernel (allocated inside it): when workgroup memory is
  /// full it goes to the block's slot of one global arena instead, so that
  /// every slice is at a constant offset from one block base (one live
  /// address instead of one per buffer), without a remark.
  bool scratch = false;
};

/// Whether `index` is a block's head `blockH` of `heads`: with one head,
/// canonicalisation leaves the constant 0 in its place.
bool isHeadIndex(Value index, Value blockH, int64_t heads);

/// Places the candidates, in order while their slices fit in `limitBytes`,
/// in the launch's dynamic shared memory (`gpu.dynamic_shared_memory`,
/// whose size the launch then requests): every access inside the kernel
/// goes to the block's slice there. Scratch that does not fit goes to the
/// block's slot of a global arena allocated before the launch; other
/// buffers stay where they are with a remark saying which buffer and why.
/// Returns the placed buffers that nothing uses any more (for the caller to
/// erase).
SmallVector<Value> placeInWorkgroupMemory(const StageBlock &block,
                                          ArrayRef<WorkgroupCandidate> candidates,
                                          int64_t limitBytes);

} // namespace mlir::nl::cuda

#endif // NL_CODEGEN_CUDA_WORKGROUPPLACEMENT_H
