//===- CMSChain.h - a CMS op as the nl ops it is made of --------*- C++ -*-===//
//
// block_l(x) = x + W_out s(W_in RMSNorm(x)) and how a variant combines the
// blocks (semantics section 3), shared by the frozen lowering
// (nl-lower-blocks-to-linalg) and the local objective of CMS test-time
// learning (nl-build-test-time-learning), which needs each block's input and
// branch.
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_CMSCHAIN_H
#define NL_CODEGEN_CMSCHAIN_H

#include "nl/IR/NLOps.h"

#include "mlir/IR/Builders.h"

namespace mlir::nl {

/// W_out s(W_in RMSNorm(x)): the MLP branch of block `block` of `op`.
Value buildCMSBranch(OpBuilder &builder, Location loc, CMSOp op, Value x,
                     unsigned block);

/// `op`'s function of its input, each block applied by `block(x, l)`
/// (x + buildCMSBranch(x, l) for the op itself): chained for the sequential
/// and nested variants, sum_l w_l block_l(input) for the independent one.
Value buildCMSChain(OpBuilder &builder, Location loc, CMSOp op,
                    function_ref<Value(Value x, unsigned block)> block);

} // namespace mlir::nl

#endif // NL_CODEGEN_CMSCHAIN_H
