//===- OptimizerLevels.h - an optimizer as optimizer levels -----*- C++ -*-===//
//
// Emits the outer levels that update a model's parameters from their
// gradients (semantics doc, section 6): nl.clip_grad_norm over the group
// (measuring its norm, clipping if asked), nl.lr_schedule on the run-time
// rate, one nl.moment per optimizer state and one nl.param_update per
// parameter. What SGD, AdamW, Muon and M3 are, in the dialect's ops: beside
// the ops, below everything that builds a training step (nl-build-train-step
// in codegen, hope-models optimizer-step in models).
//
//===----------------------------------------------------------------------===//

#ifndef NL_IR_OPTIMIZERLEVELS_H
#define NL_IR_OPTIMIZERLEVELS_H

#include "mlir/IR/Builders.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/JSON.h"

#include <optional>
#include <string>

namespace mlir::nl {


enum class OptimizerKind { SGD, AdamW, Muon, M3 };

/// The optimizers by name (sgd, adamw, muon, m3): hope-compile --train
/// --optimizer, hope-models optimizer-step --optimizer.
std::optional<OptimizerKind> parseOptimizerKind(llvm::StringRef name);

/// The name parseOptimizerKind reads.
llvm::StringRef getOptimizerKindName(OptimizerKind kind);

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

/// Why `config` cannot make a step (a hyper-parameter that is not finite,
/// negative, a moment decay outside [0, 1), M3's period below 1 step or a
/// final rate ratio outside [0, 1]), or nothing. Every way of building
/// optimizer levels checks it: hope-compile --train, nl-build-train-step,
/// hope-models optimizer-step.
std::optional<std::string> checkOptimizerConfig(const OptimizerConfig &config);

/// The optimizer's name and hyper-parameters as a JSON object (the
/// manifest's train_step "options"; docs/artifact-abi.md).
llvm::json::Object describeOptimizerConfig(const OptimizerConfig &config);

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

} // namespace mlir::nl

#endif // NL_IR_OPTIMIZERLEVELS_H
