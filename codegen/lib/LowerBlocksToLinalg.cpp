//===- LowerBlocksToLinalg.cpp - nl building blocks -> linalg -------------===//
//
// Each nl building-block op becomes linalg on tensors computing exactly what
// the dialect reference says (the PyTorch references in test/reference/
// implement the same definitions independently).
//
//===----------------------------------------------------------------------===//

#include "nl/Codegen/CMSChain.h"
#include "nl/Codegen/Passes.h"
#include "nl/Codegen/TensorBuilders.h"
#include "nl/IR/NLOps.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <limits>

namespace mlir::nl {
#define GEN_PASS_DEF_NLLOWERBLOCKSTOLINALG
#include "nl/Codegen/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;

namespace {

Value applyActivation(OpBuilder &b, Location loc, Activation kind, Value x) {
  switch (kind) {
  case Activation::SiLU:
    return siluScalar(b, loc, x);
  case Activation::GELU:
    return geluScalar(b, loc, x);
  case Activation::Sigmoid:
    return sigmoidScalar(b, loc, x);
  case Activation::Softplus:
    return softplusScalar(b, loc, x);
  }
  llvm_unreachable("unknown activation");
}

struct LowerLinear : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    TensorBuilder tb(rewriter, op.getLoc());
    auto inputType = op.getInput().getType();
    unsigned rank = inputType.getRank();
    MLIRContext *ctx = rewriter.getContext();
    // Loops: the output dims d0..d{rank-1} (the last is `out`), then `in`.
    unsigned numLoops = rank + 1;
    SmallVector<AffineExpr> inputExprs, outputExprs;
    for (unsigned d = 0; d + 1 < rank; ++d)
      inputExprs.push_back(getAffineDimExpr(d, ctx));
    inputExprs.push_back(getAffineDimExpr(rank, ctx));
    for (unsigned d = 0; d < rank; ++d)
      outputExprs.push_back(getAffineDimExpr(d, ctx));
    AffineMap inputMap = AffineMap::get(numLoops, 0, inputExprs, ctx);
    AffineMap weightMap = AffineMap::get(
        numLoops, 0,
        {getAffineDimExpr(rank - 1, ctx), getAffineDimExpr(rank, ctx)}, ctx);
    AffineMap outputMap = AffineMap::get(numLoops, 0, outputExprs, ctx);
    SmallVector<OpFoldResult> sizes = tb.sizes(op.getInput());
    sizes.back() = tb.sizes(op.getWeight())[0];
    Value result = tb.generic(
        {op.getInput(), op.getWeight()}, {inputMap, weightMap}, sizes,
        outputMap, inputType.getElementType(), {rank}, 0.0,
        [](OpBuilder &b, Location loc, ValueRange args) {
          Value product = arith::MulFOp::create(b, loc, args[0], args[1]);
          return arith::AddFOp::create(b, loc, args[2], product).getResult();
        });
    if (Value bias = op.getBias()) {
      AffineMap identity = tb.identity(rank);
      AffineMap last = AffineMap::get(rank, 0, getAffineDimExpr(rank - 1, ctx));
      result = tb.generic(
          {result, bias}, {identity, last}, tb.sizes(result), identity,
          inputType.getElementType(), {}, std::nullopt,
          [](OpBuilder &b, Location loc, ValueRange args) {
            return arith::AddFOp::create(b, loc, args[0], args[1]).getResult();
          });
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// y[b, t, :] = table[ids[b, t], :], after a precondition that every id is
/// a row of the table (a bad id would read outside it).
struct LowerEmbedding : OpRewritePattern<EmbeddingOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(EmbeddingOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    TensorBuilder tb(rewriter, loc);
    MLIRContext *ctx = rewriter.getContext();
    Value ids = op.getIds(), table = op.getTable();
    int64_t rows = op.getTable().getType().getDimSize(0);
    Value rowCount = tensor::DimOp::create(rewriter, loc, table, 0);

    // The number of ids outside [0, V), counted in f64 (0 when all are in).
    auto f64 = rewriter.getF64Type();
    AffineMap all = AffineMap::getMultiDimIdentityMap(2, ctx);
    Value bad = tb.generic(
        {ids}, {all}, {}, AffineMap::get(2, 0, {}, ctx), f64, {0, 1}, 0.0,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value id = arith::IndexCastOp::create(b, l, b.getIndexType(), args[0]);
          Value zero = arith::ConstantIntOp::create(b, l, b.getI64Type(), 0);
          Value negative =
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, args[0], zero);
          Value beyond =
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, id, rowCount);
          Value outside = arith::OrIOp::create(b, l, negative, beyond);
          Value one = arith::ConstantOp::create(b, l, f64, b.getF64FloatAttr(1.0));
          Value none = arith::ConstantOp::create(b, l, f64, b.getF64FloatAttr(0.0));
          return arith::AddFOp::create(
                     b, l, args[1],
                     arith::SelectOp::create(b, l, outside, one, none))
              .getResult();
        });
    Value count = tensor::ExtractOp::create(rewriter, loc, bad, ValueRange{});
    Value ok = arith::CmpFOp::create(
        rewriter, loc, arith::CmpFPredicate::OEQ, count,
        arith::ConstantOp::create(rewriter, loc, f64,
                                  rewriter.getF64FloatAttr(0.0)));
    std::string range = ShapedType::isDynamic(rows)
                            ? std::string("the table's rows")
                            : "[0, " + std::to_string(rows) + ")";
    PreconditionOp::create(rewriter, loc, ok,
                           rewriter.getStringAttr("token ids must be in " +
                                                  range));

