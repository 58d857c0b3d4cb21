//===- TileContractions.cpp - nl-tile-contractions ------------------------===//
//
// Thread, cache and register tiling of contractions with MLIR's
// TilingInterface (scf::tileUsingSCF); see Passes.td.
//
//===----------------------------------------------------------------------===//

#include "nl/Codegen/CPU/NLCPUDialect.h"
#include "nl/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Linalg/Utils/Utils.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLTILECONTRACTIONS
#include "nl/Codegen/CPU/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;

namespace {

/// The loops of a contraction-like generic as the CPU tiles them: parallel
/// `outer` loops (batch, heads), the `row` loop (the innermost parallel one
/// before `inner`), one `reduction` loop, and the `inner` loop over the
/// output's contiguous dimension (innermost after
/// nl-vector-friendly-loop-order).
struct ContractionLoops {
  SmallVector<unsigned> outer;
  unsigned row, reduction, inner;
};

/// What matchContraction reads of a generic: its loops and its inputs' maps
/// (so that a generic can be matched as it would be with loops collapsed).
struct LoopNest {
  SmallVector<utils::IteratorType> iterators;
  SmallVector<AffineMap> inputMaps;
  SmallVector<int64_t> ranges;
  Type element;
};

LoopNest describe(linalg::GenericOp op) {
  LoopNest nest{op.getIteratorTypesArray(), {}, op.getStaticLoopRanges(),
                getElementTypeOrSelf(op.getDpsInits()[0].getType())};
  for (OpOperand *input : op.getDpsInputOperands())
    nest.inputMaps.push_back(op.getMatchingIndexingMap(input));
  return nest;
}

std::optional<ContractionLoops> matchContraction(const LoopNest &nest) {
  ArrayRef<utils::IteratorType> iterators = nest.iterators;
  unsigned numLoops = iterators.size();
  if (numLoops < 3 || llvm::count(iterators, utils::IteratorType::reduction) != 1 ||
      !linalg::isParallelIterator(iterators.back()))
    return std::nullopt;
  if (!nest.element.isIntOrFloat())
    return std::nullopt;
  ContractionLoops loops;
  loops.inner = numLoops - 1;
  loops.reduction = *llvm::find_if(llvm::seq(numLoops), [&](unsigned d) {
    return linalg::isReductionIterator(iterators[d]);
  });
  // A GEMM-like shape: an input `w` indexed by (k, j) and not by the row
  // (reused by every row: what a register block saves loads of), and an
  // input indexed by (row, k) and not by j. Batched products whose every
  // input has the row (per-head matrix-vector products) are not.
  std::optional<unsigned> row;
  for (unsigned d = 0; d < loops.inner; ++d) {
    if (d == loops.reduction)
      continue;
    bool shared = false, rowOperand = false;
    for (AffineMap map : nest.inputMaps) {
      auto uses = [&](unsigned dim) { return map.isFunctionOfDim(dim); };
      if (uses(loops.reduction) && uses(loops.inner) && !uses(d))
        shared = true;
      if (uses(loops.reduction) && uses(d) && !uses(loops.inner))
        rowOperand = true;
    }
    if (shared && rowOperand)
      row = d;
  }
  if (!row)
    return std::nullopt;
  loops.row = *row;
  for (unsigned d = 0; d < loops.inner; ++d)
    if (d != loops.row && d != loops.reduction)
      loops.outer.push_back(d);
  if (ShapedType::isDynamic(nest.ranges[loops.inner]))
    return std::nullopt;
  return loops;
}

/// The reduction loops of `nest` when there are several and they are
/// adjacent: a weight's gradient sums over batch and tokens,
/// dW[j, k] = sum_{b, t} dY[b, t, j] X[b, t, k].
std::optional<ReassociationIndices> adjacentReductions(const LoopNest &nest) {
  ReassociationIndices reductions;
  for (auto [d, iterator] : llvm::enumerate(nest.iterators))
    if (linalg::isReductionIterator(iterator))
      reductions.push_back(d);
  if (reductions.size() < 2 ||
      reductions.back() - reductions.front() + 1 != int64_t(reductions.size()))
    return std::nullopt;
  return reductions;
}

/// `nest` with the loops of `group` (adjacent) collapsed into its first.
LoopNest collapse(const LoopNest &nest, ReassociationIndicesRef group) {
  unsigned numLoops = nest.iterators.size(), folded = group.size() - 1;
  MLIRContext *context = nest.inputMaps.front().getContext();
  LoopNest result{{}, {}, {}, nest.element};
  SmallVector<AffineExpr> dims;
  for (unsigned d = 0; d < numLoops; ++d) {
    bool inGroup = d >= group.front() && d <= group.back();
    unsigned target = inGroup ? group.front() : (d > group.back() ? d - folded : d);
    dims.push_back(getAffineDimExpr(target, context));
    if (inGroup && d != group.front()) {
      int64_t &range = result.ranges.back();
      range = ShapedType::isDynamic(range) || ShapedType::isDynamic(nest.ranges[d])
                  ? ShapedType::kDynamic
                  : range * nest.ranges[d];
      continue;
    }
    result.iterators.push_back(nest.iterators[d]);
    result.ranges.push_back(nest.ranges[d]);
  }
  for (AffineMap map : nest.inputMaps)
    result.inputMaps.push_back(
        map.replaceDimsAndSymbols(dims, {}, numLoops - folded, map.getNumSymbols()));
  return result;
}

struct TileContractionsPass
    : nl::impl::NLTileContractionsBase<TileContractionsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::GenericOp> candidates;
    SmallVector<linalg::TransposeOp> transposes;
    getOperation()->walk([&](Operation *op) {
      if (auto generic = dyn_cast<linalg::GenericOp>(op);
          generic && generic.hasPureTensorSemantics())
        candidates.push_back(generic);
      if (auto transpose = dyn_cast<linalg::TransposeOp>(op);
          transpose && transpose.hasPureTensorSemantics())
        transposes.push_back(transpose);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : candidates)
      if (failed(tile(rewriter, op)))
        return signalPassFailure();
    for (linalg::TransposeOp op : transposes)
      if (failed(tileTranspose(rewriter, op)))
        return signalPassFailure();
  }

