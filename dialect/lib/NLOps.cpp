//===- NLOps.cpp - building-block ops of the nl dialect -------------------===//
//
// Projections, head reshapes, norms, rates and convolutions: the ops around
// the memories. Memory ops live in NLMemoryOps.cpp, optimizer levels in
// NLOptimizerOps.cpp.
//
//===----------------------------------------------------------------------===//

#include "nl/IR/NLOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>

using namespace mlir;
using namespace mlir::nl;

#include "nl/IR/NLInterfaces.cpp.inc"

#define GET_OP_CLASSES
#include "nl/IR/NLOps.cpp.inc"

std::string mlir::nl::formatShape(ArrayRef<int64_t> shape) {
  std::string text = "[";
  llvm::raw_string_ostream os(text);
  llvm::interleave(
      shape, os,
      [&](int64_t dim) {
        if (ShapedType::isDynamic(dim))
          os << "?";
        else
          os << dim;
      },
      ", ");
  os << "]";
  return text;
}

/// Multiplies two dimension sizes, dynamic if either is.
static int64_t mulDims(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b)
             ? ShapedType::kDynamic
             : a * b;
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  auto weight = cast<RankedTensorType>(adaptor.getWeight().getType());
  if (input.getRank() < 1)
    return emitOptionalError(loc, "'nl.linear' input must have rank >= 1");
  if (weight.getRank() != 2)
    return emitOptionalError(loc, "'nl.linear' weight must be a matrix "
                                  "[d_out, d_in], got shape ",
                             formatShape(weight.getShape()));
  if (!areDimsCompatible(input.getShape().back(), weight.getDimSize(1)))
    return emitOptionalError(
        loc, "'nl.linear' input width ", input.getShape().back(),
        " does not match the weight's input width ", weight.getDimSize(1),
        " (weight shape ", formatShape(weight.getShape()), ")");
  if (input.getElementType() != weight.getElementType())
    return emitOptionalError(loc, "'nl.linear' input and weight element types "
                                  "differ: ",
                             input.getElementType(), " vs ",
                             weight.getElementType());
  if (Value bias = adaptor.getBias()) {
    auto biasType = cast<RankedTensorType>(bias.getType());
    if (biasType.getRank() != 1 ||
        !areDimsCompatible(biasType.getDimSize(0), weight.getDimSize(0)) ||
        biasType.getElementType() != weight.getElementType())
      return emitOptionalError(
          loc, "'nl.linear' bias must be a vector of the output width ",
          weight.getDimSize(0), " and element type ", weight.getElementType(),
          ", got ", bias.getType());
  }
  SmallVector<int64_t> shape(input.getShape());
  shape.back() = weight.getDimSize(0);
  results.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// EmbeddingOp
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  auto ids = cast<RankedTensorType>(adaptor.getIds().getType());
  auto table = cast<RankedTensorType>(adaptor.getTable().getType());
  if (ids.getRank() != 2 || table.getRank() != 2)
    return emitOptionalError(loc, "'nl.embedding' expects ids [B, T] and a "
                                  "table [V, D], got ",
                             formatShape(ids.getShape()), " and ",
                             formatShape(table.getShape()));
  results.push_back(RankedTensorType::get(
      {ids.getDimSize(0), ids.getDimSize(1), table.getDimSize(1)},
      table.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// GateOp
//===----------------------------------------------------------------------===//

LogicalResult GateOp::verify() {
  auto input = getInput().getType();
  auto gate = getGate().getType();
  if (input.getRank() != 4 || gate.getRank() != 3)
    return emitOpError("expects input [B, H, T, d] and gate [B, H, T], got ")
           << formatShape(input.getShape()) << " and "
           << formatShape(gate.getShape());
  for (int64_t d = 0; d < 3; ++d)
    if (!areDimsCompatible(input.getDimSize(d), gate.getDimSize(d)))
      return emitOpError("gate ")
             << formatShape(gate.getShape())
             << " does not match the input's batch, heads and tokens "
             << formatShape(input.getShape());
  if (input.getElementType() != gate.getElementType())
    return emitOpError("input and gate element types differ: ")
           << input.getElementType() << " vs " << gate.getElementType();
  return success();
}

//===----------------------------------------------------------------------===//
// SplitHeadsOp / MergeHeadsOp
//===----------------------------------------------------------------------===//

LogicalResult SplitHeadsOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &results) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  int64_t heads = adaptor.getHeads();
  if (input.getRank() != 3)
    return emitOptionalError(loc, "'nl.split_heads' expects [B, T, H*d], got "
                                  "shape ",
                             formatShape(input.getShape()));
  if (heads <= 0)
    return emitOptionalError(loc, "'nl.split_heads' needs a positive number "
                                  "of heads, got ",
                             heads);
  int64_t width = input.getDimSize(2);
  int64_t headWidth = ShapedType::kDynamic;
  if (!ShapedType::isDynamic(width)) {
    if (width % heads != 0)
      return emitOptionalError(loc, "'nl.split_heads' width ", width,
                               " is not divisible by ", heads, " heads");
    headWidth = width / heads;
  }
  results.push_back(RankedTensorType::get(
      {input.getDimSize(0), heads, input.getDimSize(1), headWidth},
      input.getElementType()));
  return success();
}

