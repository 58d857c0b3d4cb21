//===- VectorizeRegisterTiles.cpp - nl-vectorize-register-tiles -----------===//
//
// The register blocks of contractions as vector code whose accumulator stays
// in registers across the reduction loop (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "nl/Codegen/CPU/NLCPUDialect.h"
#include "nl/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLVECTORIZEREGISTERTILES
#include "nl/Codegen/CPU/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;

namespace {

bool hasStaticShapes(linalg::GenericOp op) {
  return llvm::all_of(op->getOperandTypes(), [](Type type) {
    auto shaped = dyn_cast<ShapedType>(type);
    return !shaped || shaped.hasStaticShape();
  });
}

/// Vectorises one full register block; leaves `op` alone if it cannot.
void vectorizeBlock(RewriterBase &rewriter, linalg::GenericOp op) {
  // Unit parallel dimensions (batch and heads of one thread block) would
  // become unit vector dimensions; the unit reduction stays, so that the
  // block vectorises to a contraction.
  linalg::ControlDropUnitDims control;
  control.rankReductionStrategy =
      linalg::ControlDropUnitDims::RankReductionStrategy::ExtractInsertSlice;
  control.controlFn = [](Operation *candidate) {
    SmallVector<unsigned> dims;
    auto generic = cast<linalg::GenericOp>(candidate);
    SmallVector<int64_t> ranges = generic.getStaticLoopRanges();
    for (auto [d, iterator] :
         llvm::enumerate(generic.getIteratorTypesArray()))
      if (linalg::isParallelIterator(iterator) && ranges[d] == 1)
        dims.push_back(d);
    return dims;
  };
  rewriter.setInsertionPoint(op);
  linalg::GenericOp block = op;
  FailureOr<linalg::DropUnitDimsResult> dropped =
      linalg::dropUnitDims(rewriter, op, control);
  if (succeeded(dropped)) {
    rewriter.replaceOp(op, dropped->replacements);
    block = cast<linalg::GenericOp>(dropped->resultOp.getOperation());
  }
  if (failed(linalg::vectorizeOpPrecondition(block)))
    return;
  rewriter.setInsertionPoint(block);
  FailureOr<linalg::VectorizationResult> vectorized = linalg::vectorize(
      rewriter, block, /*inputVectorSizes=*/{}, /*inputScalableVecDims=*/{},
      /*vectorizeNDExtract=*/false, /*flatten1DDepthwiseConv=*/false,
      /*assumeDynamicDimsMatchVecSizes=*/false,
      /*createNamedContraction=*/true);
  if (succeeded(vectorized))
    rewriter.replaceOp(block, vectorized->replacements);
}

struct VectorizeRegisterTilesPass
    : nl::impl::NLVectorizeRegisterTilesBase<VectorizeRegisterTilesPass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    SmallVector<linalg::GenericOp> marked;
    getOperation()->walk([&](linalg::GenericOp op) {
      if (op->hasAttr(nl::NLCPUDialect::getRegisterTileAttrName()))
        marked.push_back(op);
    });
    if (marked.empty())
      return;
    IRRewriter rewriter(context);
    for (linalg::GenericOp op : marked) {
      op->removeAttr(nl::NLCPUDialect::getRegisterTileAttrName());
      if (op.hasPureTensorSemantics() && hasStaticShapes(op))
        vectorizeBlock(rewriter, op);
    }

    // Reads and writes straight from the tiles' tensors, so that the
    // accumulator's read/write pair is a subset of the reduction loop's
    // iteration argument at loop-invariant indices.
    // The vectoriser writes a contraction as a reduction of a product of
    // broadcasts; upstream patterns recognise it as vector.contract.
    RewritePatternSet folds(context);
    vector::populateVectorReductionToContractPatterns(folds);
    tensor::populateFoldTensorSubsetIntoVectorTransferPatterns(folds);
    tensor::populateMergeConsecutiveInsertExtractSlicePatterns(folds);
    vector::populateVectorTransferPermutationMapLoweringPatterns(folds);
    if (failed(applyPatternsGreedily(getOperation(), std::move(folds))))
      return signalPassFailure();

    // Innermost loops first: the accumulator leaves the k loop, then any
    // loop around it where it is still invariant.
    SmallVector<scf::ForOp> loops;
    getOperation()->walk([&](scf::ForOp loop) { loops.push_back(loop); });
    for (scf::ForOp loop : loops)
      hoistLoopInvariantSubsets(rewriter, loop);

  }
};

} // namespace
