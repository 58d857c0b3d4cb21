//===- PrintLevels.cpp - nl-print-levels ----------------------------------===//

#include "nl/Analysis/LevelAnalysis.h"
#include "nl/Transforms/Passes.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLPRINTLEVELS
#include "nl/Transforms/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;

namespace {
struct PrintLevelsPass : public nl::impl::NLPrintLevelsBase<PrintLevelsPass> {
  using Base::Base;
  void runOnOperation() override {
    markAllAnalysesPreserved();
    bool failedAny = false;
    getOperation()->walk([&](FunctionOpInterface function) {
      LevelAnalysis analysis(function);
      if (analysis.getComponents().empty())
        return;
      if (failed(analysis.verify())) {
        failedAny = true;
        return;
      }
      analysis.print(llvm::outs(), printDependences);
    });
    if (failedAny)
      signalPassFailure();
  }
};
} // namespace
