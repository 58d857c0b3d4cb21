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
/// name, repeated for each of `batch` sequences; a state of `streaming` that
/// `plain` takes as a weight of the same name and shape (a CMS block's
/// parameter under --cms-learning) is that seeded weight, shared by the
/// batch, and so is `<weight>.initial` (the nested CMS's meta-learnt
/// initial state); the last token seen (`cms_last_token`) is -1, none; every other
/// state (the convolution's history, the position, the gradient sums) is
/// zero.
llvm::Error writeInitialState(llvm::StringRef path,
                              mlir::func::FuncOp streaming,
                              mlir::func::FuncOp plain, int64_t batch,
                              const mlir::nl::models::SeededWeights &generator);

} // namespace hope::models

#endif // HOPE_MODELS_INITIALSTATE_H
