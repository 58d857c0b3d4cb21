//===- OptimizerStep.h - the optimizer levels of a training step -*- C++
//-*-===//
//
// Emits the outer levels that update a model's parameters from their
// gradients (semantics doc, section 6): nl.clip_grad_norm over the group
// (measuring its norm, clipping if asked),
// nl.lr_schedule on the run-time rate, one nl.moment per optimizer state and
// one nl.param_update per parameter. A training step (hope-compile --train)
// calls buildOptimizerLevels after the backward pass; hope-models
// optimizer-step wraps it alone in a function, for tests and benchmarks.
//
//===----------------------------------------------------------------------===//

#ifndef NL_MODELS_OPTIMIZERSTEP_H
#define NL_MODELS_OPTIMIZERSTEP_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>
#include <string>

namespace mlir::nl::models {

enum class OptimizerKind { SGD, AdamW, Muon, M3 };

/// The names hope-models accepts (sgd, adamw, muon, m3).
std::optional<OptimizerKind> parseOptimizerKind(llvm::StringRef name);

/// Hyper-parameters of one optimizer; the learning rate is a run-time input
/// (each rule's lr attribute is 1 and `lr(...)` carries the rate).
struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::AdamW;
  /// SGD and Muon: the momentum buffer's decay, m <- momentum m + g.
  double momentum = 0.9;
  /// SGD: coupled (L2) decay, the gradient g + wd W (torch.optim.SGD);
  /// AdamW (and the AdamW part of Muon and M3): decoupled decay.
  double weightDecay = 0.0;
  /// AdamW's moment decays and denominator epsilon (also M3's epsilon).
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  /// M3: M1 <- M1 + m3Beta1 g, V <- V + m3Beta2 g^2, and every m3Every
  /// steps M2 <- M2 + m3Beta3 (sum of g since the last such step);
  /// W <- W - r (NS5(M1) + m3Alpha NS5(M2)) / (sqrt(V) + eps).
  double m3Beta1 = 0.9, m3Beta2 = 0.999, m3Beta3 = 0.5, m3Alpha = 0.5;
  int64_t m3Every = 4;
  /// Gradient clipping by the group's global norm (0: none).
  double clipNorm = 0.0;
  /// The schedule of nl.lr_schedule (both 0: the rate as given).
  int64_t warmup = 0, totalSteps = 0;
  double minLrRatio = 0.0;
};

/// The optimizer states of a parameter of `type`, by name suffix, in the
/// order buildOptimizerLevels takes and returns them: SGD `m`; AdamW `m`,
/// `v`; Muon `m` for a matrix (AdamW's otherwise); M3 `m1`, `m2`,
/// `m2.pending`, `v` for a matrix (AdamW's otherwise). Each has the
/// parameter's type and starts at zero.
llvm::SmallVector<std::string> getOptimizerStateNames(const OptimizerConfig &,
                                                      RankedTensorType type);

/// The updated parameters and optimizer states of one step.
struct OptimizerStepResult {
  llvm::SmallVector<Value> params;
  /// Per parameter, in the order of getOptimizerStateNames.
  llvm::SmallVector<llvm::SmallVector<Value>> states;
  /// The gradients' global L2 norm before clipping (nl.clip_grad_norm's
  /// total_norm, of `lr`'s type), emitted whether or not the group clips.
  Value gradNorm;
};

/// Emits one training step of the parameter group `params` (named `names`)
/// from `grads`, with optimizer `states` (per parameter, as
/// getOptimizerStateNames lists them), the run-time rate `lr` (0-D tensor of
/// the parameters' element type) and the step count `step` (0-D i64 tensor,
/// starting at 1).
OptimizerStepResult buildOptimizerLevels(
    OpBuilder &builder, Location loc, const OptimizerConfig &config,
    llvm::ArrayRef<std::string> names, ValueRange params, ValueRange grads,
    llvm::ArrayRef<llvm::SmallVector<Value>> states, Value lr, Value step);

/// `@optimizer_step(p..., grad.p..., states..., lr, step) -> (p...,
/// states...)` for parameters `p0, p1, ...` of `shapes` (f32 or f64):
/// parameters and optimizer states are `nl.state` arguments and results of
/// the same names, gradients, `lr` and `step` `nl.input`s.
func::FuncOp buildOptimizerStepFunction(
    OpBuilder &builder, Location loc, const OptimizerConfig &config,
    llvm::ArrayRef<llvm::SmallVector<int64_t>> shapes, bool f64);

} // namespace mlir::nl::models

#endif // NL_MODELS_OPTIMIZERSTEP_H
