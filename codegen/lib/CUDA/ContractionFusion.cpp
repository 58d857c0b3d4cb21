//===- ContractionFusion.cpp - ops fused into a tiled contraction ---------===//

#include "ContractionFusion.h"
#include "TiledContraction.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
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

/// Whether `op` may read or write `buffer`'s elements (a memref.dim of it
/// reads neither).
bool accesses(Operation *op, Value buffer) {
  return !isa<memref::DimOp>(op) && touches(op, buffer);
}

/// Whether `op` may write or free `buffer` (the buffer a view of it views):
/// by its declared effects where it and its regions declare them, else by
/// whether it touches the buffer at all.
bool mayWrite(Operation *op, Value buffer) {
  std::optional<SmallVector<MemoryEffects::EffectInstance>> effects =
      getEffectsRecursively(op);
  if (!effects)
    return touches(op, buffer);
  for (const MemoryEffects::EffectInstance &effect : *effects) {
    if (!isa<MemoryEffects::Write, MemoryEffects::Free>(effect.getEffect()))
      continue;
    Value value = effect.getValue();
    if (!value || rootOf(value) == buffer)
      return true;
  }
  return false;
}

/// Whether `op` writes every element of `buffer` (itself, not a view)
/// without reading it: a fill, a copy from another buffer, or an
/// all-parallel generic writing it through a permutation and not reading it
/// (`inPlace`: or reading it only at the element it writes).
bool overwrites(Operation *op, Value buffer, bool inPlace = false) {
  if (auto fill = dyn_cast<linalg::FillOp>(op))
    return fill.getDpsInits()[0] == buffer;
  if (auto copy = dyn_cast<linalg::CopyOp>(op))
    return copy.getDpsInits()[0] == buffer &&
           rootOf(copy.getDpsInputs()[0]) != buffer;
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || !generic.hasPureBufferSemantics() ||
      generic.getNumLoops() != generic.getNumParallelLoops())
    return false;
  OpOperand *written = nullptr;
  for (OpOperand &init : generic.getDpsInitsMutable())
    if (init.get() == buffer)
      written = &init;
  if (!written)
    return false;
  AffineMap writtenMap = generic.getMatchingIndexingMap(written);
  for (OpOperand *input : generic.getDpsInputOperands())
    if (isa<MemRefType>(input->get().getType()) &&
        rootOf(input->get()) == buffer &&
        (!inPlace || input->get() != buffer ||
         generic.getMatchingIndexingMap(input) != writtenMap))
      return false;
  return writtenMap.isPermutation() &&
         generic.getMatchingBlockArgument(written).use_empty();
}

/// Whether nothing reads `buffer` after `op` (in its block) before
/// overwriting it: the first later op that touches it overwrites it, or
/// none does (a return of it touches it).
bool deadAfter(Operation *op, Value buffer) {
  for (Operation *next = op->getNextNode(); next; next = next->getNextNode())
    if (accesses(next, buffer))
      return overwrites(next, buffer);
  return true;
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

linalg::GenericOp mlir::nl::cuda::findPrologue(linalg::GenericOp generic,
                                               unsigned input,
                                               ArrayRef<Value> kernelWrites) {
  // The buffer may be reused (bufferization gives the RMSNorms of the CMS
  // levels one output buffer): what counts is that the producer wrote the
  // value the contraction reads and that nothing else reads that value.
  Value operand = generic.getDpsInputs()[input];
  if (!operand.getDefiningOp<memref::AllocOp>())
    return nullptr;
  Operation *last = generic->getPrevNode();
  while (last && !accesses(last, operand))
    last = last->getPrevNode();
  auto producer = dyn_cast_or_null<linalg::GenericOp>(last);
  if (!producer || producer.getNumDpsInits() != 1 ||
      !overwrites(producer, operand, /*inPlace=*/true) ||
      !isPlainPayload(producer.getBody()) ||
      !deadAfter(generic, operand))
    return nullptr;
  for (OpOperand *in : producer.getDpsInputOperands()) {
    if (!producer.getMatchingIndexingMap(in).isProjectedPermutation(
            /*allowZeroInResults=*/false))
      return nullptr;
    if (!isa<MemRefType>(in->get().getType()))
      continue;
    Value buffer = rootOf(in->get());
    for (Value written : kernelWrites)
      if (rootOf(written) == buffer)
        return nullptr;
    for (Operation *op = producer->getNextNode(); op != generic;
         op = op->getNextNode())
      if (mayWrite(op, buffer))
        return nullptr;
  }
  return producer;
}
