//===- ChunkLoopBuilder.h - the chunk loop of learning memories -*- C++ -*-===//
//
// The joint schedule of a function's learning memories: one scf.for over
// blocks of tokens carrying every memory's state, built by ChunkLoopBuilder
// (ChunkLoopBuilder.cpp) with the preconditions its indexing relies on
// (ChunkLoopPreconditions.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_MEMORY_CHUNKLOOPBUILDER_H
#define NL_CODEGEN_MEMORY_CHUNKLOOPBUILDER_H

#include "../DimensionClasses.h"
#include "MemoryLowering.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

#include <optional>

namespace mlir::nl {

/// All memories of a function that learn, lowered into one scf.for over
/// blocks of G tokens, G the gcd of their chunk sizes (for one memory, its
/// chunk). Every memory carries its state, momentum, the state at its last
/// chunk boundary (the reference of its gradients and of its reads) and,
/// when chunk-aggregated, the gradient sum of its current chunk. Ops that
/// depend on memory reads and feed an update (self-modifying Titans) are
/// cloned into the loop and evaluated per block, in the order the reads
/// need: a memory is updated for the block before any `after` read of it.
class ChunkLoopBuilder {
public:
  ChunkLoopBuilder(func::FuncOp function, ArrayRef<MemoryOp> memories)
      : function(function) {
    for (MemoryOp memory : memories)
      lowerings.emplace_back(memory);
  }
  LogicalResult lower();
  /// Ops now evaluated inside the loop, dead outside it.
  ArrayRef<Operation *> getInLoopOps() const { return inLoop.getArrayRef(); }

private:
  struct MemoryCarry {
    unsigned theta, momentum, reference, pending;
  };
  /// Per block: the values computed so far.
  struct BlockState {
    OpBuilder *b;
    /// Where the block's tokens are in this call's tensors (start, count),
    /// and where they are in the whole sequence (absoluteStart, end):
    /// chunk boundaries count from the sequence's start.
    Value start, count, absoluteStart, end;
    IRMapping mapping;
    SmallVector<bool> updated;
    SmallVector<SmallVector<Value>> theta, momentum, reference, pending;
    /// The state reads see before a chunk's update: the state at the
    /// memory's last chunk boundary.
    SmallVector<SmallVector<Value>> chunkStart;
  };

  LogicalResult classify();
  int64_t tokenDim(Value value);
  /// The size of dimension `dim` of `value`, read from a value computed
  /// before the loop that has a dimension of the same class.
  FailureOr<Value> sizeBeforeLoop(OpBuilder &b, Value value, unsigned dim);
  Value blockValue(BlockState &block, Value value);
  Value blockRead(BlockState &block, ReadOp read);
  void updateMemory(BlockState &block, unsigned m);
  void requireChunkRates(OpBuilder &b, MemoryLowering &lowering);
  void requireRepresentablePosition(OpBuilder &b);
  /// Whether dimension `dim` of `value` has the size of an argument's.
  bool givenByCaller(Value value, unsigned dim);
  unsigned memoryIndex(Value handle);

  func::FuncOp function;
  SmallVector<MemoryLowering> lowerings;
  std::optional<DimensionClasses> classes;
  std::pair<Value, unsigned> tokenClass;
  /// Ops other than reads evaluated per block.
  llvm::SetVector<Operation *> inLoop;
  /// The reads, updates and final states the loop replaces, and (after
  /// classify) the in-loop ops.
  DenseSet<Operation *> lowered;
  /// Values computed per block that ops outside the loop use: accumulated
  /// into whole-sequence tensors.
  llvm::SetVector<Value> exported;
  Value tokens, position;
  int64_t blockSize = 0;
};

} // namespace mlir::nl

#endif // NL_CODEGEN_MEMORY_CHUNKLOOPBUILDER_H
