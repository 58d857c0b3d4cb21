//===- LocalObjectiveLoss.h - the loss of signal = local --------*- C++ -*-===//
//
// CMS test-time learning from a declared local objective (docs/training.md,
// "CMS test-time learning"): block l of a CMS op with `signal = local`
// learns ell(branch_l(x_l), x_l), its MLP branch W_out s(W_in RMSNorm(x))
// regressed on its own input x_l, the input a stop-gradient (key and target
// are data).
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_TESTTIMELEARNING_LOCALOBJECTIVELOSS_H
#define NL_CODEGEN_TESTTIMELEARNING_LOCALOBJECTIVELOSS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::nl::ttl {

/// Turns `function` (a clone of the per-token forward) into the function
/// whose VJP gives every local-signal block its gradient: its only result is
/// the sum, over its CMS ops with `signal = local` and their blocks, of the
/// blocks' local objectives. Each such op becomes its chain built from
/// stop-gradient block inputs (the same values forward), so that no block's
/// objective reaches another block's parameters.
LogicalResult replaceResultsWithLocalLoss(func::FuncOp function);

} // namespace mlir::nl::ttl

#endif // NL_CODEGEN_TESTTIMELEARNING_LOCALOBJECTIVELOSS_H
