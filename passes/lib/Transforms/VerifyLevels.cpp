//===- VerifyLevels.cpp - nl-verify-levels --------------------------------===//

#include "nl/Analysis/LevelAnalysis.h"
#include "nl/Transforms/Passes.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLVERIFYLEVELS
#include "nl/Transforms/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;

namespace {
struct VerifyLevelsPass
    : public nl::impl::NLVerifyLevelsBase<VerifyLevelsPass> {
  void runOnOperation() override {
    markAllAnalysesPreserved();
    // Report every function's violations, not just the first one's.
    bool failedAny = false;
    getOperation()->walk([&](FunctionOpInterface function) {
      LevelAnalysis analysis(function);
      failedAny |= failed(analysis.verify());
    });
    if (failedAny)
      signalPassFailure();
  }
};
} // namespace
