//===- LocalObjectiveLoss.cpp - the loss of signal = local ----------------===//

#include "LocalObjectiveLoss.h"

#include "nl/Codegen/CMSChain.h"
#include "nl/Codegen/TrainLoss.h"
#include "nl/IR/NLOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::nl;

LogicalResult ttl::replaceResultsWithLocalLoss(func::FuncOp function) {
  SmallVector<CMSOp> ops;
  function.walk([&](CMSOp op) {
    if (op.getSignal() == CmsSignal::Local)
      ops.push_back(op);
  });
  Value total;
  for (CMSOp op : ops) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    Attribute objective = op.getLocalObjectiveAttr();
    Value y = buildCMSChain(b, loc, op, [&](Value x, unsigned l) -> Value {
      Value key = StopGradientOp::create(b, loc, x);
      Value branch = buildCMSBranch(b, loc, op, key, l);
      Value loss =
          train::buildSummedObjective(b, loc, objective, branch, key);
      total = total ? arith::AddFOp::create(b, loc, total, loss).getResult()
                    : loss;
      return arith::AddFOp::create(b, loc, key, branch);
    });
    op.replaceAllUsesWith(y);
    op.erase();
  }
  // The loss is all the VJP needs: the results go, the rest is dead code.
  auto ret = cast<func::ReturnOp>(function.getBody().front().getTerminator());
  OpBuilder b(ret);
  func::ReturnOp::create(b, ret.getLoc(), total);
  ret.erase();
  llvm::BitVector all(function.getNumResults(), true);
  if (failed(function.eraseResults(all)))
    return failure();
  return function.insertResult(0, total.getType(), DictionaryAttr());
}
