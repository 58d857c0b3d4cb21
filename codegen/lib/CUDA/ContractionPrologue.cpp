//===- ContractionPrologue.cpp - fused producers in a tiled kernel -------===//
//
// The parts of a tiled contraction's kernel that a fused producer
// (ContractionFusion.h) adds: its k-invariant values kept per row of the
// block's tile (RowInvariantPrologue.h), and each staged element computed
// by its payload.
//
//===----------------------------------------------------------------------===//

#include "TiledKernelBuilder.h"

#include "StridedLoop.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::nl::cuda;

void TiledKernelBuilder::keepRowInvariants() {
  bool kept = false;
  for (unsigned input : {0u, 1u}) {
    const RowInvariantPart &part = rowParts[input];
    if (part.kept.empty())
      continue;
    kept = true;
    bool isA = input == shape.inputA;
    unsigned dim = isA ? shape.m : shape.n;
    Value base = isA ? m0 : n0, extent = isA ? extentM : extentN;
    AffineMap map = generic.getIndexingMapsArray()[input];
    emitStridedLoop(
        kb, loc, thread, threadCount, {cst(kTile)},
        [&](OpBuilder &rb, ArrayRef<Value> rows) {
          DimIndices at = index;
          at[dim] = clampTo(rb, arith::AddIOp::create(rb, loc, base, rows[0]),
                            extent);
          // k indexes none of the inputs read here.
          at[shape.k] = zero;
          IRMapping mapping;
          cloneProducer(
              rb, fusions.prologues[input], indicesOf(map, at),
              [&](Operation *op) { return part.ops.contains(op); }, mapping);
          for (auto [value, buffer] : llvm::zip(part.kept, rowBuffers[input]))
            memref::StoreOp::create(rb, loc, mapping.lookup(value), buffer,
                                    rows[0]);
        });
  }
  if (kept)
    gpu::BarrierOp::create(kb, loc);
}

Value TiledKernelBuilder::produce(OpBuilder &sb, unsigned input,
                                  ArrayRef<Value> indices, Value stagedRow) {
  linalg::GenericOp producer = fusions.prologues[input];
  const RowInvariantPart &part = rowParts[input];
  IRMapping mapping;
  for (auto [kept, buffer] : llvm::zip(part.kept, rowBuffers[input]))
    mapping.map(kept, memref::LoadOp::create(sb, loc, buffer, stagedRow));
  auto computedHere = [&](Operation *op) { return !part.ops.contains(op); };
  cloneProducer(sb, producer, indices, computedHere, mapping);
  Block *body = producer.getBody();
  return mapping.lookupOrDefault(body->getTerminator()->getOperand(0));
}

void TiledKernelBuilder::cloneProducer(OpBuilder &ob,
                                       linalg::GenericOp producer,
                                       ArrayRef<Value> indices,
                                       function_ref<bool(Operation *)> include,
                                       IRMapping &mapping) {
  OpOperand *output = producer.getDpsInitOperand(0);
  AffineMap outMap = producer.getMatchingIndexingMap(output);
  DimIndices at;
  for (auto [position, value] : llvm::enumerate(indices))
    at[dimAt(outMap, position)] = value;
  Block *body = producer.getBody();
  auto read = [&](Operation *user) {
    return include(user) || user == body->getTerminator();
  };
  for (OpOperand *in : producer.getDpsInputOperands()) {
    BlockArgument arg = producer.getMatchingBlockArgument(in);
    if (mapping.contains(arg) || llvm::none_of(arg.getUsers(), read))
      continue;
    Value value = in->get();
    if (isa<MemRefType>(value.getType()))
      value = memref::LoadOp::create(
          ob, loc, value, indicesOf(producer.getMatchingIndexingMap(in), at));
    mapping.map(arg, value);
  }
  for (Operation &op : body->without_terminator())
    if (include(&op) || op.hasTrait<OpTrait::ConstantLike>())
      ob.clone(op, mapping);
}
