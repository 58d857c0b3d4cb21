//===- MemoryLowering.cpp - one memory's lowering -------------------------===//

#include "MemoryLowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace mlir::nl;

//===----------------------------------------------------------------------===//
// What is supported
//===----------------------------------------------------------------------===//

LogicalResult MemoryLowering::verifySupported() {
  if (failed(MemoryModel::verifySupported(memory)))
    return failure();
  Attribute rule = memory.getRule();
  if (auto momentum = dyn_cast<MomentumGDAttr>(rule)) {
    if (momentum.getOrder() > 1)
      return memory.emitOpError("cannot be compiled yet: momentum of order ")
             << momentum.getOrder()
             << " is not implemented by the code generator (orders 0 and 1 "
                "are)";
    if (momentum.getNewtonSchulz())
      return memory.emitOpError("cannot be compiled yet: the Newton-Schulz "
                                "output is not implemented by the code "
                                "generator");
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Slices
//===----------------------------------------------------------------------===//

/// sequence[:, :, start:start+count, ...]
Value MemoryLowering::sliceTokens(OpBuilder &b, Value sequence, Value start,
                                  Value count) {
  TensorBuilder tb(b, loc);
  SmallVector<OpFoldResult> sizes = tb.sizes(sequence);
  SmallVector<OpFoldResult> offsets(sizes.size(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> strides(sizes.size(), b.getIndexAttr(1));
  offsets[2] = start;
  sizes[2] = count;
  return tensor::ExtractSliceOp::create(b, loc, sequence, offsets, sizes,
                                        strides);
}

/// sequence[:, :, index, ...] with the token dimension dropped.
Value MemoryLowering::tokenAt(OpBuilder &b, Value sequence, Value index) {
  TensorBuilder tb(b, loc);
  auto type = cast<RankedTensorType>(sequence.getType());
  SmallVector<OpFoldResult> sizes = tb.sizes(sequence);
  SmallVector<OpFoldResult> offsets(sizes.size(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> strides(sizes.size(), b.getIndexAttr(1));
  offsets[2] = index;
  sizes[2] = b.getIndexAttr(1);
  SmallVector<int64_t> shape(type.getShape());
  shape.erase(shape.begin() + 2);
  auto resultType = RankedTensorType::get(shape, type.getElementType());
  return tensor::ExtractSliceOp::create(b, loc, resultType, sequence, offsets,
                                        sizes, strides);
}

/// rates[:, :, index] as [B, H].
Value MemoryLowering::scalarAt(OpBuilder &b, Value rates, Value index) {
  return tokenAt(b, rates, index);
}

/// The chunk's rates as [B, H, n]: a slice of a per-token rate, or a
/// per-chunk rate repeated over the chunk's tokens (`like` gives n).
Value MemoryLowering::chunkRate(OpBuilder &b, Value rate,
                                RateGranularity granularity, Value chunk,
                                Value start, Value count, Value like) {
  if (granularity == RateGranularity::Token)
    return sliceTokens(b, rate, start, count);
  TensorBuilder tb(b, loc);
  Value perChunk = scalarAt(b, rate, chunk);
  return tb.einsum("bh,bht->bht", {perChunk, like},
                   [](OpBuilder &, Location, ValueRange args) {
                     return args[0];
                   });
}

/// The initial state and momentum buffers as [B, H, ...] tensors.
SmallVector<Value> MemoryLowering::initialState(OpBuilder &b, Value batch) {
  TensorBuilder tb(b, loc);
  auto shapes = memory.getStateShapes();
  size_t numParams = shapes.size();
  size_t numStates = numParams * (1 + memory.getMomentumOrder());
  SmallVector<Value> states;
  for (size_t index = 0; index < numStates; ++index) {
    const auto &shape = shapes[index % numParams];
    if (index < memory.getInit().size()) {
      Value init = memory.getInit()[index];
      if (cast<RankedTensorType>(init.getType()).getRank() ==
          static_cast<int64_t>(shape.size()) + 2) {
        states.push_back(init);
        continue;
      }
      // Shared by the batch: broadcast [H, ...] to [B, H, ...].
      SmallVector<OpFoldResult> sizes{batch};
      llvm::append_range(sizes, tb.sizes(init));
      SmallVector<AffineExpr> exprs;
      for (unsigned d = 1; d <= shape.size() + 1; ++d)
        exprs.push_back(b.getAffineDimExpr(d));
      unsigned rank = shape.size() + 2;
      states.push_back(tb.generic(
          init, AffineMap::get(rank, 0, exprs, b.getContext()), sizes,
          tb.identity(rank), cast<RankedTensorType>(init.getType()).getElementType(),
          {}, std::nullopt,
          [](OpBuilder &, Location, ValueRange args) { return args[0]; }));
      continue;
    }
    // Momentum buffers not given start at zero.
    SmallVector<OpFoldResult> sizes{batch,
                                    b.getIndexAttr(memory.getMemory().getType().getHeads())};
    for (int64_t dim : shape)
      sizes.push_back(b.getIndexAttr(dim));
    states.push_back(
        tb.filled(sizes, memory.getMemory().getType().getElementType(), 0.0));
  }
  return states;
}

//===----------------------------------------------------------------------===//
// Memories without an update
//===----------------------------------------------------------------------===//

LogicalResult MemoryLowering::lowerFixed() {
  if (!streams.empty())
    return streams.front().emitOpError(
        "streams a memory that never learns: it has no state to carry");
  OpBuilder b(memory->getContext());
  for (ReadOp read : reads) {
    b.setInsertionPoint(read);
    TensorBuilder tb(b, loc);
    MemoryModel model(tb, memory);
    SmallVector<Value> state = initialState(b, tb.dim(read.getQuery(), 0));
    state.resize(memory.getStateShapes().size());
    read.getResult().replaceAllUsesWith(
        model.forward(state, read.getQuery()).output);
  }
  for (FinalStateOp final : finals) {
    if (reads.empty())
      return final.emitOpError("needs a read or an update to know the batch "
                               "size of a memory without updates");
    b.setInsertionPoint(final);
    TensorBuilder tb(b, loc);
    SmallVector<Value> state =
        initialState(b, tb.dim(reads.front().getQuery(), 0));
    for (auto [result, value] : llvm::zip(final.getStates(), state))
      result.replaceAllUsesWith(value);
  }
  return success();
}