    // The gather.
    SmallVector<OpFoldResult> sizes = tb.sizes(ids);
    sizes.push_back(tb.sizes(table)[1]);
    AffineMap idsMap = AffineMap::get(
        3, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx)}, ctx);
    Value result = tb.generic(
        {ids}, {idsMap}, sizes, AffineMap::getMultiDimIdentityMap(3, ctx),
        op.getType().getElementType(), {}, std::nullopt,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value row = arith::IndexCastOp::create(b, l, b.getIndexType(), args[0]);
          Value column = linalg::IndexOp::create(b, l, 2);
          return tensor::ExtractOp::create(b, l, table, ValueRange{row, column})
              .getResult();
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// y[b, h, t, :] = gate[b, h, t] * input[b, h, t, :].
struct LowerGate : OpRewritePattern<GateOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GateOp op,
                                PatternRewriter &rewriter) const override {
    TensorBuilder tb(rewriter, op.getLoc());
    // einsum's default body multiplies its inputs.
    rewriter.replaceOp(
        op, tb.einsum("bhtd,bht->bhtd", {op.getInput(), op.getGate()}));
    return success();
  }
};

/// [B, T, H*d] -> [B, T, H, d] -> [B, H, T, d].
struct LowerSplitHeads : OpRewritePattern<SplitHeadsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SplitHeadsOp op,
                                PatternRewriter &rewriter) const override {
    auto resultType = op.getResult().getType();
    int64_t headWidth = resultType.getDimSize(3);
    if (ShapedType::isDynamic(headWidth))
      return rewriter.notifyMatchFailure(op, "needs a static head width");
    Location loc = op.getLoc();
    TensorBuilder tb(rewriter, loc);
    SmallVector<OpFoldResult> in = tb.sizes(op.getInput());
    OpFoldResult heads = rewriter.getIndexAttr(op.getHeads());
    OpFoldResult width = rewriter.getIndexAttr(headWidth);
    auto expandedType = RankedTensorType::get(
        {resultType.getDimSize(0), resultType.getDimSize(2),
         static_cast<int64_t>(op.getHeads()),
         headWidth},
        resultType.getElementType());
    Value expanded = tensor::ExpandShapeOp::create(
        rewriter, loc, expandedType, op.getInput(),
        ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}},
        SmallVector<OpFoldResult>{in[0], in[1], heads, width});
    Value init = tb.empty({in[0], heads, in[1], width},
                          resultType.getElementType());
    auto transpose = linalg::TransposeOp::create(
        rewriter, loc, expanded, init, ArrayRef<int64_t>{0, 2, 1, 3});
    rewriter.replaceOp(op, transpose.getResult()[0]);
    return success();
  }
};

/// [B, H, T, d] -> [B, T, H, d] -> [B, T, H*d].
struct LowerMergeHeads : OpRewritePattern<MergeHeadsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MergeHeadsOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    TensorBuilder tb(rewriter, loc);
    auto inputType = op.getInput().getType();
    SmallVector<OpFoldResult> in = tb.sizes(op.getInput());
    Value init =
        tb.empty({in[0], in[2], in[1], in[3]}, inputType.getElementType());
    auto transpose = linalg::TransposeOp::create(
        rewriter, loc, op.getInput(), init, ArrayRef<int64_t>{0, 2, 1, 3});
    Value merged = tensor::CollapseShapeOp::create(
        rewriter, loc, op.getResult().getType(), transpose.getResult()[0],
        ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
    rewriter.replaceOp(op, merged);
    return success();
  }
};

