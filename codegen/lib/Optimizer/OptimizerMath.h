//===- OptimizerMath.h - pieces of the optimizer lowerings ------*- C++ -*-===//
//
// Scalars of a training step (the step count, a run-time learning rate, bias
// corrections) computed in float64 and rounded once to a tensor's element
// type, reductions of a whole tensor to one float64 value, and the
// Newton-Schulz orthogonalisation of Muon and M3, all as linalg/arith on
// tensors (nothing target-specific).
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_OPTIMIZER_OPTIMIZERMATH_H
#define NL_CODEGEN_OPTIMIZER_OPTIMIZERMATH_H

#include "nl/Codegen/TensorBuilders.h"

namespace mlir::nl::optimizer {

/// The coefficients of the quintic Newton-Schulz iteration (semantics doc,
/// section 6; Keller Jordan's Muon).
constexpr double kNewtonSchulzA = 3.4445;
constexpr double kNewtonSchulzB = -4.7750;
constexpr double kNewtonSchulzC = 2.0315;
constexpr int kNewtonSchulzSteps = 5;
/// Added to the Frobenius norm before the iteration divides by it.
constexpr double kNewtonSchulzNormEps = 1e-7;

/// A float64 constant.
Value f64Constant(OpBuilder &b, Location loc, double value);
/// The value of a 0-D tensor (an integer step count or a float rate) as a
/// float64 scalar.
Value scalarAsF64(OpBuilder &b, Location loc, Value tensor0d);
/// `value` (float64) rounded once to `type`.
Value roundTo(OpBuilder &b, Location loc, Value value, Type type);
/// Whether the step count (a 0-D i64 tensor) is a multiple of `period`.
Value isMultipleOf(OpBuilder &b, Location loc, Value step, int64_t period);
/// sum(x^2) over every element of `tensor`, accumulated in float64.
Value sumOfSquaresF64(TensorBuilder &tb, Value tensor);
/// NS5(m) for a static matrix `m`: X = m / (||m||_F + 1e-7) (transposed
/// first when it has more rows than columns), then five steps of
/// X <- a X + (b A + c A A) X with A = X X^T, transposed back.
Value newtonSchulz5(TensorBuilder &tb, Value matrix);

} // namespace mlir::nl::optimizer

#endif // NL_CODEGEN_OPTIMIZER_OPTIMIZERMATH_H
