//===- VectorFriendlyLoopOrder.cpp - nl-vector-friendly-loop-order --------===//
//
// Puts a contiguous parallel dimension innermost in every linalg.generic, so
// that the loops convert-linalg-to-loops makes vectorise (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "nl/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLVECTORFRIENDLYLOOPORDER
#include "nl/Codegen/CPU/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;

namespace {

/// The parallel dimension that indexes the output's last dimension.
std::optional<unsigned> outputLastDim(linalg::GenericOp op) {
  if (op.getNumDpsInits() == 0)
    return std::nullopt;
  AffineMap outputMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (outputMap.getNumResults() == 0)
    return std::nullopt;
  auto last = dyn_cast<AffineDimExpr>(outputMap.getResults().back());
  if (!last ||
      !linalg::isParallelIterator(op.getIteratorTypesArray()[last.getPosition()]))
    return std::nullopt;
  return last.getPosition();
}

/// Where `dim` indexes `map`'s results: -1 if it does not, -2 if it does in
/// an expression other than a plain dimension or more than once.
int64_t positionOf(AffineMap map, unsigned dim) {
  int64_t found = -1;
  for (auto [index, result] : llvm::enumerate(map.getResults())) {
    if (!result.isFunctionOfDim(dim))
      continue;
    auto plain = dyn_cast<AffineDimExpr>(result);
    if (!plain || found != -1)
      return -2;
    found = index;
  }
  return found;
}

/// Whether `dim` is the last dimension of every operand that it indexes.
bool isContiguousEverywhere(linalg::GenericOp op, unsigned dim) {
  for (AffineMap map : op.getIndexingMapsArray()) {
    int64_t position = positionOf(map, dim);
    if (position == -2 ||
        (position >= 0 && position + 1 != map.getNumResults()))
      return false;
  }
  return true;
}

/// In a contraction on tensors, transposes each input that `dim` indexes at
/// another position than the last (a weight `W[o, i]` in `y[o] = W[o, i]
/// x[i]`) so that it becomes contiguous. The copy costs one pass over that
/// input; the contraction reads it once per other iteration.
linalg::GenericOp makeContiguous(RewriterBase &rewriter, linalg::GenericOp op,
                                 unsigned dim) {
  if (!op.hasPureTensorSemantics() || op.getNumReductionLoops() == 0)
    return op;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  SmallVector<Value> inputs(op.getDpsInputs());
  bool changed = false;
  for (auto [index, input] : llvm::enumerate(inputs)) {
    AffineMap map = maps[index];
    int64_t position = positionOf(map, dim);
    auto type = dyn_cast<RankedTensorType>(input.getType());
    if (position < 0 || position + 1 == map.getNumResults() || !type ||
        !map.isProjectedPermutation())
      continue;
    SmallVector<int64_t> permutation;
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (d != position)
        permutation.push_back(d);
    permutation.push_back(position);
    Location loc = op.getLoc();
    SmallVector<OpFoldResult> sizes;
    for (int64_t d : permutation)
      sizes.push_back(tensor::getMixedSize(rewriter, loc, input, d));
    Value init = tensor::EmptyOp::create(rewriter, loc, sizes,
                                         type.getElementType());
    input = linalg::TransposeOp::create(rewriter, loc, input, init, permutation)
                .getResult()[0];
    SmallVector<AffineExpr> results;
    for (int64_t d : permutation)
      results.push_back(map.getResult(d));
    maps[index] = AffineMap::get(map.getNumDims(), 0, results, op.getContext());
    changed = true;
  }
  if (!changed)
    return op;
  auto replacement = linalg::GenericOp::create(
      rewriter, op.getLoc(), op.getResultTypes(), inputs, op.getDpsInits(),
      maps, op.getIteratorTypesArray());
  rewriter.inlineRegionBefore(op.getRegion(), replacement.getRegion(),
                              replacement.getRegion().begin());
  rewriter.replaceOp(op, replacement.getResults());
  return replacement;
}

struct VectorFriendlyLoopOrderPass
    : nl::impl::NLVectorFriendlyLoopOrderBase<VectorFriendlyLoopOrderPass> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> ops;
    getOperation()->walk([&](linalg::GenericOp op) { ops.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : ops) {
      std::optional<unsigned> dim = outputLastDim(op);
      if (!dim)
        continue;
      rewriter.setInsertionPoint(op);
      op = makeContiguous(rewriter, op, *dim);
      unsigned numLoops = op.getNumLoops();
      if (!isContiguousEverywhere(op, *dim) || *dim + 1 == numLoops)
        continue;
      SmallVector<unsigned> order;
      for (unsigned d = 0; d < numLoops; ++d)
        if (d != *dim)
          order.push_back(d);
      order.push_back(*dim);
      rewriter.setInsertionPoint(op);
      if (failed(linalg::interchangeGenericOp(rewriter, op, order))) {
        op.emitError("cannot reorder the loops of this op");
        return signalPassFailure();
      }
    }
  }
};

} // namespace
