//===- MemoryStages.h - which chunk loop each memory joins ------*- C++ -*-===//
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_MEMORY_MEMORYSTAGES_H
#define NL_CODEGEN_MEMORY_MEMORYSTAGES_H

#include "nl/Analysis/LevelAnalysis.h"
#include "nl/IR/NLOps.h"

namespace mlir::nl {

/// Splits a function's learning memories into stages, each lowered to its
/// own chunk loop, in order: a memory whose inputs (keys, values, rates,
/// queries) come from another memory's reads through an op that mixes tokens
/// (a convolution, a CMS, a chunk mean: the next block of a model) needs the
/// whole sequence of those reads, so it goes to a later stage; through
/// token-local ops it shares the stage (self-modifying Titans). The
/// dependences are the level analysis's, of updates and of read queries.
SmallVector<SmallVector<MemoryOp>>
stageMemories(ArrayRef<MemoryOp> learning, const LevelAnalysis &analysis);

} // namespace mlir::nl

#endif // NL_CODEGEN_MEMORY_MEMORYSTAGES_H
