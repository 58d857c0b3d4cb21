//===- DifferentiateScalar.cpp - derivatives of scalar arith/math ops -----===//
//
// d(op)/d(operand) * adjoint for the scalar ops that appear in linalg.generic
// bodies and between tensor ops. Integer and index ops, comparisons and
// int-to-float casts have no adjoint: nothing flows through them.
//
//===----------------------------------------------------------------------===//

#include "Differentiate.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::nl;
using namespace mlir::nl::autodiff;

namespace {

Value constantLike(OpBuilder &b, Location loc, Value like, double value) {
  return arith::ConstantOp::create(
      b, loc, b.getFloatAttr(like.getType(), value));
}

/// Ops whose results carry no adjoint: integers, booleans, indices.
bool hasNoFloatResult(Operation *op) {
  return llvm::none_of(op->getResultTypes(),
                       [](Type type) { return isa<FloatType>(type); });
}

} // namespace

bool mlir::nl::autodiff::isScalarOp(Operation *op) {
  if (op->getNumRegions() != 0)
    return false;
  auto scalar = [](Type type) { return type.isIntOrIndexOrFloat(); };
  return isa<arith::ArithDialect, math::MathDialect>(op->getDialect()) &&
         llvm::all_of(op->getOperandTypes(), scalar) &&
         llvm::all_of(op->getResultTypes(), scalar);
}

LogicalResult mlir::nl::autodiff::scalarAdjoints(
    OpBuilder &b, Operation *op, Value g,
    function_ref<void(Value, Value)> accumulate) {
  Location loc = op->getLoc();
  auto mul = [&](Value x, Value y) -> Value {
    return arith::MulFOp::create(b, loc, x, y);
  };
  auto div = [&](Value x, Value y) -> Value {
    return arith::DivFOp::create(b, loc, x, y);
  };
  auto neg = [&](Value x) -> Value { return arith::NegFOp::create(b, loc, x); };
  auto sub = [&](Value x, Value y) -> Value {
    return arith::SubFOp::create(b, loc, x, y);
  };
  auto add = [&](Value x, Value y) -> Value {
    return arith::AddFOp::create(b, loc, x, y);
  };
  auto cst = [&](double value) { return constantLike(b, loc, g, value); };
  auto select = [&](Value condition, Value yes, Value no) -> Value {
    return arith::SelectOp::create(b, loc, condition, yes, no);
  };
  // max/min: the adjoint goes to the operand that was chosen (the first on
  // a tie).
  auto chooser = [&](Value x, Value y, arith::CmpFPredicate predicate) {
    Value first = arith::CmpFOp::create(b, loc, predicate, x, y);
    accumulate(x, select(first, g, cst(0)));
    accumulate(y, select(first, cst(0), g));
    return success();
  };

  if (hasNoFloatResult(op) || isa<arith::ConstantOp>(op))
    return success();
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](arith::AddFOp o) {
        accumulate(o.getLhs(), g);
        accumulate(o.getRhs(), g);
        return success();
      })
      .Case([&](arith::SubFOp o) {
        accumulate(o.getLhs(), g);
        accumulate(o.getRhs(), neg(g));
        return success();
      })
      .Case([&](arith::MulFOp o) {
        accumulate(o.getLhs(), mul(g, o.getRhs()));
        accumulate(o.getRhs(), mul(g, o.getLhs()));
        return success();
      })
      .Case([&](arith::DivFOp o) {
        // d(a/b) = da / b - (a/b) db / b
        accumulate(o.getLhs(), div(g, o.getRhs()));
        accumulate(o.getRhs(),
                   neg(div(mul(g, o.getResult()), o.getRhs())));
        return success();
      })
      .Case([&](arith::NegFOp o) {
        accumulate(o.getOperand(), neg(g));
        return success();
      })
      .Case([&](arith::MaximumFOp o) {
        return chooser(o.getLhs(), o.getRhs(), arith::CmpFPredicate::OGE);
      })
      .Case([&](arith::MaxNumFOp o) {
        return chooser(o.getLhs(), o.getRhs(), arith::CmpFPredicate::OGE);
      })
      .Case([&](arith::MinimumFOp o) {
        return chooser(o.getLhs(), o.getRhs(), arith::CmpFPredicate::OLE);
      })
      .Case([&](arith::MinNumFOp o) {
        return chooser(o.getLhs(), o.getRhs(), arith::CmpFPredicate::OLE);
      })
      .Case([&](arith::SelectOp o) {
        accumulate(o.getTrueValue(), select(o.getCondition(), g, cst(0)));
        accumulate(o.getFalseValue(), select(o.getCondition(), cst(0), g));
        return success();
      })
      .Case([&](arith::ExtFOp o) {
        accumulate(o.getIn(),
                   arith::TruncFOp::create(b, loc, o.getIn().getType(), g));
        return success();
      })
      .Case([&](arith::TruncFOp o) {
        accumulate(o.getIn(),
                   arith::ExtFOp::create(b, loc, o.getIn().getType(), g));
        return success();
      })
      .Case<arith::SIToFPOp, arith::UIToFPOp>(
          [&](Operation *) { return success(); })
      .Case([&](math::FmaOp o) {
        accumulate(o.getA(), mul(g, o.getB()));
        accumulate(o.getB(), mul(g, o.getA()));
        accumulate(o.getC(), g);
        return success();
      })
      .Case([&](math::ExpOp o) {
        // 0 * exp(x) is 0 even where exp overflows (a saturated sigmoid).
        Value zero = cst(0);
        Value none =
            arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, g, zero);
        accumulate(o.getOperand(), select(none, zero, mul(g, o.getResult())));
        return success();
      })
      .Case([&](math::ExpM1Op o) {
        accumulate(o.getOperand(), mul(g, add(o.getResult(), cst(1))));
        return success();
      })
      .Case([&](math::LogOp o) {
        accumulate(o.getOperand(), div(g, o.getOperand()));
        return success();
      })
      .Case([&](math::Log1pOp o) {
        accumulate(o.getOperand(), div(g, add(o.getOperand(), cst(1))));
        return success();
      })
      .Case([&](math::TanhOp o) {
        Value t = o.getResult();
        accumulate(o.getOperand(), mul(g, sub(cst(1), mul(t, t))));
        return success();
      })
      .Case([&](math::ErfOp o) {
        Value x = o.getOperand();
        Value gauss = math::ExpOp::create(b, loc, neg(mul(x, x)));
        accumulate(x, mul(g, mul(cst(2.0 / std::sqrt(M_PI)), gauss)));
        return success();
      })
      .Case([&](math::SqrtOp o) {
        accumulate(o.getOperand(), div(mul(g, cst(0.5)), o.getResult()));
        return success();
      })
      .Case([&](math::RsqrtOp o) {
        // r = x^(-1/2): dr/dx = -r^3 / 2
        Value r = o.getResult();
        accumulate(o.getOperand(),
                   mul(g, mul(cst(-0.5), mul(r, mul(r, r)))));
        return success();
      })
      .Case([&](math::AbsFOp o) {
        Value x = o.getOperand();
        Value negative =
            arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, x, cst(0));
        accumulate(x, select(negative, neg(g), g));
        return success();
      })
      .Case([&](math::SinOp o) {
        accumulate(o.getOperand(),
                   mul(g, math::CosOp::create(b, loc, o.getOperand())));
        return success();
      })
      .Case([&](math::CosOp o) {
        accumulate(o.getOperand(),
                   neg(mul(g, math::SinOp::create(b, loc, o.getOperand()))));
        return success();
      })
      .Case([&](math::PowFOp o) {
        // d(a^b) = b a^(b-1) da + a^b log(a) db
        Value a = o.getLhs(), e = o.getRhs();
        accumulate(a, mul(g, mul(e, math::PowFOp::create(b, loc, a,
                                                         sub(e, cst(1))))));
        if (!isInactive(e))
          accumulate(e, mul(g, mul(o.getResult(),
                                   math::LogOp::create(b, loc, a))));
        return success();
      })
      .Default([](Operation *) { return failure(); });
}

