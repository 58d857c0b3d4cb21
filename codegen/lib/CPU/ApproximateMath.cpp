//===- ApproximateMath.cpp - nl-approximate-math --------------------------===//
//
// float32 exp and erf as inline polynomials, with MLIR's approximations
// (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "nl/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLAPPROXIMATEMATH
#include "nl/Codegen/CPU/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;

namespace {

struct ApproximateMathPass
    : nl::impl::NLApproximateMathBase<ApproximateMathPass> {
  void runOnOperation() override {
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
