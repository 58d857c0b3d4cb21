//===- AssignLevels.cpp - nl-assign-levels --------------------------------===//

#include "nl/Analysis/LevelAnalysis.h"
#include "nl/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLASSIGNLEVELS
#include "nl/Transforms/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;

namespace {
struct AssignLevelsPass
    : public nl::impl::NLAssignLevelsBase<AssignLevelsPass> {
  void runOnOperation() override {
    bool failedAny = false;
    getOperation()->walk([&](FunctionOpInterface function) {
      failedAny |= failed(assignLevels(function));
    });
    if (failedAny)
      signalPassFailure();
  }

  LogicalResult assignLevels(FunctionOpInterface function) {
    LevelAnalysis analysis(function);
    if (failed(analysis.verify()))
      return failure();
    // Components of one op are consecutive in the analysis, in index order.
    llvm::MapVector<Operation *, SmallVector<int64_t>> levelsByOp;
    for (auto [component, level] :
         llvm::zip(analysis.getComponents(), analysis.getLevels()))
      levelsByOp[component.op].push_back(level);
    for (auto &[op, levels] : levelsByOp)
      op->setAttr(NLDialect::getLevelAttrName(),
                  DenseI64ArrayAttr::get(op->getContext(), levels));
    return success();
  }
};
} // namespace
