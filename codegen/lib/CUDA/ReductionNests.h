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

/// Inside `scope`, every perfect nest `for r.. { parallel p { body } }`
/// (fors without iter_args) where every store of the body writes an element
/// indexed by every p (each p owns its outputs, and reads of a stored
/// buffer read that element) becomes `parallel p { for r.. { body } }`,
/// merged into the scf.parallel it is then the only op of: each output is
/// summed by one thread in the order the host would sum it, and the
/// kernel's threads share the iterations (where one thread would otherwise
/// run the inner nest).
void hoistParallelsOutOfReductions(Operation *scope);

/// Every top-level `scf.for` of `body` without iter_args that is left (a
/// full reduction into a scalar: a loss, a squared norm) goes into a
/// parallel nest of one iteration: one thread runs it.
void runReductionNestsOnOneThread(Block &body);

} // namespace mlir::nl::cuda

#endif // NL_CODEGEN_CUDA_REDUCTIONNESTS_H
