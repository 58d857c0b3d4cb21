//===- PortableMath.cpp - bit-reproducible log, sin and cos ---------------===//
//
// Argument reductions that are exact in binary64, then fixed series in
// Horner form: the same operations in the same order on every platform.
//
//===----------------------------------------------------------------------===//

#include "PortableMath.h"

#include <cfloat>
#include <cmath>

// A fused multiply-add rounds once where the source rounds twice: it would
// change the bits on targets that have one.
#pragma STDC FP_CONTRACT OFF
static_assert(FLT_EVAL_METHOD == 0,
              "binary64 arithmetic must not carry excess precision");

using namespace mlir::nl::models;

namespace {
/// ln 2 split so that e * kLn2Hi is exact for |e| < 2^20 (fdlibm's split).
constexpr double kLn2Hi = 0x1.62e42feep-1;
constexpr double kLn2Lo = 0x1.a39ef35793c76p-33;
constexpr double kSqrtHalf = 0x1.6a09e667f3bcdp-1;
constexpr double kHalfPi = 0x1.921fb54442d18p+0;

/// Series coefficients, evaluated by the compiler (IEEE, round to nearest).
template <int N> struct Coefficients {
  double values[N];
};
/// 1 / (2k + 1): ln m = 2 s sum_k s^(2k) / (2k + 1).
constexpr int kLogTerms = 12;
constexpr Coefficients<kLogTerms> makeLogCoefficients() {
  Coefficients<kLogTerms> c{};
  for (int k = 0; k < kLogTerms; ++k)
    c.values[k] = 1.0 / (2 * k + 1);
  return c;
}
/// (-1)^k / (offset + 2k)!: Taylor coefficients of sin x / x (offset 1) and
/// cos x (offset 0).
template <int N> constexpr Coefficients<N> makeTaylorCoefficients(int offset) {
  Coefficients<N> c{};
  double factorial = 1.0;
  for (int i = 2; i <= offset; ++i)
    factorial *= i;
  for (int k = 0; k < N; ++k) {
    if (k > 0)
      factorial *= (offset + 2 * k - 1) * (offset + 2 * k);
    c.values[k] = (k % 2 ? -1.0 : 1.0) / factorial;
  }
  return c;
}
constexpr int kSinTerms = 10, kCosTerms = 11;
constexpr Coefficients<kLogTerms> kLogCoefficients = makeLogCoefficients();
constexpr Coefficients<kSinTerms> kSinCoefficients =
    makeTaylorCoefficients<kSinTerms>(1);
constexpr Coefficients<kCosTerms> kCosCoefficients =
    makeTaylorCoefficients<kCosTerms>(0);
} // namespace

double portable::log(double x) {
  // x = m 2^e with m in [sqrt(1/2), sqrt(2)): frexp and the doubling are
  // exact.
  int e = 0;
  double m = std::frexp(x, &e);
  if (m < kSqrtHalf) {
    m *= 2.0;
    --e;
  }
  // ln m = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...), |s| <= 0.1716; m - 1
  // is exact (Sterbenz). Twelve terms reach well below an ulp.
  double s = (m - 1.0) / (m + 1.0);
  double z = s * s;
  double series = kLogCoefficients.values[kLogTerms - 1];
  for (int k = kLogTerms - 2; k >= 0; --k)
    series = series * z + kLogCoefficients.values[k];
  double lnM = 2.0 * s * series;
  double exponent = static_cast<double>(e);
  return exponent * kLn2Hi + (exponent * kLn2Lo + lnM);
}

void portable::sinCosTurns(double turns, double &sine, double &cosine) {
  // turns = (n + f) / 4 with f in [-1/2, 1/2]: every step is exact.
  double quarters = turns * 4.0;
  double n = std::floor(quarters);
  double f = quarters - n;
  if (f > 0.5) {
    f -= 1.0;
    n += 1.0;
  }
  // Taylor series on |x| <= pi/4, to x^19 and x^20: the first omitted
  // terms are below 1e-21.
  double x = f * kHalfPi;
  double z = x * x;
  double sinSeries = kSinCoefficients.values[kSinTerms - 1];
  for (int k = kSinTerms - 2; k >= 0; --k)
    sinSeries = sinSeries * z + kSinCoefficients.values[k];
  double cosSeries = kCosCoefficients.values[kCosTerms - 1];
  for (int k = kCosTerms - 2; k >= 0; --k)
    cosSeries = cosSeries * z + kCosCoefficients.values[k];
  double sinX = x * sinSeries, cosX = cosSeries;
  // sin and cos of n pi/2 + x.
  switch (static_cast<int>(n) & 3) {
  case 0:
    sine = sinX;
    cosine = cosX;
    break;
  case 1:
    sine = cosX;
    cosine = -sinX;
    break;
  case 2:
    sine = -sinX;
    cosine = -cosX;
    break;
  default:
    sine = -cosX;
    cosine = sinX;
    break;
  }
}
