//===- LoopWork.h - estimated work of loop nests ----------------*- C++ -*-===//
//
// How many operations a loop nest executes, from its static trip counts:
// what decides whether a nest is worth an OpenMP region.
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_CPU_LOOPWORK_H
#define NL_CODEGEN_CPU_LOOPWORK_H

#include "mlir/IR/Block.h"

#include <cstdint>
#include <limits>

namespace mlir::nl {

/// The estimate of a nest with a dynamic trip count (and the cap of any).
constexpr int64_t kUnboundedWork = std::numeric_limits<int64_t>::max();

/// Operations that one execution of `op` runs: itself, plus its loops'
/// bodies times their trip counts (the larger branch of an scf.if);
/// kUnboundedWork when a loop's trip count is not static.
int64_t estimatedWork(Operation &op);

/// The same for every operation of `block`.
int64_t estimatedWork(Block &block);

} // namespace mlir::nl

#endif // NL_CODEGEN_CPU_LOOPWORK_H
