//===- FuseElementwise.cpp - nl-fuse-elementwise --------------------------===//
//
// Upstream's elementwise fusion patterns, restricted by their control function
// to fusions that compute nothing twice.
//
//===----------------------------------------------------------------------===//

#include "nl/Codegen/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLFUSEELEMENTWISE
#include "nl/Codegen/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;

/// Whether fusing the producer of `use` into its consumer computes every
/// element of the producer exactly once: one use, read through a permutation
/// of all the consumer's loops.
static bool fusesWithoutRecomputation(OpOperand *use) {
  Operation *producer = use->get().getDefiningOp();
  if (!producer || !producer->hasOneUse())
    return false;
  auto consumer = dyn_cast<linalg::LinalgOp>(use->getOwner());
  if (!consumer)
    return false;
  AffineMap map = consumer.getMatchingIndexingMap(use);
  return map.isPermutation();
}

namespace {
struct FuseElementwisePass
    : nl::impl::NLFuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(patterns,
                                                 fusesWithoutRecomputation);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
