//===- TrainStepOptions.cpp - an optimizer as nl-build-train-step's options ===//

#include "nl/Codegen/TrainStepOptions.h"

using namespace mlir;
using namespace mlir::nl;

NLBuildTrainStepOptions mlir::nl::getTrainStepOptions(
    const OptimizerConfig &config, llvm::StringRef forward) {
  NLBuildTrainStepOptions options;
  options.forward = forward.str();
  options.optimizer = getOptimizerKindName(config.kind).str();
  zipOptimizerHyperParameters(
      config, options,
      [](const auto &configField, auto &option) { option = configField; });
  return options;
}
