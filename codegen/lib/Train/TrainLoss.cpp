//===- TrainLoss.cpp - the losses of a training step ----------------------===//

#include "nl/Codegen/TrainLoss.h"

#include "nl/Codegen/TensorBuilders.h"
#include "nl/IR/NLOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;
using namespace mlir::nl;

namespace {

/// The map of `rank` loops onto a 0-D tensor.
AffineMap toScalar(OpBuilder &builder, unsigned rank) {
  return AffineMap::get(rank, 0, {}, builder.getContext());
}

SmallVector<unsigned> allLoops(unsigned rank) {
  SmallVector<unsigned> loops;
  for (unsigned loop = 0; loop < rank; ++loop)
    loops.push_back(loop);
  return loops;
}

/// sum of `term(element, ...)` over every element of `inputs` (one shape):
/// a 0-D tensor of `elementType`. Narrower floats are summed in float64 and
/// rounded once: a float32 sum in order over B x T x width terms drifts
/// (2e-4 relative at 512K terms, the HOPE block's loss at T = 1K).
Value sumAll(TensorBuilder &tb, ValueRange inputs, Type elementType,
             function_ref<Value(OpBuilder &, Location, ValueRange)> term) {
  OpBuilder &builder = tb.builder();
  unsigned rank = cast<RankedTensorType>(inputs.front().getType()).getRank();
  SmallVector<AffineMap> maps(inputs.size(), tb.identity(rank));
  auto floatType = dyn_cast<FloatType>(elementType);
  Type accumulator = floatType && floatType.getWidth() < 64
                         ? Type(builder.getF64Type())
                         : elementType;
  Value sum = tb.generic(
      inputs, maps, {}, toScalar(builder, rank), accumulator, allLoops(rank),
      0.0, [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
        Value value = term(b, loc, args.drop_back());
        if (value.getType() != accumulator)
          value = arith::ExtFOp::create(b, loc, accumulator, value);
        return arith::AddFOp::create(b, loc, args.back(), value);
      });
  if (accumulator == elementType)
    return sum;
  return tb.generic(sum, toScalar(builder, 0), {}, toScalar(builder, 0),
                    elementType, {}, std::nullopt,
                    [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
                      return arith::TruncFOp::create(b, loc, elementType,
                                                     args[0]);
                    });
}

/// Whether the i64 `target` is a position to learn (non-negative).
Value isCounted(OpBuilder &b, Location loc, Value target) {
  Value zero = arith::ConstantIntOp::create(b, loc, b.getI64Type(), 0);
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, target,
                               zero);
}

/// A 0-D tensor holding max(`count`, 1) / 1 of `elementType`.
Value atLeastOne(OpBuilder &b, Location loc, Value count) {
  TensorBuilder tb(b, loc);
  return tb.map(count, [](OpBuilder &nb, Location nl, ValueRange args) {
    Type type = args[0].getType();
    Value one = arith::ConstantOp::create(nb, nl, type,
                                          nb.getFloatAttr(type, 1.0));
    return arith::MaximumFOp::create(nb, nl, args[0], one).getResult();
  });
}

} // namespace

