//===- OptimizerMath.cpp - pieces of the optimizer lowerings --------------===//

#include "OptimizerMath.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace mlir::nl;

Value optimizer::f64Constant(OpBuilder &b, Location loc, double value) {
  return arith::ConstantOp::create(b, loc, b.getF64Type(),
                                   b.getF64FloatAttr(value));
}

Value optimizer::toF64(OpBuilder &b, Location loc, Value scalar) {
  Type type = scalar.getType();
  if (isa<IntegerType>(type))
    return arith::SIToFPOp::create(b, loc, b.getF64Type(), scalar);
  if (type.getIntOrFloatBitWidth() < 64)
    return arith::ExtFOp::create(b, loc, b.getF64Type(), scalar);
  return scalar;
}

Value optimizer::roundTo(OpBuilder &b, Location loc, Value value, Type type) {
  if (type == value.getType())
    return value;
  return arith::TruncFOp::create(b, loc, type, value);
}

Value optimizer::isMultipleOf(OpBuilder &b, Location loc, Value count,
                              int64_t period) {
  Value divisor = arith::ConstantOp::create(b, loc, b.getI64Type(),
                                            b.getI64IntegerAttr(period));
  Value zero =
      arith::ConstantOp::create(b, loc, b.getI64Type(), b.getI64IntegerAttr(0));
  Value remainder = arith::RemSIOp::create(b, loc, count, divisor);
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, remainder,
                               zero);
}

/// How a loop nest of `rank` loops reads a scalar: a 0-D tensor through no
/// index, a one-element tensor (a scalarGeneric result) at index 0.
static AffineMap scalarMap(unsigned rank, Value scalar, MLIRContext *context) {
  if (cast<RankedTensorType>(scalar.getType()).getRank() == 0)
    return AffineMap::get(rank, 0, {}, context);
  return AffineMap::get(rank, 0, getAffineConstantExpr(0, context), context);
}

Value optimizer::scalarGeneric(TensorBuilder &tb, ValueRange inputs, Type type,
                               ScalarBody body) {
  MLIRContext *context = tb.builder().getContext();
  SmallVector<AffineMap> maps;
  for (Value input : inputs)
    maps.push_back(scalarMap(1, input, context));
  return tb.generic(inputs, maps, {tb.builder().getIndexAttr(1)},
                    tb.identity(1), type, {}, std::nullopt, body);
}

Value optimizer::mapWithScalars(TensorBuilder &tb, ValueRange tensors,
                                ValueRange scalars, ScalarBody body) {
  auto type = cast<RankedTensorType>(tensors.front().getType());
  unsigned rank = type.getRank();
  SmallVector<Value> inputs(tensors);
  llvm::append_range(inputs, scalars);
  SmallVector<AffineMap> maps(tensors.size(), tb.identity(rank));
  for (Value scalar : scalars)
    maps.push_back(scalarMap(rank, scalar, tb.builder().getContext()));
  return tb.generic(inputs, maps, tb.sizes(tensors.front()), tb.identity(rank),
                    type.getElementType(), {}, std::nullopt, body);
}

Value optimizer::toZeroD(TensorBuilder &tb, Value scalar) {
  auto type = cast<RankedTensorType>(scalar.getType());
  return tensor::CollapseShapeOp::create(
      tb.builder(), tb.location(),
      RankedTensorType::get({}, type.getElementType()), scalar,
      ArrayRef<ReassociationIndices>{});
}

Value optimizer::sumOfSquaresF64(TensorBuilder &tb, Value tensor) {
  OpBuilder &b = tb.builder();
  auto type = cast<RankedTensorType>(tensor.getType());
  unsigned rank = type.getRank();
  SmallVector<unsigned> reductions;
  for (unsigned d = 0; d < rank; ++d)
    reductions.push_back(d);
  AffineMap first = AffineMap::get(
      rank, 0, getAffineConstantExpr(0, b.getContext()), b.getContext());
  return tb.generic(
      tensor, tb.identity(rank), {b.getIndexAttr(1)}, first, b.getF64Type(),
      reductions, 0.0, [](OpBuilder &nb, Location loc, ValueRange args) {
        Value x = toF64(nb, loc, args[0]);
        Value square = arith::MulFOp::create(nb, loc, x, x);
        return arith::AddFOp::create(nb, loc, args[1], square).getResult();
      });
}

/// a * x + y * z element-wise over tensors of one shape, with `a` and `y`
/// scalars of the element type (y null: a * x + z).
static Value scaledSum(TensorBuilder &tb, Value a, Value x, Value y, Value z) {
  return tb.map({x, z}, [&](OpBuilder &b, Location loc, ValueRange args) {
    Value first = arith::MulFOp::create(b, loc, a, args[0]);
    Value second =
        y ? arith::MulFOp::create(b, loc, y, args[1]).getResult() : args[1];
    return arith::AddFOp::create(b, loc, first, second).getResult();
  });
}

Value optimizer::newtonSchulz5(TensorBuilder &tb, Value matrix) {
  OpBuilder &b = tb.builder();
  Location loc = tb.location();
  auto type = cast<RankedTensorType>(matrix.getType());
  Type element = type.getElementType();
  bool transposed = type.getDimSize(0) > type.getDimSize(1);
  Value x = transposed ? tb.einsum("ij->ji", matrix) : matrix;

  // X / (||X||_F + 1e-7), the divisor rounded once to the element type.
  Value divisor = scalarGeneric(
      tb, sumOfSquaresF64(tb, x), element,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value norm = math::SqrtOp::create(nb, nloc, args[0]);
        Value shifted = arith::AddFOp::create(
            nb, nloc, norm, f64Constant(nb, nloc, kNewtonSchulzNormEps));
        return roundTo(nb, nloc, shifted, element);
      });
  x = mapWithScalars(
      tb, x, divisor, [](OpBuilder &nb, Location nloc, ValueRange args) {
        return arith::DivFOp::create(nb, nloc, args[0], args[1]).getResult();
      });

  auto constant = [&](double value) {
    return arith::ConstantOp::create(b, loc, element,
                                     b.getFloatAttr(element, value))
        .getResult();
  };
  Value a = constant(kNewtonSchulzA), bCoef = constant(kNewtonSchulzB),
        c = constant(kNewtonSchulzC);
  for (int step = 0; step < kNewtonSchulzSteps; ++step) {
    Value gram = tb.einsum("ik,jk->ij", {x, x});              // A = X X^T
    Value gramSquared = tb.einsum("ik,kj->ij", {gram, gram}); // A A
    Value poly = scaledSum(tb, bCoef, gram, c, gramSquared);  // b A + c A A
    Value product = tb.einsum("ik,kj->ij", {poly, x});        // (...) X
    x = scaledSum(tb, a, x, nullptr, product);                // a X + (...) X
  }
  return transposed ? tb.einsum("ij->ji", x) : x;
}
