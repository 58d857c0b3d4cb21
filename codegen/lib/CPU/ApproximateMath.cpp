//===- ApproximateMath.cpp - nl-approximate-math --------------------------===//
//
// float32 exp and erf as inline polynomials: exp with MLIR's approximation
// (see Passes.td) and the edge case it gets wrong made libm's (results below
// FLT_MIN, which MLIR flushes to 0); erf with piecewise polynomials of our
// own, since MLIR's misses 2e-7 absolute.
//
//===----------------------------------------------------------------------===//

#include "nl/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLAPPROXIMATEMATH
#include "nl/Codegen/CPU/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;

namespace {

bool isFloat32(Value value) { return getElementTypeOrSelf(value).isF32(); }

/// A constant of float `type` (a scalar, or a splat of a shaped type).
Value createConstant(OpBuilder &builder, Location loc, Type type,
                     double value) {
  FloatAttr scalar = builder.getFloatAttr(getElementTypeOrSelf(type), value);
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

/// erf(x) for float32 x, computed in float64 and rounded once: |erf(x)| =
/// |x| Q(x^2) on [0, 1) and a polynomial in |x| - c on [k, k + 1), k = 1, 2,
/// 3 (c = k + 1/2), least-squares fits whose error (below 2e-10) is far
/// under float32's rounding; |x| is clamped at 4, where erf rounds to 1 in
/// float32 (NaN stays NaN), and the sign is copied from x, so erf(-0) = -0.
/// MLIR's float32 approximation misses 2e-7 absolute (2.75e-7 at 1.85).
/// float64 vectors have half the lanes, but erf is a small part of a GELU
/// layer's time next to its contractions.
void approximateErf(math::ErfOp erf) {
  // Q(s), s = x^2, on [0, 1), lowest degree first.
  static constexpr double kSmall[] = {
      1.1283791670822452,     -0.37612638590237174,  0.11283784109341538,
      -0.026865517307408826,  0.005221261117967614,  -0.0008487262240364948,
      0.00011288134565254496, -9.728291750917713e-06};
  // On [k, k + 1) for k = 1, 2, 3, in powers of |x| - (k + 1/2).
  static constexpr double kLarge[3][11] = {
      {0.9661051464673402, 0.1189302866948293, -0.17839543153004495,
       0.13875220684592687, -0.04459896669290424, -0.01487084288587375,
       0.01932803592953629, -0.004701161131556171, -0.0023772738130747864,
       0.0015404065452179767, -3.945013471634384e-05},
      {0.9995930479842081, 0.002178284318302493, -0.005445711052147209,
       0.008350082618012867, -0.008622352837194333, 0.006117499953707772,
       -0.0027988701338273686, 0.0005410770515606633, 0.00026360631154062484,
       -0.0002453947669238243, 6.832892078445525e-05},
      {0.9999992569015663, 5.399429090017448e-06, -1.8897976092809283e-05,
       4.229531719753855e-05, -6.771862912862718e-05, 8.212084912162474e-05,
       -7.77303923594904e-05, 5.814713422553033e-05, -3.436460634151585e-05,
       1.554409949917901e-05, -4.276520034910439e-06}};

  OpBuilder b(erf);
  Location loc = erf.getLoc();
  Value x = erf.getOperand();
  Type wide = b.getF64Type();
  if (auto vector = dyn_cast<VectorType>(x.getType()))
    wide = vector.clone(wide);
  else if (auto tensor = dyn_cast<RankedTensorType>(x.getType()))
    wide = tensor.clone(wide);
  auto constant = [&](double value) {
    return createConstant(b, loc, wide, value);
  };
  auto less = [&](Value lhs, double rhs) {
    return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, lhs,
                                 constant(rhs));
  };
  auto horner = [&](ArrayRef<Value> coefficients, Value t) {
    Value result = coefficients.back();
    for (Value c : llvm::reverse(coefficients.drop_back()))
      result = arith::AddFOp::create(
          b, loc, arith::MulFOp::create(b, loc, result, t), c);
    return result;
  };

  Value a =
      math::AbsFOp::create(b, loc, arith::ExtFOp::create(b, loc, wide, x));
  a = arith::MinimumFOp::create(b, loc, a, constant(4.0));
  SmallVector<Value> small;
  for (double c : kSmall)
    small.push_back(constant(c));
  Value nearZero = arith::MulFOp::create(
      b, loc, a, horner(small, arith::MulFOp::create(b, loc, a, a)));

  Value below2 = less(a, 2.0), below3 = less(a, 3.0);
  auto pick = [&](double in1, double in2, double in3) -> Value {
    return arith::SelectOp::create(
        b, loc, below2, constant(in1),
        arith::SelectOp::create(b, loc, below3, constant(in2), constant(in3)));
  };
  SmallVector<Value> large;
  for (unsigned k = 0; k < std::size(kLarge[0]); ++k)
    large.push_back(pick(kLarge[0][k], kLarge[1][k], kLarge[2][k]));
  Value t = arith::SubFOp::create(b, loc, a, pick(1.5, 2.5, 3.5));
  Value magnitude = arith::SelectOp::create(b, loc, less(a, 1.0), nearZero,
                                            horner(large, t));
  Value narrow = arith::TruncFOp::create(b, loc, x.getType(), magnitude);
  erf.replaceAllUsesWith(
      math::CopySignOp::create(b, loc, narrow, x).getResult());
  erf.erase();
}

struct ApproximateMathPass
    : nl::impl::NLApproximateMathBase<ApproximateMathPass> {
  void runOnOperation() override {
    getOperation()->walk([](Operation *op) {
      if (auto exp = dyn_cast<math::ExpOp>(op); exp && isFloat32(exp))
        rescaleUnderflow(exp);
      if (auto erf = dyn_cast<math::ErfOp>(op); erf && isFloat32(erf))
        approximateErf(erf);
    });
    auto approximated = [](StringRef name) {
      name.consume_front("math.");
      return name == "exp";
    };
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns, approximated);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