Value train::buildSummedCrossEntropy(OpBuilder &b, Location loc, Value logits,
                                     Value targets) {
  TensorBuilder tb(b, loc);
  Type element = cast<RankedTensorType>(logits.getType()).getElementType();
  AffineMap rows = tb.dropLast(3), cells = tb.identity(3);
  SmallVector<OpFoldResult> rowSizes = tb.sizes(targets);
  // The row maximum, a constant for the reverse sweep.
  Value maximum = tb.generic(
      logits, cells, rowSizes, rows, element, {2},
      -std::numeric_limits<double>::infinity(),
      [](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        return arith::MaximumFOp::create(nb, nl, args[0], args[1]);
      });
  maximum = StopGradientOp::create(b, loc, maximum);
  Value sumExp = tb.generic(
      ValueRange{logits, maximum}, {cells, rows}, rowSizes, rows, element, {2},
      0.0, [](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        Value shifted = arith::SubFOp::create(nb, nl, args[0], args[1]);
        Value term = math::ExpOp::create(nb, nl, shifted);
        return arith::AddFOp::create(nb, nl, args[2], term);
      });
  // The target's logit: a one-hot sum over the vocabulary (no gather, so the
  // generic rule of nl-differentiate covers it).
  Value picked = tb.generic(
      ValueRange{logits, targets}, {cells, rows}, rowSizes, rows, element, {2},
      0.0, [](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        Value vocab = linalg::IndexOp::create(nb, nl, 2);
        Value id = arith::IndexCastOp::create(nb, nl, nb.getI64Type(), vocab);
        Value hit = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq, id,
                                          args[1]);
        Value zero = arith::ConstantOp::create(
            nb, nl, args[0].getType(), nb.getFloatAttr(args[0].getType(), 0));
        Value term = arith::SelectOp::create(nb, nl, hit, args[0], zero);
        return arith::AddFOp::create(nb, nl, args[2], term);
      });
  return sumAll(tb, ValueRange{maximum, sumExp, picked, targets}, element,
                [](OpBuilder &nb, Location nl, ValueRange args) -> Value {
                  Value lse = arith::AddFOp::create(
                      nb, nl, args[0], math::LogOp::create(nb, nl, args[1]));
                  Value loss = arith::SubFOp::create(nb, nl, lse, args[2]);
                  Value zero = arith::ConstantOp::create(
                      nb, nl, loss.getType(),
                      nb.getFloatAttr(loss.getType(), 0));
                  return arith::SelectOp::create(
                      nb, nl, isCounted(nb, nl, args[3]), loss, zero);
                });
}

void train::buildTargetsPrecondition(OpBuilder &b, Location loc,
                                     Value targets, int64_t vocabulary) {
  TensorBuilder tb(b, loc);
  Type f64 = b.getF64Type();
  Value beyond = sumAll(
      tb, targets, f64, [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value limit =
            arith::ConstantIntOp::create(nb, nl, nb.getI64Type(), vocabulary);
        Value outside = arith::CmpIOp::create(
            nb, nl, arith::CmpIPredicate::sge, args[0], limit);
        Value one =
            arith::ConstantOp::create(nb, nl, f64, nb.getF64FloatAttr(1.0));
        Value none =
            arith::ConstantOp::create(nb, nl, f64, nb.getF64FloatAttr(0.0));
        return arith::SelectOp::create(nb, nl, outside, one, none)
            .getResult();
      });
  Value count = tensor::ExtractOp::create(b, loc, beyond, ValueRange{});
  Value ok = arith::CmpFOp::create(
      b, loc, arith::CmpFPredicate::OEQ, count,
      arith::ConstantOp::create(b, loc, f64, b.getF64FloatAttr(0.0)));
  PreconditionOp::create(
      b, loc, ok,
      b.getStringAttr("targets must be below the vocabulary size " +
                      std::to_string(vocabulary) + " (negative: ignored)"));
}

Value train::buildTargetCount(OpBuilder &b, Location loc, Value targets,
                              Type elementType) {
  TensorBuilder tb(b, loc);
  Value count = sumAll(tb, targets, elementType,
                       [&](OpBuilder &nb, Location nl, ValueRange args) {
                         Value one = arith::ConstantOp::create(
                             nb, nl, elementType,
                             nb.getFloatAttr(elementType, 1));
                         Value zero = arith::ConstantOp::create(
                             nb, nl, elementType,
                             nb.getFloatAttr(elementType, 0));
                         return arith::SelectOp::create(
                                    nb, nl, isCounted(nb, nl, args[0]), one,
                                    zero)
                             .getResult();
                       });
  return atLeastOne(b, loc, count);
}

Value train::buildSummedSquaredError(OpBuilder &b, Location loc, Value output,
                                     Value targets) {
  TensorBuilder tb(b, loc);
  Type element = cast<RankedTensorType>(output.getType()).getElementType();
  return sumAll(tb, ValueRange{output, targets}, element,
                [](OpBuilder &nb, Location nl, ValueRange args) -> Value {
                  Value error = arith::SubFOp::create(nb, nl, args[0], args[1]);
                  return arith::MulFOp::create(nb, nl, error, error);
                });
}

