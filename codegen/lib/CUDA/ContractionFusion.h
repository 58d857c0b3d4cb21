//===- ContractionFusion.h - ops fused into a tiled contraction -*- C++ -*-===//
//
// What nl-cuda-tile-contractions folds into a contraction's kernel instead
// of leaving it a kernel of its own: the constant its accumulator starts
// from, and the elementwise consumer that follows it.
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

} // namespace mlir::nl::cuda

#endif // NL_CODEGEN_LIB_CUDA_CONTRACTIONFUSION_H
