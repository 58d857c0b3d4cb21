//===- TrainStepOptions.h - an optimizer as nl-build-train-step's options -===//
//
// Drivers (hope-compile --train) hold an OptimizerConfig, the dialect's
// description of an optimizer; the pass takes its ODS-declared options and
// turns them back into one (BuildTrainStep.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_TRAINSTEPOPTIONS_H
#define NL_CODEGEN_TRAINSTEPOPTIONS_H

#include "nl/Codegen/Passes.h"
#include "nl/IR/OptimizerLevels.h"

namespace mlir::nl {

/// nl-build-train-step's options for training `forward` (empty: the
/// module's only entry point) with `config`.
NLBuildTrainStepOptions getTrainStepOptions(const OptimizerConfig &config,
                                            llvm::StringRef forward);

} // namespace mlir::nl

#endif // NL_CODEGEN_TRAINSTEPOPTIONS_H
