//===- TrainStepOptions.cpp - an optimizer as nl-build-train-step's options ===//

#include "nl/Codegen/TrainStepOptions.h"

using namespace mlir;
using namespace mlir::nl;

NLBuildTrainStepOptions mlir::nl::getTrainStepOptions(
    const OptimizerConfig &config, llvm::StringRef forward) {
  NLBuildTrainStepOptions options;
  options.forward = forward.str();
  options.optimizer = getOptimizerKindName(config.kind).str();
  options.momentum = config.momentum;
  options.weightDecay = config.weightDecay;
  options.beta1 = config.beta1;
  options.beta2 = config.beta2;
  options.eps = config.eps;
  options.m3Beta1 = config.m3Beta1;
  options.m3Beta2 = config.m3Beta2;
  options.m3Beta3 = config.m3Beta3;
  options.m3Alpha = config.m3Alpha;
  options.m3Every = config.m3Every;
  options.clip = config.clipNorm;
  options.warmup = config.warmup;
  options.totalSteps = config.totalSteps;
  options.minLrRatio = config.minLrRatio;
  return options;
}
