//===- TileContractions.cpp - nl-tile-contractions ------------------------===//
//
// Cache tiling of large contractions with MLIR's TilingInterface
// (scf::tileUsingSCF); see Passes.td.
//
//===----------------------------------------------------------------------===//

#include "nl/Codegen/Passes.h"

#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Linalg/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLTILECONTRACTIONS
#include "nl/Codegen/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;

namespace {

struct TileContractionsPass
    : nl::impl::NLTileContractionsBase<TileContractionsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::GenericOp> candidates;
    getOperation()->walk([&](linalg::GenericOp op) {
      if (op.hasPureTensorSemantics())
        candidates.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : candidates)
      if (failed(tile(rewriter, op)))
        return signalPassFailure();
  }

  LogicalResult tile(RewriterBase &rewriter, linalg::GenericOp op) {
    SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
    unsigned numLoops = iterators.size();
    if (numLoops < 3 || op.getNumReductionLoops() != 1 ||
        !linalg::isParallelIterator(iterators.back()))
      return success();
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    unsigned inner = numLoops - 1;
    unsigned reduction = *llvm::find_if(llvm::seq(numLoops), [&](unsigned d) {
      return linalg::isReductionIterator(iterators[d]);
    });
    // The row dimension: the innermost parallel one outside `inner`.
    std::optional<unsigned> row;
    for (unsigned d = 0; d < inner; ++d)
      if (linalg::isParallelIterator(iterators[d]))
        row = d;
    if (!row || ShapedType::isDynamic(ranges[inner]) ||
        ShapedType::isDynamic(ranges[reduction]))
      return success();
    Type element = getElementTypeOrSelf(op.getDpsInits()[0].getType());
    if (!element.isIntOrFloat())
      return success();
    int64_t elementBytes = (element.getIntOrFloatBitWidth() + 7) / 8;
    if (ranges[inner] * ranges[reduction] * elementBytes <= cacheBytes)
      return success();

    SmallVector<OpFoldResult> tileSizes(numLoops, rewriter.getIndexAttr(0));
    auto tileIfSmaller = [&](unsigned dim, int64_t size) {
      if (ShapedType::isDynamic(ranges[dim]) || ranges[dim] > size)
        tileSizes[dim] = rewriter.getIndexAttr(size);
    };
    tileIfSmaller(*row, rowTile);
    tileIfSmaller(inner, innerTile);
    tileIfSmaller(reduction, reductionTile);
    // Tile loops: rows, columns, then the reduction innermost (increasing k
    // for every element, as untiled).
    SmallVector<int64_t> interchange;
    for (unsigned d = 0; d < numLoops; ++d)
      if (d != inner && d != reduction)
        interchange.push_back(d);
    interchange.append({inner, reduction});

    scf::SCFTilingOptions options;
    options.setTileSizes(tileSizes).setInterchange(interchange);
    rewriter.setInsertionPoint(op);
    FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
        rewriter, cast<TilingInterface>(op.getOperation()), options);
    if (failed(tiled))
      return op.emitError("nl-tile-contractions: could not tile");
    rewriter.replaceOp(op, tiled->replacements);
    return success();
  }
};

} // namespace
