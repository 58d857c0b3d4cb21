//===- WeightsFile.h - seeded weights of a model, to a file -----*- C++ -*-===//

#ifndef HOPE_MODELS_WEIGHTSFILE_H
#define HOPE_MODELS_WEIGHTSFILE_H

#include "nl/Models/ModelWeights.h"
#include "nl/Models/SeededWeights.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

namespace hope::models {

/// Writes one tensor per weight, named and shaped as declared, with the
/// values of `generator`, to the safetensors file `path` (the runtime's
/// writer).
llvm::Error writeWeights(llvm::StringRef path,
                         llvm::ArrayRef<mlir::nl::models::WeightSpec> weights,
                         const mlir::nl::models::SeededWeights &generator);

/// One line per weight: name, dtype, shape and initialisation.
void listWeights(llvm::raw_ostream &os,
                 llvm::ArrayRef<mlir::nl::models::WeightSpec> weights);

/// The number of elements of all weights.
int64_t countParameters(llvm::ArrayRef<mlir::nl::models::WeightSpec> weights);

} // namespace hope::models

#endif // HOPE_MODELS_WEIGHTSFILE_H