  /// A transpose that moves the input's contiguous dimension elsewhere reads
  /// or writes with a stride in its inner loop (gathers). Square tiles of
  /// one vector register's width, each transposed in registers
  /// (nl-vectorize-register-tiles, nl-lower-vector-ops), read and write
  /// whole vectors instead; the tiles are shared among threads.
  LogicalResult tileTranspose(RewriterBase &rewriter, linalg::TransposeOp op) {
    ArrayRef<int64_t> permutation = op.getPermutation();
    int64_t rank = permutation.size();
    if (rank < 2 || permutation.back() == rank - 1 || registerRows <= 0)
      return success();
    auto type = cast<RankedTensorType>(op.getInit().getType());
    if (!type.getElementType().isIntOrFloat())
      return success();
    int64_t elementBytes =
        (type.getElementType().getIntOrFloatBitWidth() + 7) / 8;
    int64_t side = std::max<int64_t>(vectorBytes / elementBytes, 1);
    // Output dimension `from` holds the input's contiguous one.
    int64_t from = llvm::find(permutation, rank - 1) - permutation.begin();
    for (int64_t d : {from, rank - 1})
      if (type.isDynamicDim(d) || type.getDimSize(d) % side != 0)
        return success();
    SmallVector<int64_t> sizes(rank, 1);
    sizes[from] = side;
    sizes[rank - 1] = side;
    rewriter.setInsertionPoint(op);
    FailureOr<linalg::GenericOp> generic =
        linalg::generalizeNamedOp(rewriter, op);
    if (failed(generic))
      return op.emitError("nl-tile-contractions: could not generalize");
    FailureOr<scf::SCFTilingResult> tiled =
        tileWith(rewriter, *generic, sizes, llvm::to_vector(llvm::seq(rank)),
                 scf::SCFTilingOptions::LoopType::ForallOp);
    if (failed(tiled))
      return failure();
    tiled->tiledOps.front()->setAttr(nl::NLCPUDialect::getRegisterTileAttrName(),
                                     rewriter.getUnitAttr());
    return success();
  }

