//===- Differentiate.h - the reverse sweep of nl-differentiate --*- C++ -*-===//
//
// Reverse-mode AD on tensor IR (docs/training.md). A ReverseSweep walks the
// ops of one block backwards from the end of that block, where its builder
// stands, and emits the adjoint of every op whose results have one. The
// forward values are the block's own ops (already emitted), so every rule may
// use them. Rules for one family of ops live in their own file:
//   DifferentiateSweep.cpp   the sweep, tensor ops (slices, reshapes, fill,
//                            select, extract/insert), the dispatcher
//   DifferentiateGeneric.cpp linalg.generic
//   DifferentiateExtremum.cpp  max/min reductions (linalg.generic)
//   DifferentiateLoop.cpp    scf.for (states recorded, iterations recomputed)
//   DifferentiateScalar.cpp  scalar arith/math derivatives
//
//===----------------------------------------------------------------------===//

#ifndef NL_TRANSFORMS_DIFFERENTIATE_H
#define NL_TRANSFORMS_DIFFERENTIATE_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir::nl::autodiff {

/// A float scalar, or a ranked tensor of floats: what has an adjoint.
bool isDifferentiable(Type type);

/// A value whose adjoint nobody needs: constants, tensor.empty, a fill of a
/// constant (and values of types without adjoints).
bool isInactive(Value value);

/// Recomputes a generic's body at one point of an adjoint generic's
/// iteration space from the adjoint generic's block arguments: appends the
/// recomputed ops and seeds `adjoints` with the adjoints of the values they
/// compute that the results depend on (the scalar reverse sweep starts there).
using RecomputeBody = function_ref<void(
    OpBuilder &, Location, ValueRange args,
    SmallVectorImpl<Operation *> &recomputed,
    llvm::DenseMap<Value, Value> &adjoints)>;

/// The adjoints of one reverse sweep, keyed by forward value.
class ReverseSweep {
public:
  explicit ReverseSweep(OpBuilder &builder) : builder(builder) {}

  /// The adjoint of `primal` so far, or null.
  Value lookup(Value primal) const { return adjoints.lookup(primal); }
  /// Adds `adjoint` to the adjoint of `primal` (nothing for inactive values).
  void accumulate(Value primal, Value adjoint);
  /// Replaces the adjoint of `primal`.
  void set(Value primal, Value adjoint) { adjoints[primal] = adjoint; }
  /// The adjoint of `primal`, zeros where it has none.
  Value getOrZeros(Location loc, Value primal);

  /// Emits the adjoints of `ops` (a block's ops, in program order), last op
  /// first, at the builder's insertion point.
  LogicalResult run(ArrayRef<Operation *> ops);

  OpBuilder &getBuilder() { return builder; }

  /// Zeros shaped like `like` (a float scalar or tensor), at the builder.
  Value zerosLike(Location loc, Value like);
  /// a + b, elementwise for tensors.
  Value add(Location loc, Value a, Value b);

private:
  LogicalResult reverse(Operation *op);
  LogicalResult reverseGeneric(linalg::GenericOp op);
  LogicalResult reverseGather(linalg::GenericOp op);
  LogicalResult reverseExtremum(linalg::GenericOp op, bool &handled);
  /// Adds to the adjoint of `adjointInputs[k]`, an operand of `op`, a generic
  /// over `op`'s iteration space that reads `adjointInputs` (indexed by
  /// `adjointMaps`), recomputes the body at every point, runs the scalar
  /// reverse sweep through it and sums the adjoint of its block argument k
  /// into the element `adjointMaps[k]` indexes.
  LogicalResult emitOperandAdjoint(linalg::GenericOp op, unsigned k,
                                   ArrayRef<Value> adjointInputs,
                                   ArrayRef<AffineMap> adjointMaps,
                                   RecomputeBody recompute);
  LogicalResult reverseFor(scf::ForOp op);
  LogicalResult reverseTensorOp(Operation *op, bool &handled);

  OpBuilder &builder;
  llvm::DenseMap<Value, Value> adjoints;
};

/// Whether `extract`, in the body of `op`, reads a float tensor that `op`
/// does not take as an operand (a gather, DifferentiateGather.cpp).
bool isGatheredFrom(linalg::GenericOp op, tensor::ExtractOp extract);

/// Whether a value `op` yields depends on block argument `argument`.
bool reachesYield(linalg::GenericOp op, BlockArgument argument);

/// Fails with an error at the op when the body of `op` uses a float computed
/// outside it other than a table it gathers from (when `allowGathers`).
LogicalResult refuseCapturedFloats(linalg::GenericOp op, bool allowGathers);

/// For a scalar op (arith, math) with result adjoint `resultAdjoint`, calls
/// `accumulate(operand, adjoint)` for each float operand it depends on.
/// Fails (without a diagnostic) when the op has no rule.
LogicalResult
scalarAdjoints(OpBuilder &builder, Operation *op, Value resultAdjoint,
               function_ref<void(Value operand, Value adjoint)> accumulate);

/// Whether `op` is an op with scalar operands and results that
/// scalarAdjoints knows, or one that has no adjoint (integer, comparisons).
bool isScalarOp(Operation *op);

/// The reverse sweep of a block of scalar ops (a linalg.generic's body):
/// `adjoints` holds the seeds (the yields') and receives every adjoint.
/// Errors name the op without a rule.
LogicalResult reverseScalarOps(OpBuilder &builder, ArrayRef<Operation *> ops,
                               llvm::DenseMap<Value, Value> &adjoints);

} // namespace mlir::nl::autodiff

#endif // NL_TRANSFORMS_DIFFERENTIATE_H
