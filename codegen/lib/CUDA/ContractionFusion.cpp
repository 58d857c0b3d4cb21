//===- ContractionFusion.cpp - ops fused into a tiled contraction ---------===//

#include "ContractionFusion.h"
#include "TiledContraction.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

using namespace mlir;
using namespace mlir::nl::cuda;

namespace {

/// Whether `op` touches `buffer` or a view of it.
bool touches(Operation *op, Value buffer) {
  bool found = false;
  op->walk([&](Operation *inner) {
    for (Value operand : inner->getOperands())
      if (isa<MemRefType>(operand.getType()) && rootOf(operand) == buffer)
        found = true;
  });
  return found;
}

/// The last op before `before` in its block that may write `buffer` (a
/// linalg.copy out of it only reads it).
Operation *lastToucher(Operation *before, Value buffer) {
  for (Operation *op = before->getPrevNode(); op; op = op->getPrevNode()) {
    auto copy = dyn_cast<linalg::CopyOp>(op);
    if (copy && copy.getDpsInputs()[0] == buffer &&
        rootOf(copy.getDpsInits()[0]) != buffer)
      continue;
    if (touches(op, buffer))
      return op;
  }
  return nullptr;
}

Value fillScalarOf(Operation *op, Value buffer) {
  auto fill = dyn_cast_or_null<linalg::FillOp>(op);
  if (!fill || fill.getDpsInits()[0] != buffer ||
      !fill.getDpsInputs()[0].getDefiningOp<arith::ConstantOp>())
    return Value();
  return fill.getDpsInputs()[0];
}

} // namespace

InitSource mlir::nl::cuda::findInit(linalg::GenericOp generic, Value c) {
  InitSource source;
  if (c.getDefiningOp<ViewLikeOpInterface>())
    return source;
  Operation *last = lastToucher(generic, c);
  if (Value scalar = fillScalarOf(last, c)) {
    source.scalar = scalar;
    return source;
  }
  auto copy = dyn_cast_or_null<linalg::CopyOp>(last);
  if (!copy || copy.getDpsInits()[0] != c)
    return source;
  Value from = copy.getDpsInputs()[0];
  if (from.getDefiningOp<ViewLikeOpInterface>())
    return source;
  if (Value scalar = fillScalarOf(lastToucher(copy, from), from)) {
    source.scalar = scalar;
    source.deadCopy = copy;
  }
  return source;
}

linalg::GenericOp mlir::nl::cuda::findEpilogue(linalg::GenericOp generic,
                                               Value c) {
  // Allocations in between (the consumer's output) move before the
  // contraction when their sizes are known there.
  SmallVector<memref::AllocOp> between;
  Operation *next = generic->getNextNode();
  for (; auto alloc = dyn_cast_or_null<memref::AllocOp>(next);
       next = next->getNextNode()) {
    for (Value size : alloc->getOperands())
      if (Operation *def = size.getDefiningOp();
          def && def->getBlock() == generic->getBlock() &&
          !def->isBeforeInBlock(generic))
        return nullptr;
    between.push_back(alloc);
  }
  auto consumer = dyn_cast_or_null<linalg::GenericOp>(next);
  if (!consumer || !consumer.hasPureBufferSemantics() ||
      consumer.getNumDpsInits() != 1 ||
      consumer.getNumLoops() != consumer.getNumParallelLoops() ||
      !c.getDefiningOp<memref::AllocOp>())
    return nullptr;
  auto type = cast<MemRefType>(c.getType());
  for (AffineMap map : consumer.getIndexingMapsArray())
    if (!map.isIdentity() || map.getNumDims() != type.getRank())
      return nullptr;
  if (!isPlainPayload(consumer.getBody()))
    return nullptr;
  if (!llvm::is_contained(consumer.getDpsInputs(), c) ||
      rootOf(consumer.getDpsInits()[0]) == c)
    return nullptr;
  for (Operation *user : c.getUsers())
    if (user != generic && user != consumer && !isa<linalg::FillOp>(user))
      return nullptr;
  for (memref::AllocOp alloc : between)
    alloc->moveBefore(generic);
  return consumer;
}
