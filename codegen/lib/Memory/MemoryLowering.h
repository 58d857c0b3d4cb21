//===- MemoryLowering.h - one memory's lowering -----------------*- C++ -*-===//
//
// What nl-lower-memories does for one memory: its inputs sliced per chunk,
// its initial state, its learning rules (UpdateRules.cpp), and the reads of a
// memory that does not learn.
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_MEMORY_MEMORYLOWERING_H
#define NL_CODEGEN_MEMORY_MEMORYLOWERING_H

#include "MemoryModel.h"
#include "nl/IR/NLOps.h"

#include "mlir/IR/Builders.h"

namespace mlir::nl {

/// Spec letters for a state parameter of rank 2 (matrix) or 1 (vector),
/// with batch and heads in front.
inline StringRef paramSpec(Value param) {
  return cast<RankedTensorType>(param.getType()).getRank() == 4 ? "bhrc"
                                                                : "bhd";
}

class MemoryLowering {
public:
  MemoryLowering(MemoryOp memory) : memory(memory), update(memory.getUpdate()) {
    for (Operation *user : memory.getMemory().getUsers()) {
      if (auto read = dyn_cast<ReadOp>(user))
        reads.push_back(read);
      else if (auto final = dyn_cast<FinalStateOp>(user))
        finals.push_back(final);
      else if (auto stream = dyn_cast<StreamStateOp>(user))
        streams.push_back(stream);
    }
  }

  LogicalResult verifySupported();
  /// A memory without an update is a fixed model: its reads apply the
  /// initial state directly.
  LogicalResult lowerFixed();

private:
  // Sizes and slices.
  Value sliceTokens(OpBuilder &b, Value sequence, Value start, Value count);
  Value tokenAt(OpBuilder &b, Value sequence, Value index);
  Value chunkRate(OpBuilder &b, Value rate, RateGranularity granularity,
                  Value chunk, Value start, Value count, Value like);
  Value scalarAt(OpBuilder &b, Value rates, Value index);
  SmallVector<Value> initialState(OpBuilder &b, Value batch);

  // Rules.
  struct ChunkInputs {
    Value keys, values, lr, retention;
    SmallVector<Value> momentum;
  };
  void momentumUpdate(OpBuilder &b, MemoryModel &model,
                      ArrayRef<Value> reference, ArrayRef<Value> theta,
                      ArrayRef<Value> momentum, const ChunkInputs &in,
                      SmallVectorImpl<Value> &newTheta,
                      SmallVectorImpl<Value> &newMomentum);
  void dgdUpdate(OpBuilder &b, MemoryModel &model, ArrayRef<Value> reference,
                 ArrayRef<Value> theta, ArrayRef<Value> momentum,
                 const ChunkInputs &in, SmallVectorImpl<Value> &newTheta,
                 SmallVectorImpl<Value> &newMomentum);
  friend class ChunkLoopBuilder;

  MemoryOp memory;
  UpdateOp update;
  SmallVector<ReadOp> reads;
  SmallVector<FinalStateOp> finals;
  SmallVector<StreamStateOp> streams;
  Location loc = memory.getLoc();
};

} // namespace mlir::nl

#endif // NL_CODEGEN_MEMORY_MEMORYLOWERING_H
