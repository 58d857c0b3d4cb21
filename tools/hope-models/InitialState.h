//===- InitialState.h - the first state of a streaming model ----*- C++ -*-===//

#ifndef HOPE_MODELS_INITIALSTATE_H
#define HOPE_MODELS_INITIALSTATE_H

#include "nl/Models/SeededWeights.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/Error.h"

namespace hope::models {

/// Writes to the safetensors file `path` one tensor per state input of
/// `streaming` (the streaming form of a model), the state before its first
/// piece: a memory's state and reference are the seeded initial weights that
/// `plain` (the same model without --streaming) gives its memory of the same
/// name, repeated for each of `batch` sequences; every other state (the
/// convolution's history, the position) is zero.
llvm::Error writeInitialState(llvm::StringRef path,
                              mlir::func::FuncOp streaming,
                              mlir::func::FuncOp plain, int64_t batch,
                              const mlir::nl::models::SeededWeights &generator);

} // namespace hope::models

#endif // HOPE_MODELS_INITIALSTATE_H