LogicalResult
mlir::nl::autodiff::reverseScalarOps(OpBuilder &builder,
                                     ArrayRef<Operation *> ops,
                                     llvm::DenseMap<Value, Value> &adjoints) {
  auto accumulate = [&](Value primal, Value adjoint) {
    if (!isa<FloatType>(primal.getType()) || isInactive(primal))
      return;
    Value &slot = adjoints[primal];
    slot = slot ? arith::AddFOp::create(builder, primal.getLoc(), slot,
                                        adjoint)
                      .getResult()
                : adjoint;
  };
  for (Operation *op : llvm::reverse(ops)) {
    if (op->getNumResults() != 1)
      continue;
    Value g = adjoints.lookup(op->getResult(0));
    // An element read from a tensor (a gather) keeps its adjoint in
    // `adjoints` for the caller to scatter.
    if (!g || isa<tensor::ExtractOp>(op))
      continue;
    if (failed(scalarAdjoints(builder, op, g, accumulate)))
      return op->emitError("nl-differentiate: no derivative rule for '")
             << op->getName()
             << "' (a gradient flows through it); scalar rules exist for "
                "arith add/sub/mul/div/neg/max/min/select/extf/truncf and "
                "math exp/expm1/log/log1p/tanh/erf/sqrt/rsqrt/abs/sin/cos/"
                "powf/fma";
  }
  return success();
}