/// y = scale * x / sqrt(mean(x^2) + eps) over the last dimension.
struct LowerRMSNorm : OpRewritePattern<RMSNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RMSNormOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    TensorBuilder tb(rewriter, loc);
    auto type = op.getInput().getType();
    unsigned rank = type.getRank();
    Type element = type.getElementType();
    Value sumSquares =
        tb.sumLastDim(op.getInput(), [](OpBuilder &b, Location l, Value x) {
          return arith::MulFOp::create(b, l, x, x).getResult();
        });
    Value width = arith::IndexCastOp::create(
        rewriter, loc, rewriter.getI64Type(), tb.dim(op.getInput(), rank - 1));
    Value widthFloat = arith::SIToFPOp::create(rewriter, loc, element, width);
    Value epsilon = tb.floatConstant(element, op.getEpsilon().convertToDouble());
    MLIRContext *ctx = rewriter.getContext();
    AffineMap scaleMap =
        AffineMap::get(rank, 0, getAffineDimExpr(rank - 1, ctx), ctx);
    Value result = tb.generic(
        {op.getInput(), sumSquares, op.getScale()},
        {tb.identity(rank), tb.dropLast(rank), scaleMap},
        tb.sizes(op.getInput()), tb.identity(rank), element, {}, std::nullopt,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value mean = arith::DivFOp::create(b, l, args[1], widthFloat);
          Value inv = math::RsqrtOp::create(
              b, l, arith::AddFOp::create(b, l, mean, epsilon));
          Value normed = arith::MulFOp::create(b, l, args[0], inv);
          return arith::MulFOp::create(b, l, normed, args[2]).getResult();
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// y = x / max(||x||, eps) over the last dimension.
struct LowerL2Normalize : OpRewritePattern<L2NormalizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(L2NormalizeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    TensorBuilder tb(rewriter, loc);
    auto type = op.getInput().getType();
    unsigned rank = type.getRank();
    Type element = type.getElementType();
    Value sumSquares =
        tb.sumLastDim(op.getInput(), [](OpBuilder &b, Location l, Value x) {
          return arith::MulFOp::create(b, l, x, x).getResult();
        });
    Value epsilon = tb.floatConstant(element, op.getEpsilon().convertToDouble());
    Value result = tb.generic(
        {op.getInput(), sumSquares}, {tb.identity(rank), tb.dropLast(rank)},
        tb.sizes(op.getInput()), tb.identity(rank), element, {}, std::nullopt,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value norm = math::SqrtOp::create(b, l, args[1]);
          Value denom = arith::MaximumFOp::create(b, l, norm, epsilon);
          return arith::DivFOp::create(b, l, args[0], denom).getResult();
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct LowerActivation : OpRewritePattern<ActivationOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ActivationOp op,
                                PatternRewriter &rewriter) const override {
    TensorBuilder tb(rewriter, op.getLoc());
    Activation kind = op.getKind();
    rewriter.replaceOp(
        op, tb.map(op.getInput(), [&](OpBuilder &b, Location l, ValueRange args) {
          return applyActivation(b, l, kind, args[0]);
        }));
    return success();
  }
};

/// [B, H, T, 1] -> scale * s(x) : [B, H, T].
struct LowerRate : OpRewritePattern<RateOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RateOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    TensorBuilder tb(rewriter, loc);
    Value collapsed = tensor::CollapseShapeOp::create(
        rewriter, loc, op.getResult().getType(), op.getInput(),
        ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
    Activation kind = op.getKind();
    Type element = op.getResult().getType().getElementType();
    Value scale = tb.floatConstant(element, op.getScale().convertToDouble());
    rewriter.replaceOp(
        op, tb.map(collapsed, [&](OpBuilder &b, Location l, ValueRange args) {
          Value activated = applyActivation(b, l, kind, args[0]);
          return arith::MulFOp::create(b, l, scale, activated).getResult();
        }));
    return success();
  }
};