LogicalResult MergeHeadsOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &results) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  if (input.getRank() != 4)
    return emitOptionalError(loc, "'nl.merge_heads' expects [B, H, T, d], got "
                                  "shape ",
                             formatShape(input.getShape()));
  results.push_back(RankedTensorType::get(
      {input.getDimSize(0), input.getDimSize(2),
       mulDims(input.getDimSize(1), input.getDimSize(3))},
      input.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// RMSNormOp
//===----------------------------------------------------------------------===//

LogicalResult RMSNormOp::verify() {
  auto input = getInput().getType();
  auto scale = getScale().getType();
  if (input.getRank() < 1)
    return emitOpError("input must have rank >= 1");
  if (scale.getRank() != 1 ||
      !areDimsCompatible(scale.getDimSize(0), input.getShape().back()))
    return emitOpError("scale must have shape [")
           << input.getShape().back() << "] (the input's last dimension), got "
           << formatShape(scale.getShape());
  if (scale.getElementType() != input.getElementType())
    return emitOpError("scale element type ")
           << scale.getElementType() << " differs from the input's "
           << input.getElementType();
  if (getEpsilon().convertToDouble() <= 0.0)
    return emitOpError("epsilon must be positive");
  return success();
}

//===----------------------------------------------------------------------===//
// RateOp
//===----------------------------------------------------------------------===//

LogicalResult RateOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &results) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  if (input.getRank() != 4 || !areDimsCompatible(input.getDimSize(3), 1))
    return emitOptionalError(loc, "'nl.rate' expects one value per head, "
                                  "[B, H, T, 1], got shape ",
                             formatShape(input.getShape()));
  results.push_back(RankedTensorType::get(input.getShape().drop_back(),
                                          input.getElementType()));
  return success();
}

LogicalResult RateOp::verify() {
  if (getKind() != Activation::Sigmoid && getKind() != Activation::Softplus)
    return emitOpError("a rate is scale * sigmoid(x) or scale * softplus(x), "
                       "not ")
           << stringifyActivation(getKind());
  if (getScale().convertToDouble() <= 0.0)
    return emitOpError("rate scale must be positive, got ")
           << getScale().convertToDouble();
  return success();
}

//===----------------------------------------------------------------------===//
// CausalConvOp
//===----------------------------------------------------------------------===//

