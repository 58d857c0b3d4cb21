//===- ArtifactSession.h - a TrainingSession on a compiled artifact -*- C++ -*-===//
//
// Loads an artifact compiled with `hope-compile --train`, checks its
// train_step entry point against the ABI (docs/training.md: the forward's
// inputs, "targets", "learning_rate", "step", then every parameter and optimizer state
// as updated weights; outputs "loss" and "grad_norm"), allocates one host
// tensor per weight (zeros) and binds it HOPE_WEIGHT_MUTABLE, so that the
// artifact updates it in place and the forward entry point sees the update.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_TOOLS_HOPETRAIN_ARTIFACTSESSION_H
#define HOPE_TOOLS_HOPETRAIN_ARTIFACTSESSION_H

#include "TrainingSession.h"

#include <memory>

namespace hope::train {

/// The name of the training entry point.
inline constexpr llvm::StringLiteral kTrainStepName = "train_step";

/// Opens `path` with `threads` threads (0: OpenMP's default).
llvm::Expected<std::unique_ptr<TrainingSession>>
openArtifactSession(llvm::StringRef path, int32_t threads);

} // namespace hope::train

#endif // HOPE_TOOLS_HOPETRAIN_ARTIFACTSESSION_H
