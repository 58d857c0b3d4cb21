//===- BufferAccess.cpp - the elements an access touches ------------------===//

#include "BufferAccess.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/AffineExpr.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/SmallBitVector.h"

using namespace mlir;
using namespace mlir::nl;

Value nl::rootBuffer(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view)
      break;
    value = view.getViewSource();
  }
  return value;
}

namespace {

RootIndex unknown() { return RootIndex(); }

RootIndex zero() {
  RootIndex index;
  index.zero = true;
  return index;
}

RootIndex fromValue(Value value) {
  if (isConstantIntValue(value, 0))
    return zero();
  RootIndex index;
  index.value = value;
  return index;
}

RootIndex fromFold(OpFoldResult fold) {
  if (isConstantIntValue(fold, 0))
    return zero();
  if (auto value = dyn_cast<Value>(fold))
    return fromValue(value);
  return unknown();
}

/// offset + index * stride, when it is one value.
RootIndex add(const RootIndex &offset, const RootIndex &index,
              OpFoldResult stride) {
  if (index.zero)
    return offset;
  if (offset.zero && isConstantIntValue(stride, 1))
    return index;
  return unknown();
}

/// The indices of `subview`'s source from those of its result.
SmallVector<RootIndex> throughSubView(memref::SubViewOp subview,
                                      ArrayRef<RootIndex> indices) {
  llvm::SmallBitVector dropped = subview.getDroppedDims();
  SmallVector<OpFoldResult> offsets = subview.getMixedOffsets();
  SmallVector<OpFoldResult> strides = subview.getMixedStrides();
  SmallVector<RootIndex> source;
  unsigned next = 0;
  for (unsigned d = 0; d < offsets.size(); ++d) {
    RootIndex offset = fromFold(offsets[d]);
    source.push_back(dropped.test(d)
                         ? offset
                         : add(offset, indices[next++], strides[d]));
  }
  return source;
}

/// A group of dimensions reshaped into one keeps its index only alone, or
/// when the index is zero.
SmallVector<RootIndex>
throughCollapse(memref::CollapseShapeOp collapse,
                ArrayRef<RootIndex> indices) {
  SmallVector<RootIndex> source;
  for (auto [group, index] :
       llvm::zip(collapse.getReassociationIndices(), indices)) {
    for (size_t k = 0; k < group.size(); ++k)
      source.push_back(group.size() == 1 || index.zero ? index : unknown());
  }
  return source;
}

SmallVector<RootIndex> throughExpand(memref::ExpandShapeOp expand,
                                     ArrayRef<RootIndex> indices) {
  SmallVector<RootIndex> source;
  for (const ReassociationIndices &group : expand.getReassociationIndices()) {
    if (group.size() == 1) {
      source.push_back(indices[group.front()]);
      continue;
    }
    bool allZero = llvm::all_of(
        group, [&](int64_t d) { return indices[d].zero; });
    source.push_back(allZero ? zero() : unknown());
  }
  return source;
}

/// The indices of an access to `memref` whose own indices are `indices`,
/// the dimensions in `spanned` read or written whole (by a vector).
BufferAccess trace(Operation *op, Value memref, ValueRange indices,
                   const llvm::SmallBitVector &spanned, bool writes) {
  BufferAccess access;
  access.op = op;
  access.writes = writes;
  for (auto [d, index] : llvm::enumerate(indices))
    access.indices.push_back(spanned.test(d) ? unknown() : fromValue(index));
  Value current = memref;
  while (Operation *def = current.getDefiningOp()) {
    if (auto subview = dyn_cast<memref::SubViewOp>(def)) {
      access.indices = throughSubView(subview, access.indices);
      current = subview.getSource();
    } else if (auto collapse = dyn_cast<memref::CollapseShapeOp>(def)) {
      access.indices = throughCollapse(collapse, access.indices);
      current = collapse.getSrc();
    } else if (auto expand = dyn_cast<memref::ExpandShapeOp>(def)) {
      access.indices = throughExpand(expand, access.indices);
      current = expand.getSrc();
    } else if (auto cast = dyn_cast<memref::CastOp>(def)) {
      current = cast.getSource();
    } else {
      break;
    }
  }
  access.root = current;
  return access;
}

/// The memref dimensions a vector transfer reads or writes whole.
llvm::SmallBitVector spannedByTransfer(VectorTransferOpInterface transfer,
                                       unsigned rank) {
  llvm::SmallBitVector spanned(rank);
  for (AffineExpr result : transfer.getPermutationMap().getResults())
    if (auto dim = dyn_cast<AffineDimExpr>(result))
      spanned.set(dim.getPosition());
  return spanned;
}

/// The trailing dimensions a vector.load or vector.store covers.
llvm::SmallBitVector spannedTrailing(unsigned rank, unsigned vectorRank) {
  llvm::SmallBitVector spanned(rank);
  for (unsigned d = rank - std::min(rank, vectorRank); d < rank; ++d)
    spanned.set(d);
  return spanned;
}

} // namespace

std::optional<BufferAccess> nl::traceBufferAccess(Operation *op) {
  auto rankOf = [](Value memref) {
    return static_cast<unsigned>(cast<MemRefType>(memref.getType()).getRank());
  };
  if (auto load = dyn_cast<memref::LoadOp>(op))
    return trace(op, load.getMemRef(), load.getIndices(),
                 llvm::SmallBitVector(rankOf(load.getMemRef())), false);
  if (auto store = dyn_cast<memref::StoreOp>(op))
    return trace(op, store.getMemRef(), store.getIndices(),
                 llvm::SmallBitVector(rankOf(store.getMemRef())), true);
  if (auto read = dyn_cast<vector::TransferReadOp>(op)) {
    if (!isa<MemRefType>(read.getBase().getType()))
      return std::nullopt;
    return trace(op, read.getBase(), read.getIndices(),
                 spannedByTransfer(read, rankOf(read.getBase())), false);
  }
  if (auto write = dyn_cast<vector::TransferWriteOp>(op)) {
    if (!isa<MemRefType>(write.getBase().getType()))
      return std::nullopt;
    return trace(op, write.getBase(), write.getIndices(),
                 spannedByTransfer(write, rankOf(write.getBase())), true);
  }
  if (auto load = dyn_cast<vector::LoadOp>(op))
    return trace(op, load.getBase(), load.getIndices(),
                 spannedTrailing(rankOf(load.getBase()),
                                 load.getVectorType().getRank()),
                 false);
  if (auto store = dyn_cast<vector::StoreOp>(op))
    return trace(op, store.getBase(), store.getIndices(),
                 spannedTrailing(rankOf(store.getBase()),
                                 store.getVectorType().getRank()),
                 true);
  return std::nullopt;
}
