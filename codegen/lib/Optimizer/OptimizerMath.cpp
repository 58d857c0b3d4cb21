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

Value optimizer::scalarAsF64(OpBuilder &b, Location loc, Value tensor0d) {
  Value scalar = tensor::ExtractOp::create(b, loc, tensor0d, ValueRange{});
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

Value optimizer::isMultipleOf(OpBuilder &b, Location loc, Value step,
                              int64_t period) {
  Value count = tensor::ExtractOp::create(b, loc, step, ValueRange{});
  Value divisor = arith::ConstantOp::create(b, loc, b.getI64Type(),
                                            b.getI64IntegerAttr(period));
  Value zero =
      arith::ConstantOp::create(b, loc, b.getI64Type(), b.getI64IntegerAttr(0));
  Value remainder = arith::RemSIOp::create(b, loc, count, divisor);
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, remainder,
                               zero);
}

Value optimizer::sumOfSquaresF64(TensorBuilder &tb, Value tensor) {
  OpBuilder &b = tb.builder();
  auto type = cast<RankedTensorType>(tensor.getType());
  unsigned rank = type.getRank();
  SmallVector<unsigned> reductions;
  for (unsigned d = 0; d < rank; ++d)
    reductions.push_back(d);
  AffineMap scalarMap = AffineMap::get(rank, 0, {}, b.getContext());
  Value sum = tb.generic(
      tensor, tb.identity(rank), {}, scalarMap, b.getF64Type(), reductions, 0.0,
      [](OpBuilder &nb, Location loc, ValueRange args) {
        Value x = args[0];
        if (x.getType() != nb.getF64Type())
          x = arith::ExtFOp::create(nb, loc, nb.getF64Type(), x);
        Value square = arith::MulFOp::create(nb, loc, x, x);
        return arith::AddFOp::create(nb, loc, args[1], square).getResult();
      });
  return tensor::ExtractOp::create(b, tb.location(), sum, ValueRange{});
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

  Value norm = math::SqrtOp::create(b, loc, sumOfSquaresF64(tb, x));
  Value denominator = arith::AddFOp::create(
      b, loc, norm, f64Constant(b, loc, kNewtonSchulzNormEps));
  Value divisor = roundTo(b, loc, denominator, element);
  x = tb.map({x}, [&](OpBuilder &nb, Location nloc, ValueRange args) {
    return arith::DivFOp::create(nb, nloc, args[0], divisor).getResult();
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
    Value product = tb.einsum("ik,kj->ij", {poly, x});        // (b A + c A A) X
    x = scaledSum(tb, a, x, nullptr, product);                // a X + (...) X
  }
  return transposed ? tb.einsum("ij->ji", x) : x;
}
