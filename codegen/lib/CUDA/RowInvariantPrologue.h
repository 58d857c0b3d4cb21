//===- RowInvariantPrologue.h - a fused producer's per-row part -*- C++ -*-===//
//
// A producer fused into a tiled contraction's staging (ContractionFusion.h)
// runs once per staged element, and each element of A is staged once per
// column of output tiles. The part of its payload that does not depend on
// the contraction's k (an RMSNorm's rsqrt of the row's mean square) is the
// same for a whole row of the tile: the kernel computes it once per row of
// the block's tile, before the k loop, into workgroup memory.
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_LIB_CUDA_ROWINVARIANTPROLOGUE_H
#define NL_CODEGEN_LIB_CUDA_ROWINVARIANTPROLOGUE_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir::nl::cuda {

/// The ops of a producer's payload (constants aside) whose values do not
/// depend on the contraction's k, and those of their results the rest of
/// the payload (or its yield) uses: what the kernel keeps per row. Empty
/// `kept`: nothing worth keeping (only inputs read as they are).
struct RowInvariantPart {
  DenseSet<Operation *> ops;
  /// The producer's input operands those ops read.
  SmallVector<OpOperand *> inputs;
  SmallVector<Value> kept;
};

/// The k-invariant part of `producer`, which produces the input of a
/// contraction that reads it through `inputMap` (k: the contraction's
/// reduction dimension).
RowInvariantPart findRowInvariantPart(linalg::GenericOp producer,
                                      AffineMap inputMap, unsigned k);

} // namespace mlir::nl::cuda

#endif // NL_CODEGEN_LIB_CUDA_ROWINVARIANTPROLOGUE_H
