//===- OptimizerStepCommand.h - hope-models optimizer-step ------*- C++ -*-===//

#ifndef HOPE_MODELS_OPTIMIZERSTEPCOMMAND_H
#define HOPE_MODELS_OPTIMIZERSTEPCOMMAND_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/CommandLine.h"

namespace hope::models {

/// The options of `hope-models optimizer-step` (hidden from the others).
llvm::cl::OptionCategory &getOptimizerStepCategory();

/// The line --help shows for it.
llvm::StringRef getOptimizerStepUsage();

/// Writes `@optimizer_step` (nl/Models/OptimizerStep.h) with elements of
/// `dtype` (f32 when empty, or f64) to `outputFile`; returns the exit code
/// (errors: one line on stderr).
int runOptimizerStep(llvm::StringRef outputFile, llvm::StringRef dtype);

} // namespace hope::models

#endif // HOPE_MODELS_OPTIMIZERSTEPCOMMAND_H
