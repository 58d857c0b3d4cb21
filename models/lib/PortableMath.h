//===- PortableMath.h - bit-reproducible log, sin and cos -------*- C++ -*-===//
//
// The elementary functions of the Box-Muller transform, computed from
// +, -, *, / and sqrt in IEEE binary64 (round to nearest, no excess
// precision, no contraction into FMAs; PortableMath.cpp is compiled with
// -ffp-contract=off and says so with a pragma). libm's log, sin and cos are
// only faithful, and differ between libraries by an ulp; these give the same
// bits everywhere. Accuracy: a few ulps, which is all a weight generator
// needs.
//
//===----------------------------------------------------------------------===//

#ifndef NL_MODELS_PORTABLEMATH_H
#define NL_MODELS_PORTABLEMATH_H

namespace mlir::nl::models::portable {

/// The natural logarithm of x, for finite x > 0.
double log(double x);

/// sin(2 pi turns) and cos(2 pi turns), for turns in [0, 1).
void sinCosTurns(double turns, double &sine, double &cosine);

} // namespace mlir::nl::models::portable

#endif // NL_MODELS_PORTABLEMATH_H