/// The last N tokens of [history; input].
struct LowerSequenceTail : OpRewritePattern<SequenceTailOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SequenceTailOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    TensorBuilder tb(rewriter, loc);
    Value joined = tensor::ConcatOp::create(
        rewriter, loc, /*dim=*/1, ValueRange{op.getHistory(), op.getInput()});
    SmallVector<OpFoldResult> offsets(3, rewriter.getIndexAttr(0));
    offsets[1] = tb.sizes(op.getInput())[1];
    SmallVector<OpFoldResult> strides(3, rewriter.getIndexAttr(1));
    rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
        op, op.getType(), joined, offsets, tb.sizes(op.getHistory()),
        strides);
    return success();
  }
};

/// y[b, t, c] = sum_j w[c, j] x[b, t - (W-1) + j, c], zeros (or the
/// streaming history) before t = 0.
struct LowerCausalConv : OpRewritePattern<CausalConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CausalConvOp op,
                                PatternRewriter &rewriter) const override {
    int64_t window = op.getWeight().getType().getDimSize(1);
    if (ShapedType::isDynamic(window))
      return rewriter.notifyMatchFailure(op, "needs a static window");
    Location loc = op.getLoc();
    TensorBuilder tb(rewriter, loc);
    auto type = op.getInput().getType();
    Type element = type.getElementType();
    SmallVector<OpFoldResult> low = {rewriter.getIndexAttr(0),
                                     rewriter.getIndexAttr(window - 1),
                                     rewriter.getIndexAttr(0)};
    SmallVector<OpFoldResult> high(3, rewriter.getIndexAttr(0));
    SmallVector<int64_t> paddedShape(type.getShape());
    if (!ShapedType::isDynamic(paddedShape[1]))
      paddedShape[1] += window - 1;
    // Zeros before the sequence, or the previous pieces' last inputs.
    Value padded =
        op.getHistory()
            ? tensor::ConcatOp::create(
                  rewriter, loc, /*dim=*/1,
                  ValueRange{op.getHistory(), op.getInput()})
                  .getResult()
            : tensor::PadOp::create(
                  rewriter, loc, RankedTensorType::get(paddedShape, element),
                  op.getInput(), low, high, tb.floatConstant(element, 0.0))
                  .getResult();
    MLIRContext *ctx = rewriter.getContext();
    AffineExpr b = getAffineDimExpr(0, ctx), t = getAffineDimExpr(1, ctx),
               c = getAffineDimExpr(2, ctx), j = getAffineDimExpr(3, ctx);
    Value result = tb.generic(
        {padded, op.getWeight()},
        {AffineMap::get(4, 0, {b, t + j, c}, ctx),
         AffineMap::get(4, 0, {c, j}, ctx)},
        tb.sizes(op.getInput()), AffineMap::get(4, 0, {b, t, c}, ctx),
        element, {3}, 0.0, [](OpBuilder &nb, Location l, ValueRange args) {
          Value product = arith::MulFOp::create(nb, l, args[0], args[1]);
          return arith::AddFOp::create(nb, l, args[2], product).getResult();
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Causal softmax attention per head, in the numerically safe form:
/// m = max_{s<=t} a[t, s], p = exp(a - m) (0 for s > t), y = (p v) / sum p,
/// with a = scale q . k. The whole [T, T] score matrix is materialised.
struct LowerCausalAttention : OpRewritePattern<CausalAttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CausalAttentionOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    TensorBuilder tb(rewriter, loc);
    Type element = op.getQuery().getType().getElementType();
    double scale = op.getScaleOrDefault();
    MLIRContext *ctx = rewriter.getContext();
    // Whether key s may be seen by query t, in a body over (b, h, t, s).
    auto visible = [](OpBuilder &b, Location l) -> Value {
      Value t = linalg::IndexOp::create(b, l, 2);
      Value s = linalg::IndexOp::create(b, l, 3);
      return arith::CmpIOp::create(b, l, arith::CmpIPredicate::ule, s, t);
    };
    Value scores = tb.einsum("bhtd,bhsd->bhts", {op.getQuery(), op.getKey()});
    AffineExpr b = getAffineDimExpr(0, ctx), h = getAffineDimExpr(1, ctx),
               t = getAffineDimExpr(2, ctx), s = getAffineDimExpr(3, ctx);
    AffineMap all = AffineMap::get(4, 0, {b, h, t, s}, ctx);
    AffineMap rows = AffineMap::get(4, 0, {b, h, t}, ctx);
    SmallVector<OpFoldResult> scoreSizes = tb.sizes(scores);
    SmallVector<OpFoldResult> rowSizes(ArrayRef(scoreSizes).take_front(3));
    Value scaleValue = tb.floatConstant(element, scale);
    // Row maxima of the visible scaled scores (s = 0 is always visible).
    Value maxima = tb.generic(
        {scores}, {all}, rowSizes, rows, element, {3},
        -std::numeric_limits<double>::infinity(),
        [&](OpBuilder &nb, Location l, ValueRange args) {
          Value scaled = arith::MulFOp::create(nb, l, args[0], scaleValue);
          Value larger = arith::MaximumFOp::create(nb, l, args[1], scaled);
          return arith::SelectOp::create(nb, l, visible(nb, l), larger, args[1])
              .getResult();
        });
    Value zero = tb.floatConstant(element, 0.0);
    Value weights = tb.generic(
        {scores, maxima}, {all, rows}, scoreSizes, all, element, {},
        std::nullopt, [&](OpBuilder &nb, Location l, ValueRange args) {
          Value scaled = arith::MulFOp::create(nb, l, args[0], scaleValue);
          Value shifted = arith::SubFOp::create(nb, l, scaled, args[1]);
          Value e = math::ExpOp::create(nb, l, shifted);
          return arith::SelectOp::create(nb, l, visible(nb, l), e, zero)
              .getResult();
        });
    Value sums = tb.generic({weights}, {all}, rowSizes, rows, element, {3},
                            0.0, [](OpBuilder &nb, Location l, ValueRange args) {
                              return arith::AddFOp::create(nb, l, args[1],
                                                           args[0])
                                  .getResult();
                            });
    Value unnormalised =
        tb.einsum("bhts,bhsd->bhtd", {weights, op.getValue()});
    AffineExpr d = getAffineDimExpr(3, ctx);
    Value result = tb.generic(
        {unnormalised, sums},
        {AffineMap::get(4, 0, {b, h, t, d}, ctx), rows},
        tb.sizes(unnormalised), AffineMap::get(4, 0, {b, h, t, d}, ctx),
        element, {}, std::nullopt,
        [](OpBuilder &nb, Location l, ValueRange args) {
          return arith::DivFOp::create(nb, l, args[0], args[1]).getResult();
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// [B, T, D] -> [B, ceil(T/C), D]: the mean of each chunk.
struct LowerChunkPool : OpRewritePattern<ChunkPoolOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ChunkPoolOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    TensorBuilder tb(rewriter, loc);
    auto type = op.getInput().getType();
    Type element = type.getElementType();
    int64_t chunk = op.getChunk();
    Value tokens = tb.dim(op.getInput(), 1);
    Value chunkValue = tb.indexConstant(chunk);
    Value numChunks =
        arith::CeilDivUIOp::create(rewriter, loc, tokens, chunkValue);
    Value paddedTokens =
        arith::MulIOp::create(rewriter, loc, numChunks, chunkValue);
    Value padAmount =
        arith::SubIOp::create(rewriter, loc, paddedTokens, tokens);
    SmallVector<OpFoldResult> low(3, rewriter.getIndexAttr(0));
    SmallVector<OpFoldResult> high = {rewriter.getIndexAttr(0), padAmount,
                                      rewriter.getIndexAttr(0)};
    SmallVector<int64_t> paddedShape(type.getShape());
    paddedShape[1] = ShapedType::kDynamic;
    Value padded = tensor::PadOp::create(
        rewriter, loc, RankedTensorType::get(paddedShape, element),
        op.getInput(), low, high, tb.floatConstant(element, 0.0));
    // [B, NC*C, D] -> [B, NC, C, D], summed over C.
    SmallVector<OpFoldResult> in = tb.sizes(op.getInput());
    auto chunkedType = RankedTensorType::get(
        {paddedShape[0], ShapedType::kDynamic, chunk, paddedShape[2]}, element);
    Value chunked = tensor::ExpandShapeOp::create(
        rewriter, loc, chunkedType, padded,
        ArrayRef<ReassociationIndices>{{0}, {1, 2}, {3}},
        SmallVector<OpFoldResult>{in[0], numChunks,
                                  rewriter.getIndexAttr(chunk), in[2]});
    MLIRContext *ctx = rewriter.getContext();
    AffineExpr b = getAffineDimExpr(0, ctx), i = getAffineDimExpr(1, ctx),
               d = getAffineDimExpr(2, ctx), j = getAffineDimExpr(3, ctx);
    SmallVector<OpFoldResult> outSizes = {in[0], numChunks, in[2]};
    Value sums = tb.generic(
        chunked, AffineMap::get(4, 0, {b, i, j, d}, ctx), outSizes,
        AffineMap::get(4, 0, {b, i, d}, ctx), element, {3}, 0.0,
        [](OpBuilder &nb, Location l, ValueRange args) {
          return arith::AddFOp::create(nb, l, args[1], args[0]).getResult();
        });
    // Divide by the number of tokens of each chunk: C, or fewer for the last.
    Value means = tb.map(sums, [&](OpBuilder &nb, Location l, ValueRange args) {
      Value index = linalg::IndexOp::create(nb, l, 1);
      Value start = arith::MulIOp::create(nb, l, index, chunkValue);
      Value remaining = arith::SubIOp::create(nb, l, tokens, start);
      Value count = arith::MinUIOp::create(nb, l, remaining, chunkValue);
      Value countInt =
          arith::IndexCastOp::create(nb, l, nb.getI64Type(), count);
      Value countFloat = arith::SIToFPOp::create(nb, l, element, countInt);
      return arith::DivFOp::create(nb, l, args[0], countFloat).getResult();
    });
    rewriter.replaceOp(op, means);
    return success();
  }
};

struct LowerStopGradient : OpRewritePattern<StopGradientOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(StopGradientOp op,
                                PatternRewriter &rewriter) const override {
    // The forward pass is the identity; gradients are decided before this
    // lowering runs.
    rewriter.replaceOp(op, op.getInput());
    return success();
  }
};

/// A frozen CMS chain: block_l(x) = x + W_out s(W_in RMSNorm(x)), chained
/// (sequential, nested) or mixed with learnt weights (independent). It is
/// rewritten into the nl ops it is made of, which the other patterns lower.
struct LowerFrozenCMS : OpRewritePattern<CMSOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CMSOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getSignal() != CmsSignal::None)
      return rewriter.notifyMatchFailure(op, "learning CMS");
    Location loc = op.getLoc();
    Value y = buildCMSChain(rewriter, loc, op, [&](Value x, unsigned l) {
      Value branch = buildCMSBranch(rewriter, loc, op, x, l);
      return arith::AddFOp::create(rewriter, loc, x, branch).getResult();
    });
    rewriter.replaceOp(op, y);
    return success();
  }
};

