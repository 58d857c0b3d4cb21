//===- RowInvariantPrologue.cpp - a fused producer's per-row part ---------===//

#include "RowInvariantPrologue.h"
#include "TiledContraction.h"

using namespace mlir;
using namespace mlir::nl::cuda;

RowInvariantPart
mlir::nl::cuda::findRowInvariantPart(linalg::GenericOp producer,
                                     AffineMap inputMap, unsigned k) {
  RowInvariantPart part;
  // The producer's dimension that is the contraction's k: the one its
  // output writes where the contraction's input map reads k.
  AffineMap outMap =
      producer.getMatchingIndexingMap(producer.getDpsInitOperand(0));
  std::optional<unsigned> producerK;
  for (unsigned position = 0; position < inputMap.getNumResults(); ++position)
    if (dimAt(inputMap, position) == k)
      producerK = dimAt(outMap, position);
  Block *body = producer.getBody();
  DenseSet<Value> invariant;
  for (OpOperand *in : producer.getDpsInputOperands()) {
    AffineMap map = producer.getMatchingIndexingMap(in);
    if (producerK && map.getResultPosition(
                         getAffineDimExpr(*producerK, producer.getContext())))
      continue;
    invariant.insert(producer.getMatchingBlockArgument(in));
    part.inputs.push_back(in);
  }
  auto isInvariant = [&](Value value) {
    return invariant.contains(value) || value.getParentBlock() != body;
  };
  // Constants stay where they are used (cloned on both sides).
  for (Operation &op : body->without_terminator())
    if (op.hasTrait<OpTrait::ConstantLike>())
      invariant.insert(op.getResults().begin(), op.getResults().end());
    else if (llvm::all_of(op.getOperands(), isInvariant)) {
      part.ops.insert(&op);
      invariant.insert(op.getResults().begin(), op.getResults().end());
    }
  for (Operation *op : part.ops)
    for (Value result : op->getResults())
      if (llvm::any_of(result.getUsers(), [&](Operation *user) {
            return !part.ops.contains(user);
          }))
        part.kept.push_back(result);
  // Keep the payload's order, so that the kernel is the same every build.
  llvm::sort(part.kept, [](Value a, Value b) {
    return a.getDefiningOp()->isBeforeInBlock(b.getDefiningOp());
  });
  return part;
}