Value train::buildSummedObjective(OpBuilder &b, Location loc,
                                  Attribute objective, Value output,
                                  Value targets) {
  TensorBuilder tb(b, loc);
  auto type = cast<RankedTensorType>(targets.getType());
  Type element = type.getElementType();
  // -<M(k), v> or factor * ||M(k) - v||^2, factor from half and mean.
  bool dot = isa<DotObjectiveAttr>(objective);
  double factor = 1.0;
  if (auto l2 = dyn_cast<L2ObjectiveAttr>(objective)) {
    if (l2.getHalf())
      factor *= 0.5;
    if (l2.getReduction() == Reduction::Mean)
      factor /= double(type.getShape().back());
  }
  return sumAll(tb, ValueRange{output, targets}, element,
                [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
                  if (dot)
                    return arith::NegFOp::create(
                        nb, nl,
                        arith::MulFOp::create(nb, nl, args[0], args[1]));
                  Value error = arith::SubFOp::create(nb, nl, args[0], args[1]);
                  Value square = arith::MulFOp::create(nb, nl, error, error);
                  if (factor == 1.0)
                    return square;
                  Value scale = arith::ConstantOp::create(
                      nb, nl, square.getType(),
                      nb.getFloatAttr(square.getType(), factor));
                  return arith::MulFOp::create(nb, nl, square, scale);
                });
}

Value train::buildElementCount(OpBuilder &b, Location loc, Value tensor,
                               Type elementType) {
  TensorBuilder tb(b, loc);
  unsigned rank = cast<RankedTensorType>(tensor.getType()).getRank();
  Value count = tb.indexConstant(1);
  for (unsigned dim = 0; dim < rank; ++dim)
    count = arith::MulIOp::create(b, loc, count, tb.dim(tensor, dim));
  Value wide = arith::IndexCastOp::create(b, loc, b.getI64Type(), count);
  Value value = arith::SIToFPOp::create(b, loc, elementType, wide);
  Value scalar = tensor::FromElementsOp::create(
      b, loc, RankedTensorType::get({}, elementType), value);
  return atLeastOne(b, loc, scalar);
}

Value train::buildScalarProduct(OpBuilder &b, Location loc, Value a, Value c) {
  TensorBuilder tb(b, loc);
  return tb.map(ValueRange{a, c},
                [](OpBuilder &nb, Location nl, ValueRange args) -> Value {
                  return arith::MulFOp::create(nb, nl, args[0], args[1]);
                });
}

Value train::buildScalarReciprocal(OpBuilder &b, Location loc, Value a) {
  TensorBuilder tb(b, loc);
  return tb.map(a, [](OpBuilder &nb, Location nl, ValueRange args) -> Value {
    Type type = args[0].getType();
    Value one =
        arith::ConstantOp::create(nb, nl, type, nb.getFloatAttr(type, 1.0));
    return arith::DivFOp::create(nb, nl, one, args[0]);
  });
}

LogicalResult train::replaceResultsWithLoss(func::FuncOp function,
                                            Type targetsType,
                                            unsigned outputIndex,
                                            SummedLoss loss) {
  (void)function.insertArgument(function.getNumArguments(), targetsType,
                                DictionaryAttr(), function.getLoc());
  Value targets = function.getArguments().back();
  auto ret = cast<func::ReturnOp>(function.getBody().front().getTerminator());
  OpBuilder builder(ret);
  Value summed = loss(builder, ret.getLoc(), ret.getOperand(outputIndex),
                      targets);
  func::ReturnOp::create(builder, ret.getLoc(), summed);
  ret.erase();
  llvm::BitVector all(function.getNumResults(), true);
  if (failed(function.eraseResults(all)))
    return failure();
  (void)function.insertResult(0, summed.getType(), DictionaryAttr());
  return success();
}