struct LowerBlocksToLinalgPass
    : nl::impl::NLLowerBlocksToLinalgBase<LowerBlocksToLinalgPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<LowerLinear, LowerGate, LowerCausalAttention, LowerSequenceTail, LowerEmbedding, LowerSplitHeads, LowerMergeHeads, LowerRMSNorm,
                 LowerL2Normalize, LowerActivation, LowerRate, LowerCausalConv,
                 LowerChunkPool, LowerFrozenCMS>(&getContext());
    if (!keepStopGradient)
      patterns.add<LowerStopGradient>(&getContext());
    // The ops a pattern lowers; one left over did not fit its pattern.
    llvm::SmallDenseSet<OperationName> lowered;
    for (const std::unique_ptr<RewritePattern> &pattern :
         patterns.getNativePatterns())
      if (std::optional<OperationName> root = pattern->getRootKind())
        lowered.insert(*root);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    // The nl dialect is illegal from here on: the first op left over gets
    // one error at its location. nl.precondition stays, for
    // nl-outline-preconditions.
    WalkResult result = getOperation()->walk([&](Operation *op) {
      if (!isa<NLDialect>(op->getDialect()) || isa<PreconditionOp>(op) ||
          (keepStopGradient && isa<StopGradientOp>(op)))
        return WalkResult::advance();
      if (auto cms = dyn_cast<CMSOp>(op)) {
        cms.emitOpError("cannot be compiled yet: CMS blocks that learn "
                        "(signal = task or local) come with training; "
                        "frozen blocks (signal = none) compile");
        return WalkResult::interrupt();
      }
      if (lowered.contains(op->getName())) {
        op->emitError("cannot lower '")
            << op->getName()
            << "' to linalg: it needs static feature widths (head width, "
               "convolution window)";
        return WalkResult::interrupt();
      }
      op->emitOpError("has no lowering to linalg: no nl op may remain "
                      "after nl-lower-blocks-to-linalg");
      return WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
