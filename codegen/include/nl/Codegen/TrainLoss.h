//===- TrainLoss.h - the losses of a training step --------------*- C++ -*-===//
//
// The summed losses train_step (nl-build-train-step) and CMS test-time
// learning (nl-build-test-time-learning) differentiate: the
// mean is taken outside the differentiated function, by seeding its VJP with
// 1 / count, so that the count (a function of the targets or the shapes)
// never meets the reverse sweep.
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_TRAINLOSS_H
#define NL_CODEGEN_TRAINLOSS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace mlir::nl::train {

/// sum over positions (b, t) with targets[b, t] >= 0 of
/// logsumexp(logits[b, t, :]) - logits[b, t, targets[b, t]]: a 0-D tensor
/// of the logits' element type. logits: [B, T, V] float; targets: [B, T]
/// i64. The row maximum of the logsumexp is a stop-gradient (its derivative
/// cancels exactly), so the reverse sweep needs no rule for max.
Value buildSummedCrossEntropy(OpBuilder &builder, Location loc, Value logits,
                              Value targets);

/// nl.precondition: every target is below `vocabulary` (a target that no
/// logit stands for would silently add logsumexp alone).
void buildTargetsPrecondition(OpBuilder &builder, Location loc, Value targets,
                              int64_t vocabulary);

/// The number of non-negative targets (at least 1), as a 0-D tensor of
/// `elementType`.
Value buildTargetCount(OpBuilder &builder, Location loc, Value targets,
                       Type elementType);

/// sum of (output - targets)^2 over every element: a 0-D tensor.
Value buildSummedSquaredError(OpBuilder &builder, Location loc, Value output,
                              Value targets);

/// An inner objective (#nl.l2, #nl.dot) of `output` and `targets` (one
/// shape, the features last), summed over every other dimension: a 0-D
/// tensor. #nl.l2's mean over the features needs their number static.
Value buildSummedObjective(OpBuilder &builder, Location loc,
                           Attribute objective, Value output, Value targets);

/// The number of elements of `tensor` (at least 1), as a 0-D tensor of
/// `elementType`.
Value buildElementCount(OpBuilder &builder, Location loc, Value tensor,
                        Type elementType);

/// A summed loss of an output and its targets: a 0-D tensor
/// (buildSummedCrossEntropy, buildSummedSquaredError).
using SummedLoss = Value (*)(OpBuilder &, Location, Value output,
                             Value targets);

/// Turns `function` (a clone of a forward) into the function its VJP is
/// taken of: a last argument `targets` of `targetsType` is appended, and its
/// only result is `loss` of its result `outputIndex` and the targets.
LogicalResult replaceResultsWithLoss(func::FuncOp function, Type targetsType,
                                     unsigned outputIndex, SummedLoss loss);

/// a * b of two 0-D tensors.
Value buildScalarProduct(OpBuilder &builder, Location loc, Value a, Value b);

/// 1 / a of a 0-D tensor.
Value buildScalarReciprocal(OpBuilder &builder, Location loc, Value a);

} // namespace mlir::nl::train

#endif // NL_CODEGEN_TRAINLOSS_H
