//===- TrainStepOptions.h - an optimizer as nl-build-train-step's options -===//
//
// Drivers (hope-compile --train) hold an OptimizerConfig, the dialect's
// description of an optimizer; the pass takes its ODS-declared options and
// turns them back into one (BuildTrainStep.cpp). The hyper-parameters that
// are both are listed once, in zipOptimizerHyperParameters, so that the two
// directions cannot drift apart.
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_TRAINSTEPOPTIONS_H
#define NL_CODEGEN_TRAINSTEPOPTIONS_H

#include "nl/Codegen/Passes.h"
#include "nl/IR/OptimizerLevels.h"

namespace mlir::nl {

/// Calls `visit(configField, optionField)` for every hyper-parameter that is
/// a field of OptimizerConfig and an option of nl-build-train-step. `Options`
/// is NLBuildTrainStepOptions or the pass itself (its Option<T> members have
/// the same names); either side may be const.
template <typename Config, typename Options, typename Visit>
void zipOptimizerHyperParameters(Config &config, Options &options,
                                 Visit &&visit) {
  visit(config.momentum, options.momentum);
  visit(config.weightDecay, options.weightDecay);
  visit(config.beta1, options.beta1);
  visit(config.beta2, options.beta2);
  visit(config.eps, options.eps);
  visit(config.m3Beta1, options.m3Beta1);
  visit(config.m3Beta2, options.m3Beta2);
  visit(config.m3Beta3, options.m3Beta3);
  visit(config.m3Alpha, options.m3Alpha);
  visit(config.m3Every, options.m3Every);
  visit(config.clipNorm, options.clip);
  visit(config.warmup, options.warmup);
  visit(config.totalSteps, options.totalSteps);
  visit(config.minLrRatio, options.minLrRatio);
}

/// nl-build-train-step's options for training `forward` (empty: the
/// module's only entry point) with `config`.
NLBuildTrainStepOptions getTrainStepOptions(const OptimizerConfig &config,
                                            llvm::StringRef forward);

} // namespace mlir::nl

#endif // NL_CODEGEN_TRAINSTEPOPTIONS_H
