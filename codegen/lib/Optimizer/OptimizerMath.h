//===- OptimizerMath.h - pieces of the optimizer lowerings ------*- C++ -*-===//
//
// Scalars of a training step (a run-time learning rate, bias corrections
// from the step count, norms) live in one-element tensors computed by
// linalg.generic ops, and reach the element-wise updates as broadcast
// inputs: no value is extracted from a tensor outside a linalg op, which a
// target that runs every access in a kernel (CUDA) needs. (The CUDA backend
// does not yet form kernels from one-trip loops and whole-tensor
// reductions: the optimizer levels compile for the CPU targets today.) Scalars
// are computed in float64 and rounded once to a tensor's element type. Also the
// Newton-Schulz orthogonalisation of Muon and M3.
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

/// Scalar helpers for generic bodies: a float64 constant, a value (integer
/// or float) as float64, a float64 rounded once to `type`, and whether an
/// i64 step count is a multiple of `period`.
Value f64Constant(OpBuilder &b, Location loc, double value);
Value toF64(OpBuilder &b, Location loc, Value scalar);
Value roundTo(OpBuilder &b, Location loc, Value value, Type type);
Value isMultipleOf(OpBuilder &b, Location loc, Value count, int64_t period);

/// A scalar: a linalg.generic over one loop of one trip from scalar
/// `inputs` (0-D tensors or scalars made here) to a tensor<1x`type`> (the
/// body receives the inputs' values).
Value scalarGeneric(TensorBuilder &tb, ValueRange inputs, Type type,
                    ScalarBody body);
/// Element-wise over `tensors` (the shape and element type of the first)
/// with the `scalars` broadcast: the body receives the tensors' elements,
/// then the scalars.
Value mapWithScalars(TensorBuilder &tb, ValueRange tensors, ValueRange scalars,
                     ScalarBody body);
/// A scalar as the 0-D tensor an op's result type asks for (a reshape).
Value toZeroD(TensorBuilder &tb, Value scalar);
/// sum(x^2) over every element of `tensor`, accumulated in float64, as a
/// scalar.
Value sumOfSquaresF64(TensorBuilder &tb, Value tensor);
/// NS5(m) for a static matrix `m`: X = m / (||m||_F + 1e-7) (transposed
/// first when it has more rows than columns), then five steps of
/// X <- a X + (b A + c A A) X with A = X X^T, transposed back.
Value newtonSchulz5(TensorBuilder &tb, Value matrix);

} // namespace mlir::nl::optimizer

#endif // NL_CODEGEN_OPTIMIZER_OPTIMIZERMATH_H