  /// Tiles `op` with `sizes` (0: untiled), loops in `order` (tiled ones
  /// only matter), and replaces it; returns the tiled op and the loops.
  FailureOr<scf::SCFTilingResult>
  tileWith(RewriterBase &rewriter, linalg::GenericOp op,
           ArrayRef<int64_t> sizes, ArrayRef<int64_t> order,
           scf::SCFTilingOptions::LoopType loopType) {
    scf::SCFTilingOptions options;
    options.setTileSizes(getAsIndexOpFoldResult(op.getContext(), sizes))
        .setInterchange(order)
        .setLoopType(loopType);
    rewriter.setInsertionPoint(op);
    FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
        rewriter, cast<TilingInterface>(op.getOperation()), options);
    if (failed(tiled))
      return op.emitError("nl-tile-contractions: could not tile");
    rewriter.replaceOp(op, tiled->replacements);
    return tiled;
  }

  LogicalResult tile(RewriterBase &rewriter, linalg::GenericOp op) {
    LoopNest nest = describe(op);
    std::optional<ContractionLoops> loops = matchContraction(nest);
    // Several adjacent reduction loops may be one contraction's k once
    // collapsed (a weight's gradient); collapsed below if it is tiled.
    std::optional<ReassociationIndices> group;
    if (!loops && (group = adjacentReductions(nest)) &&
        linalg::areDimSequencesPreserved(op.getIndexingMapsArray(), {*group})) {
      nest = collapse(nest, *group);
      loops = matchContraction(nest);
    }
    if (!loops)
      return success();
    unsigned numLoops = nest.iterators.size();
    ArrayRef<int64_t> ranges = nest.ranges;
    Type element = nest.element;
    int64_t elementBytes = (element.getIntOrFloatBitWidth() + 7) / 8;
    bool cacheTiled =
        !ShapedType::isDynamic(ranges[loops->reduction]) &&
        ranges[loops->inner] * ranges[loops->reduction] * elementBytes >
            cacheBytes;
    int64_t registerColumns =
        registerVectors * std::max<int64_t>(vectorBytes / elementBytes, 1);
    bool registerTiled = registerRows > 0 && registerVectors > 0 &&
                         ranges[loops->inner] >= registerColumns;
    if (!cacheTiled && !registerTiled)
      return success();
    if (group) {
      // MLIR's collapseOpIterationDims: each element still sums in the same
      // order (b-major, then t).
      rewriter.setInsertionPoint(op);
      FailureOr<linalg::CollapseResult> collapsed =
          linalg::collapseOpIterationDims(op, {*group}, rewriter);
      if (failed(collapsed))
        return op.emitError(
            "nl-tile-contractions: could not collapse the reduction loops");
      rewriter.replaceOp(op, collapsed->results);
      op = cast<linalg::GenericOp>(collapsed->collapsedOp.getOperation());
    }

    // Loop orders: the tiled loops of each level in the order they nest.
    SmallVector<int64_t> order(loops->outer.begin(), loops->outer.end());
    order.append({loops->row, loops->inner, loops->reduction});
    auto tileIfSmaller = [&](SmallVector<int64_t> &sizes, unsigned dim,
                             int64_t size) {
      if (ShapedType::isDynamic(ranges[dim]) || ranges[dim] > size)
        sizes[dim] = size;
    };

    // Threads: blocks of rows and of columns (every batch and head its
    // own) run in parallel; columns too, so that a few rows (a short
    // sequence) still give every thread work.
    SmallVector<int64_t> threadSizes(numLoops, 0);
    for (unsigned d : loops->outer)
      threadSizes[d] = 1;
    tileIfSmaller(threadSizes, loops->row, rowTile);
    tileIfSmaller(threadSizes, loops->inner, innerTile);
    FailureOr<scf::SCFTilingResult> tiled =
        tileWith(rewriter, op, threadSizes, order,
                 scf::SCFTilingOptions::LoopType::ForallOp);
    if (failed(tiled))
      return failure();
    op = cast<linalg::GenericOp>(tiled->tiledOps.front());

    // Caches: a block of the (reduction, inner) operand is reused by every
    // row of the block; the reduction loop innermost keeps each element's
    // sum in increasing k.
    if (cacheTiled) {
      SmallVector<int64_t> cacheSizes(numLoops, 0);
      tileIfSmaller(cacheSizes, loops->reduction, reductionTile);
      tiled = tileWith(rewriter, op, cacheSizes, order,
                       scf::SCFTilingOptions::LoopType::ForOp);
      if (failed(tiled))
        return failure();
      op = cast<linalg::GenericOp>(tiled->tiledOps.front());
    }
    if (!registerTiled)
      return success();

    // Registers: a registerRows x registerColumns block of the output is
    // accumulated over every k of the block, one k at a time, by
    // nl-vectorize-register-tiles. Partial row and column blocks are peeled
    // off before the next level is tiled: full blocks get static shapes,
    // and a partial one stays one op (plain loops), not one per k.
    auto tileAndPeel = [&](unsigned dim, int64_t size) -> LogicalResult {
      SmallVector<int64_t> sizes(numLoops, 0);
      sizes[dim] = size;
      FailureOr<scf::SCFTilingResult> level = tileWith(
          rewriter, op, sizes, order, scf::SCFTilingOptions::LoopType::ForOp);
      if (failed(level))
        return failure();
      // The op stays in the loop, which becomes the full blocks' part.
      op = cast<linalg::GenericOp>(level->tiledOps.front());
      auto loop = cast<scf::ForOp>(level->loops.front().getOperation());
      scf::ForOp partial;
      (void)scf::peelForLoopAndSimplifyBounds(rewriter, loop, partial);
      return success();
    };
    if (failed(tileAndPeel(loops->row, registerRows)) ||
        failed(tileAndPeel(loops->inner, registerColumns)))
      return failure();
    SmallVector<int64_t> reductionSizes(numLoops, 0);
    reductionSizes[loops->reduction] = 1;
    tiled = tileWith(rewriter, op, reductionSizes, order,
                     scf::SCFTilingOptions::LoopType::ForOp);
    if (failed(tiled))
      return failure();
    tiled->tiledOps.front()->setAttr(nl::NLCPUDialect::getRegisterTileAttrName(),
                                     rewriter.getUnitAttr());
    return success();
  }
};

} // namespace
