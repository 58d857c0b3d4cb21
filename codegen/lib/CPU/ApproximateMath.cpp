//===- ApproximateMath.cpp - nl-approximate-math --------------------------===//
//
// float32 exp and erf as inline polynomials, with MLIR's approximations
// (see Passes.td), and the edge cases those get wrong made libm's: exp's
// results below FLT_MIN (MLIR flushes them to 0) and erf(-0) = -0.
//
//===----------------------------------------------------------------------===//

#include "nl/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLAPPROXIMATEMATH
#include "nl/Codegen/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;

namespace {

bool isFloat32(Value value) { return getElementTypeOrSelf(value).isF32(); }

/// A float32 constant of `type` (a scalar, or a splat of a shaped type).
Value createConstant(OpBuilder &builder, Location loc, Type type,
                     double value) {
  FloatAttr scalar = builder.getF32FloatAttr(static_cast<float>(value));
  if (auto shaped = dyn_cast<ShapedType>(type))
    return arith::ConstantOp::create(builder, loc,
                                     DenseElementsAttr::get(shaped, scalar));
  return arith::ConstantOp::create(builder, loc, scalar);
}

/// exp(x) for x < -87, whose result is below FLT_MIN: MLIR's approximation
/// builds 2^n in the exponent field and returns 0 there, where libm returns
/// denormals down to exp(-103.97). Computed instead as
/// exp(x + kShift) * exp(kShiftLow) * 2^-32, 32 ln 2 = kShift + kShiftLow:
/// x + kShift is exact (kShift is a multiple of x's ulp, 2^-17, for
/// x in (-128, -64]) and lands in the normal range; the one multiplication
/// rounds once into the denormals.
void rescaleUnderflow(math::ExpOp exp) {
  constexpr double kThreshold = -87.0;
  // 2907270 * 2^-17.
  constexpr double kShift = 22.180709838867188;
  // exp(32 ln 2 - kShift) * 2^-32, rounded to float32.
  constexpr double kScale = 2.3283062977608182e-10;
  OpBuilder builder(exp);
  Location loc = exp.getLoc();
  Value x = exp.getOperand();
  Type type = x.getType();
  Value small =
      arith::CmpFOp::create(builder, loc, arith::CmpFPredicate::OLT, x,
                            createConstant(builder, loc, type, kThreshold));
  Value shifted = arith::AddFOp::create(
      builder, loc, x, createConstant(builder, loc, type, kShift));
  exp.getOperandMutable().assign(
      arith::SelectOp::create(builder, loc, small, shifted, x));
  builder.setInsertionPointAfter(exp);
  Value scale = arith::SelectOp::create(
      builder, loc, small, createConstant(builder, loc, type, kScale),
      createConstant(builder, loc, type, 1.0));
  auto scaled = arith::MulFOp::create(builder, loc, exp.getResult(), scale);
  exp.getResult().replaceAllUsesExcept(scaled, scaled);
}

/// erf is odd and libm keeps the sign of zero: erf(-0) = -0, where MLIR's
/// approximation returns +0.
void keepSign(math::ErfOp erf) {
  OpBuilder builder(erf->getContext());
  builder.setInsertionPointAfter(erf);
  auto signed_ = math::CopySignOp::create(builder, erf.getLoc(),
                                          erf.getResult(), erf.getOperand());
  erf.getResult().replaceAllUsesExcept(signed_, signed_);
}

struct ApproximateMathPass
    : nl::impl::NLApproximateMathBase<ApproximateMathPass> {
  void runOnOperation() override {
    getOperation()->walk([](Operation *op) {
      if (auto exp = dyn_cast<math::ExpOp>(op); exp && isFloat32(exp))
        rescaleUnderflow(exp);
      if (auto erf = dyn_cast<math::ErfOp>(op); erf && isFloat32(erf))
        keepSign(erf);
    });
    auto approximated = [](StringRef name) {
      name.consume_front("math.");
      return name == "exp" || name == "erf";
    };
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns, approximated);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
