//===- LowerMemories.cpp - nl-lower-memories ------------------------------===//
//
// Every nl.memory with its nl.update, nl.read and nl.final_state ops becomes
// its chunk-parallel form: one scf.for over the ceil(T/C) chunks carrying
// the state (and momentum) as tensors. Per chunk:
//   1. the model's forward and backward at the chunk's reference state, for
//      all tokens of the chunk at once (batched contractions, MemoryModel);
//   2. the learning rule:
//      - momentum GD: the chunk-end state is linear in the per-token
//        gradients, theta_e = A theta_s + c S_s - sum_u w_u g_u and
//        S_e = P S_s - sum_u v_u g_u, with coefficients from one reverse scan
//        over the chunk's rates; each sum is one contraction over tokens;
//      - DGD: its rank-1 term reads the current state, so the chunk applies
//        it token by token (the in-chunk loop), with gradients from step 1;
//      - chunk-aggregated: one update per complete chunk from the eta-weighted
//        gradient sum at the linearisation reference state;
//   3. the reads of the chunk: the chunk-start state, and for `after` reads
//      the chunk-end state at the last token of a complete chunk.
//
// The pieces: MemoryLowering (one memory: slices, initial state, fixed
// reads), UpdateRules.cpp (the rules), MemoryStages (which chunk loop each
// memory joins), ChunkLoopBuilder (the loop) and ChunkLoopPreconditions.
//
//===----------------------------------------------------------------------===//

#include "ChunkLoopBuilder.h"
#include "MemoryStages.h"
#include "nl/Codegen/Passes.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLLOWERMEMORIES
#include "nl/Codegen/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;

namespace {

struct LowerMemoriesPass
    : nl::impl::NLLowerMemoriesBase<LowerMemoriesPass> {
  void runOnOperation() override {
    SmallVector<func::FuncOp> functions;
    getOperation()->walk([&](func::FuncOp f) { functions.push_back(f); });
    for (func::FuncOp function : functions)
      if (failed(lowerFunction(function)))
        return signalPassFailure();
  }

  LogicalResult lowerFunction(func::FuncOp function) {
    SmallVector<MemoryOp> memories, learning;
    function.walk([&](MemoryOp memory) { memories.push_back(memory); });
    if (memories.empty())
      return success();
    if (!function.getBody().hasOneBlock())
      return function.emitOpError("with memories must have a single block");
    for (MemoryOp memory : memories) {
      MemoryLowering lowering(memory);
      if (failed(lowering.verifySupported()))
        return failure();
      if (!memory.getUpdate()) {
        if (failed(lowering.lowerFixed()))
          return failure();
        continue;
      }
      learning.push_back(memory);
    }
    SmallVector<Operation *> dead;
    for (ArrayRef<MemoryOp> stage : stageMemories(learning, LevelAnalysis(function))) {
      ChunkLoopBuilder sequence(function, stage);
      if (failed(sequence.lower()))
        return failure();
      llvm::append_range(dead, sequence.getInLoopOps());
    }
    // The memories, their reads, updates and final states, and what the
    // loop now computes are dead; they may use each other.
    for (MemoryOp memory : memories) {
      llvm::append_range(dead, memory.getMemory().getUsers());
      dead.push_back(memory);
    }
    for (Operation *op : dead)
      op->dropAllReferences();
    for (Operation *op : dead) {
      assert(op->use_empty() && "a lowered value is still used");
      op->erase();
    }
    return success();
  }
};

} // namespace
