//===- ContractionFusion.h - ops fused into a tiled contraction -*- C++ -*-===//
//
// What nl-cuda-tile-contractions folds into a contraction's kernel instead
// of leaving it a kernel of its own: the constant its accumulator starts
// from, the elementwise producers of its inputs, and the elementwise
// consumer that follows it.
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_LIB_CUDA_CONTRACTIONFUSION_H
#define NL_CODEGEN_LIB_CUDA_CONTRACTIONFUSION_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir::nl::cuda {

/// The init value of output `c` of a contraction: a scalar when the op that
/// last wrote it, right before in the same block, is a linalg.fill of it or
/// a linalg.copy into it of a buffer filled with a scalar (what
/// bufferization leaves for an accumulator that starts at zero); the copy
/// is then dead (the caller erases it).
struct InitSource {
  Value scalar;
  linalg::CopyOp deadCopy;
};
InitSource findInit(linalg::GenericOp generic, Value c);

/// An elementwise consumer right after `generic` that reads its output `c`
/// (what a contraction's activation or residual add is after
/// nl-fuse-elementwise): identity maps of the output's rank, `c` one of its
/// inputs, and nothing else using `c`. The tiled kernel then stores the
/// consumer's result instead of `c`. Allocations between the two (the
/// consumer's output) are moved before `generic` when one is found.
linalg::GenericOp findEpilogue(linalg::GenericOp generic, Value c);

/// The elementwise producer of input `input` of `generic` (an RMSNorm's
/// scaling before a projection, an activation before a layer): the last op
/// before `generic` in its block that touches that input's buffer (an
/// allocation), a linalg.generic, every loop parallel, whose one output is
/// that buffer, written whole through a permutation map and read, if at
/// all, only at the element written (an in-place norm); inputs by
/// projected-permutation maps (a per-row scale broadcast along the row);
/// and a plain payload. After `generic` nothing
/// may read the buffer before overwriting it (bufferization reuses
/// buffers). None of the producer's input buffers may be written between
/// it and `generic`, nor be one of `kernelWrites` (what the tiled kernel
/// writes): the kernel reads them when it stages its tiles. The tiled
/// kernel then applies its payload while staging the input, and the
/// producer is dead.
linalg::GenericOp findPrologue(linalg::GenericOp generic, unsigned input,
                               ArrayRef<Value> kernelWrites);

} // namespace mlir::nl::cuda

#endif // NL_CODEGEN_LIB_CUDA_CONTRACTIONFUSION_H
