//===- InitialWeights.h - the weights a run starts from ---------*- C++ -*-===//
//
// Parameters from a safetensors file (--init) or seeded from their names,
// shapes and initialisations (nl/Models/SeededWeights.h, the same values as
// `hope-models --weights-out --seed`); optimizer states always start at zero.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_TOOLS_HOPETRAIN_INITIALWEIGHTS_H
#define HOPE_TOOLS_HOPETRAIN_INITIALWEIGHTS_H

#include "TrainingSession.h"

namespace hope::train {

/// Seeds every parameter (by its `init`) and zeroes every optimizer state.
llvm::Error seedWeights(llvm::ArrayRef<WeightBuffer> weights, uint64_t seed);

/// Reads every parameter from `path` (it must hold each with the model's
/// dtype and shape, and nothing else) and zeroes every optimizer state.
llvm::Error loadInitialWeights(llvm::ArrayRef<WeightBuffer> weights,
                               llvm::StringRef path);

/// Writes the parameters (no optimizer state) to `path`, atomically: a file
/// hope-run --weights loads.
llvm::Error exportParameters(llvm::ArrayRef<WeightBuffer> weights,
                             llvm::StringRef path, int64_t step);

} // namespace hope::train

#endif // HOPE_TOOLS_HOPETRAIN_INITIALWEIGHTS_H
