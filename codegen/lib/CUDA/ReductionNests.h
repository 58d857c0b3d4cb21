//===- ReductionNests.h - top-level reduction loops as parallel nests -*- C++ -*-===//
//
// convert-linalg-to-parallel-loops keeps a reduction's loops sequential
// (scf.for) and, where the reduction dimension comes first, outside the
// parallel ones: `for r { parallel p { out[p] += f(r, p) } }` (a gradient
// summed over the batch), or only fors for a full reduction into a scalar
// (a loss, a squared norm). Such a nest carries nothing, so it is not a
// memory stage; nl-cuda-form-kernels makes kernels of scf.parallel nests,
// and these become ones first.
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_CUDA_REDUCTIONNESTS_H
#define NL_CODEGEN_CUDA_REDUCTIONNESTS_H

#include "mlir/IR/Block.h"

namespace mlir::nl::cuda {

/// Inside `scope` (a memory stage's chunk loop), every perfect nest
/// `for r.. { parallel p { body } }` whose iterations own their outputs
/// (as below) becomes `parallel p { for r.. { body } }`, merged into the
/// scf.parallel it is the only op of: a memory stage's threads share its
/// iterations, where thread 0 alone would otherwise run the nest.
void hoistParallelsOutOfReductions(Operation *scope);

/// Rewrites every top-level `scf.for` of `body` without iter_args:
/// - `for r.. { parallel p { body } }`, where every store of the body
///   writes an element indexed by every p (each p owns its outputs), into
///   `parallel p { for r.. { body } }`: each output is summed by one thread
///   in the order the host would sum it;
/// - any other such nest (a full reduction) into a parallel nest of one
///   iteration: one thread runs it.
void parallelizeReductionNests(Block &body);

} // namespace mlir::nl::cuda

#endif // NL_CODEGEN_CUDA_REDUCTIONNESTS_H
