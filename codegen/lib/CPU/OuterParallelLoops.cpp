//===- OuterParallelLoops.cpp - nl-outer-parallel-loops -------------------===//
//
// One level of thread parallelism per loop nest, outside the loop LLVM
// vectorises (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "LoopWork.h"
#include "nl/Codegen/CPU/Passes.h"

#include "mlir/IR/IRMapping.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLOUTERPARALLELLOOPS
#include "nl/Codegen/CPU/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;

namespace {

/// Rebuilds `loop` with its first `keep` dimensions parallel and the others
/// as nested scf.for loops, in order.
void keepParallel(scf::ParallelOp loop, unsigned keep) {
  unsigned rank = loop.getNumLoops();
  if (keep == rank)
    return;
  OpBuilder builder(loop);
  Location loc = loop.getLoc();
  IRMapping mapping;
  auto ivs = loop.getInductionVars();
  auto lower = loop.getLowerBound(), upper = loop.getUpperBound(),
       step = loop.getStep();
  if (keep > 0) {
    auto outer = scf::ParallelOp::create(builder, loc, lower.take_front(keep),
                                         upper.take_front(keep),
                                         step.take_front(keep));
    for (unsigned d = 0; d < keep; ++d)
      mapping.map(ivs[d], outer.getInductionVars()[d]);
    builder.setInsertionPointToStart(outer.getBody());
  }
  for (unsigned d = keep; d < rank; ++d) {
    auto serial = scf::ForOp::create(builder, loc, lower[d], upper[d], step[d]);
    mapping.map(ivs[d], serial.getInductionVar());
    builder.setInsertionPointToStart(serial.getBody());
  }
  for (Operation &op : loop.getBody()->without_terminator())
    builder.clone(op, mapping);
  loop.erase();
}

bool containsLoop(scf::ParallelOp loop) {
  return loop.getBody()
      ->walk([](Operation *op) {
        return isa<scf::ForOp, scf::ParallelOp>(op) ? WalkResult::interrupt()
                                                    : WalkResult::advance();
      })
      .wasInterrupted();
}

struct OuterParallelLoopsPass
    : nl::impl::NLOuterParallelLoopsBase<OuterParallelLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    // Post-order: inner loops are rebuilt before the loops around them.
    SmallVector<scf::ParallelOp> loops;
    getOperation()->walk([&](scf::ParallelOp loop) { loops.push_back(loop); });
    for (scf::ParallelOp loop : loops) {
      if (loop.getNumReductions() != 0)
        continue;
      if (loop->getParentOfType<scf::ParallelOp>() ||
          nl::estimatedWork(*loop) < minParallelWork) {
        keepParallel(loop, 0);
        continue;
      }
      if (!containsLoop(loop))
        keepParallel(loop, loop.getNumLoops() - 1);
    }
  }
};

} // namespace