LogicalResult CausalConvOp::verify() {
  auto input = getInput().getType();
  auto weight = getWeight().getType();
  if (input.getRank() != 3)
    return emitOpError("input must be [B, T, D], got shape ")
           << formatShape(input.getShape());
  if (weight.getRank() != 2 ||
      !areDimsCompatible(weight.getDimSize(0), input.getDimSize(2)))
    return emitOpError("weight must be [D, window] with D = ")
           << input.getDimSize(2) << ", got shape "
           << formatShape(weight.getShape());
  if (weight.getElementType() != input.getElementType())
    return emitOpError("weight element type ")
           << weight.getElementType() << " differs from the input's "
           << input.getElementType();
  if (!getHistory())
    return success();
  auto history = cast<RankedTensorType>(getHistory().getType());
  int64_t window = weight.getDimSize(1);
  if (ShapedType::isDynamic(window))
    return emitOpError("streaming (a history) needs a static window, got "
                       "weight shape ")
           << formatShape(weight.getShape());
  if (history.getRank() != 3 ||
      !areDimsCompatible(history.getDimSize(0), input.getDimSize(0)) ||
      !areDimsCompatible(history.getDimSize(2), input.getDimSize(2)) ||
      ShapedType::isDynamic(window) || history.getDimSize(1) != window - 1 ||
      history.getElementType() != input.getElementType())
    return emitOpError("history must be [B, window - 1, D] = ")
           << formatShape({input.getDimSize(0),
                           ShapedType::isDynamic(window) ? window : window - 1,
                           input.getDimSize(2)})
           << " of " << input.getElementType() << ", got "
           << formatShape(history.getShape()) << " of "
           << history.getElementType();
  return success();
}

//===----------------------------------------------------------------------===//
// SequenceTailOp
//===----------------------------------------------------------------------===//

LogicalResult SequenceTailOp::verify() {
  auto history = getHistory().getType();
  auto input = getInput().getType();
  if (history.getRank() != 3 || input.getRank() != 3 ||
      ShapedType::isDynamic(history.getDimSize(1)) ||
      !areDimsCompatible(history.getDimSize(0), input.getDimSize(0)) ||
      !areDimsCompatible(history.getDimSize(2), input.getDimSize(2)) ||
      history.getElementType() != input.getElementType())
    return emitOpError("history [B, N, D] (N static) and input [B, T, D] must "
                       "agree, got ")
           << formatShape(history.getShape()) << " and "
           << formatShape(input.getShape());
  return success();
}

//===----------------------------------------------------------------------===//
// CausalAttentionOp
//===----------------------------------------------------------------------===//

LogicalResult CausalAttentionOp::verify() {
  auto query = getQuery().getType();
  if (query.getRank() != 4)
    return emitOpError("query, key and value must be [B, H, T, d], got shape ")
           << formatShape(query.getShape());
  if (!getScale() && (ShapedType::isDynamic(query.getDimSize(3)) ||
                      query.getDimSize(3) == 0))
    return emitOpError("needs a static, non-zero head width d for its "
                       "default scale 1 / sqrt(d), or a `scale` attribute");
  if (FloatAttr scale = getScaleAttr();
      scale && !(scale.getValueAsDouble() > 0 &&
                 std::isfinite(scale.getValueAsDouble())))
    return emitOpError("scale must be positive and finite, got ")
           << scale.getValueAsDouble();
  return success();
}

double CausalAttentionOp::getScaleOrDefault() {
  if (FloatAttr scale = getScaleAttr())
    return scale.getValueAsDouble();
  return 1.0 / std::sqrt(double(getQuery().getType().getDimSize(3)));
}

//===----------------------------------------------------------------------===//
// ChunkPoolOp
//===----------------------------------------------------------------------===//

LogicalResult ChunkPoolOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  int64_t chunk = adaptor.getChunk();
  if (input.getRank() != 3)
    return emitOptionalError(loc, "'nl.chunk_pool' expects [B, T, D], got "
                                  "shape ",
                             formatShape(input.getShape()));
  if (chunk <= 0)
    return emitOptionalError(loc, "'nl.chunk_pool' chunk size must be "
                                  "positive, got ",
                             chunk);
  int64_t tokens = input.getDimSize(1);
  int64_t chunks = ShapedType::isDynamic(tokens) ? ShapedType::kDynamic
                                                 : llvm::divideCeil(tokens, chunk);
  results.push_back(RankedTensorType::get(
      {input.getDimSize(0), chunks, input.getDimSize(2)},
      input.getElementType()));
  return success();
}
