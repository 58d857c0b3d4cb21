//===- LoopWork.cpp - estimated work of loop nests ------------------------===//

#include "LoopWork.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;
using mlir::nl::kUnboundedWork;

namespace {

int64_t saturatingMul(int64_t a, int64_t b) {
  if (a == 0 || b == 0)
    return 0;
  return a > kUnboundedWork / b ? kUnboundedWork : a * b;
}

int64_t saturatingAdd(int64_t a, int64_t b) {
  return a > kUnboundedWork - b ? kUnboundedWork : a + b;
}

/// Iterations of one loop dimension, kUnboundedWork unless they are static.
int64_t tripCount(Value lower, Value upper, Value step) {
  std::optional<int64_t> lb = getConstantIntValue(lower),
                         ub = getConstantIntValue(upper),
                         st = getConstantIntValue(step);
  if (!lb || !ub || !st || *st <= 0)
    return kUnboundedWork;
  return *ub <= *lb ? 0 : llvm::divideCeil(*ub - *lb, *st);
}

} // namespace

int64_t nl::estimatedWork(Operation &op) {
  int64_t trips = 1;
  if (auto loop = dyn_cast<scf::ForOp>(op))
    trips = tripCount(loop.getLowerBound(), loop.getUpperBound(),
                      loop.getStep());
  else if (auto loop = dyn_cast<scf::ParallelOp>(op))
    for (auto [lb, ub, st] : llvm::zip(loop.getLowerBound(),
                                       loop.getUpperBound(), loop.getStep()))
      trips = saturatingMul(trips, tripCount(lb, ub, st));
  else if (isa<scf::WhileOp>(op))
    trips = kUnboundedWork;
  int64_t body = 0;
  for (Region &region : op.getRegions())
    for (Block &block : region) {
      int64_t work = estimatedWork(block);
      body = isa<scf::IfOp>(op) ? std::max(body, work)
                                : saturatingAdd(body, work);
    }
  return saturatingAdd(1, saturatingMul(trips, body));
}

int64_t nl::estimatedWork(Block &block) {
  int64_t work = 0;
  for (Operation &op : block)
    work = saturatingAdd(work, estimatedWork(op));
  return work;
}

