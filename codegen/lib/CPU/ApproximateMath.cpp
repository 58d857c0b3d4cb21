//===- ApproximateMath.cpp - nl-approximate-math --------------------------===//
//
// float32 exp and erf as inline polynomials, with MLIR's approximations
// (see Passes.td), and where those miss libm made libm's: exp's results
// below FLT_MIN (MLIR flushes them to 0), erf on 0.8 <= |x| < 2 (2.9e-7
// off) and erf(-0) = -0.
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

/// erf with libm's accuracy and sign. MLIR's rational approximation is off
/// by up to 2.9e-7 on 1.2 <= |x| < 2 (1.9e-7 on 0.8 <= |x| < 1.2, 1.5e-7
/// elsewhere): on 0.8 <= |x| < 2 erf is 1 - erfc(|x|) instead, erfc a
/// degree-9 polynomial in |x| - 1.4 (a Chebyshev fit, coefficients rounded
/// to float32: 6.2e-8 absolute with float32 rounding; |x| - 1.4 is exact).
/// erf is odd and libm keeps the sign of zero: the result takes x's sign
/// (erf(-0) = -0, where MLIR returns +0).
void refineErf(math::ErfOp erf) {
  static constexpr double kErfcCoefficients[] = {
      0.04771488159894943,   -0.15894170105457306,  0.22251883149147034,
      -0.15470431745052338,  0.034109920263290405,  0.027320578694343567,
      -0.02176692523062229,  0.0021290495060384274, 0.003670245176181197,
      -0.001344893011264503};
  OpBuilder builder(erf->getContext());
  builder.setInsertionPointAfter(erf);
  Location loc = erf.getLoc();
  Value x = erf.getOperand();
  Type type = x.getType();
  auto constant = [&](double value) {
    return createConstant(builder, loc, type, value);
  };
  Value magnitude = math::AbsFOp::create(builder, loc, x);
  Value above = arith::CmpFOp::create(builder, loc, arith::CmpFPredicate::OGE,
                                      magnitude, constant(0.8));
  Value below = arith::CmpFOp::create(builder, loc, arith::CmpFPredicate::OLT,
                                      magnitude, constant(2.0));
  Value inside = arith::AndIOp::create(builder, loc, above, below);
  Value t = arith::SubFOp::create(builder, loc, magnitude, constant(1.4));
  Value erfc = constant(kErfcCoefficients[9]);
  for (int k = 8; k >= 0; --k)
    erfc = math::FmaOp::create(builder, loc, erfc, t,
                               constant(kErfcCoefficients[k]));
  Value refined = arith::SubFOp::create(builder, loc, constant(1.0), erfc);
  auto chosen =
      arith::SelectOp::create(builder, loc, inside, refined, erf.getResult());
  auto signed_ = math::CopySignOp::create(builder, loc, chosen, x);
  erf.getResult().replaceAllUsesExcept(signed_, chosen);
}

struct ApproximateMathPass
    : nl::impl::NLApproximateMathBase<ApproximateMathPass> {
  void runOnOperation() override {
    getOperation()->walk([](Operation *op) {
      if (auto exp = dyn_cast<math::ExpOp>(op); exp && isFloat32(exp))
        rescaleUnderflow(exp);
      if (auto erf = dyn_cast<math::ErfOp>(op); erf && isFloat32(erf))
        refineErf(erf);
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
