//===- OptimizerStep.h - an optimizer step alone in a function --*- C++ -*-===//
//
// hope-models optimizer-step: the optimizer levels of nl/IR/OptimizerLevels.h
// (what a training step emits after its backward pass) alone in a function,
// for tests and benchmarks.
//
//===----------------------------------------------------------------------===//

#ifndef NL_MODELS_OPTIMIZERSTEP_H
#define NL_MODELS_OPTIMIZERSTEP_H

#include "nl/IR/OptimizerLevels.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::nl::models {

/// `@optimizer_step(p..., grad.p..., states..., lr, step) -> (p...,
/// states...)` for parameters `p0, p1, ...` of `shapes` (f32 or f64):
/// parameters and optimizer states are `nl.state` arguments and results of
/// the same names, gradients, `lr` and `step` `nl.input`s.
func::FuncOp buildOptimizerStepFunction(
    OpBuilder &builder, Location loc, const OptimizerConfig &config,
    llvm::ArrayRef<llvm::SmallVector<int64_t>> shapes, bool f64);

} // namespace mlir::nl::models

#endif // NL_MODELS_OPTIMIZERSTEP_H
