//===- OptimizerLevels.cpp - an optimizer as optimizer levels -------------===//

#include "nl/IR/OptimizerLevels.h"

#include "nl/IR/NLOps.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace mlir::nl;

std::optional<OptimizerKind>
mlir::nl::parseOptimizerKind(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<OptimizerKind>>(name)
      .Case("sgd", OptimizerKind::SGD)
      .Case("adamw", OptimizerKind::AdamW)
      .Case("muon", OptimizerKind::Muon)
      .Case("m3", OptimizerKind::M3)
      .Default(std::nullopt);
}

llvm::StringRef mlir::nl::getOptimizerKindName(OptimizerKind kind) {
  switch (kind) {
  case OptimizerKind::SGD:
    return "sgd";
  case OptimizerKind::AdamW:
    return "adamw";
  case OptimizerKind::Muon:
    return "muon";
  case OptimizerKind::M3:
    return "m3";
  }
  llvm_unreachable("unknown optimizer");
}

std::optional<std::string>
mlir::nl::checkOptimizerConfig(const OptimizerConfig &config) {
  struct Named {
    const char *name;
    double value;
  };
  for (Named hyper : {Named{"momentum", config.momentum},
                      Named{"weight-decay", config.weightDecay},
                      Named{"beta1", config.beta1},
                      Named{"beta2", config.beta2},
                      Named{"eps", config.eps},
                      Named{"m3-beta1", config.m3Beta1},
                      Named{"m3-beta2", config.m3Beta2},
                      Named{"m3-beta3", config.m3Beta3},
                      Named{"m3-alpha", config.m3Alpha},
                      Named{"clip", config.clipNorm},
                      Named{"min-lr-ratio", config.minLrRatio}})
    if (!std::isfinite(hyper.value) || hyper.value < 0.0)
      return llvm::formatv("{0} must be finite and >= 0, got {1}", hyper.name,
                           hyper.value)
          .str();
  // A decay of 1 never forgets the first gradient; AdamW's bias
  // correction divides by 1 - beta^t = 0.
  for (Named decay :
       {Named{"beta1", config.beta1}, Named{"beta2", config.beta2}})
    if (decay.value >= 1.0)
      return llvm::formatv("{0} must be below 1, got {1}", decay.name,
                           decay.value)
          .str();
  if (config.minLrRatio > 1.0)
    return llvm::formatv("min-lr-ratio must be in [0, 1], got {0}",
                         config.minLrRatio)
        .str();
  if (config.m3Every < 1)
    return std::string("m3-every must be at least 1 step");
  if (config.warmup < 0 || config.totalSteps < 0)
    return std::string("warmup and total-steps must not be negative");
  return std::nullopt;
}

llvm::json::Object
mlir::nl::describeOptimizerConfig(const OptimizerConfig &config) {
  llvm::json::Object options{{"optimizer", getOptimizerKindName(config.kind)},
                             {"weight_decay", config.weightDecay},
                             {"clip", config.clipNorm},
                             {"warmup", config.warmup},
                             {"total_steps", config.totalSteps},
                             {"lr_min_ratio", config.minLrRatio}};
  switch (config.kind) {
  case OptimizerKind::SGD:
    options["momentum"] = config.momentum;
    break;
  case OptimizerKind::Muon:
    options["momentum"] = config.momentum;
    [[fallthrough]];
  case OptimizerKind::AdamW:
    options["beta1"] = config.beta1;
    options["beta2"] = config.beta2;
    options["eps"] = config.eps;
    break;
  case OptimizerKind::M3:
    options["beta1"] = config.beta1;
    options["beta2"] = config.beta2;
    options["eps"] = config.eps;
    options["m3_beta1"] = config.m3Beta1;
    options["m3_beta2"] = config.m3Beta2;
    options["m3_beta3"] = config.m3Beta3;
    options["m3_alpha"] = config.m3Alpha;
    options["m3_every"] = config.m3Every;
    break;
  }
  return options;
}

/// Whether the parameter takes the optimizer's own rule rather than the
/// AdamW that Muon and M3 apply to everything but matrices.
static bool usesAdamW(const OptimizerConfig &config, RankedTensorType type) {
  switch (config.kind) {
  case OptimizerKind::SGD:
    return false;
  case OptimizerKind::AdamW:
    return true;
  case OptimizerKind::Muon:
  case OptimizerKind::M3:
    return type.getRank() != 2;
  }
  llvm_unreachable("unknown optimizer");
}

SmallVector<std::string>
mlir::nl::getOptimizerStateNames(const OptimizerConfig &config,
                                         RankedTensorType type) {
  if (usesAdamW(config, type))
    return {"m", "v"};
  if (config.kind == OptimizerKind::M3)
    return {"m1", "m2", "m2.pending", "v"};
  return {"m"};
}

namespace {

/// Emits the levels of one parameter.
class ParameterLevels {
public:
  ParameterLevels(OpBuilder &b, Location loc, const OptimizerConfig &config,
                  StringRef name, Value param, Value grad, Value lr, Value step)
      : b(b), loc(loc), config(config), name(name.str()), param(param),
        grad(grad), lr(lr), step(step),
        type(cast<RankedTensorType>(param.getType())) {}

  /// The new parameter; `states` become the new states.
  Value build(SmallVector<Value> &states) {
    if (usesAdamW(config, type))
      return adamW(states);
    switch (config.kind) {
    case OptimizerKind::SGD:
      return sgd(states);
    case OptimizerKind::Muon:
      return muon(states);
    case OptimizerKind::M3:
      return m3(states);
    case OptimizerKind::AdamW:
      break;
    }
    llvm_unreachable("AdamW is handled above");
  }

private:
  EveryAttr everyStep() {
    return EveryAttr::get(b.getContext(), 1, TimeUnit::Steps);
  }
  llvm::APFloat f64(double value) { return llvm::APFloat(value); }

  /// S <- decay S + scale g^power, every step.
  Value moment(StringRef suffix, Value state, double decay, double scale,
               int64_t power, double weightDecay = 0.0) {
    return MomentOp::create(b, loc, type, Type(), name + "." + suffix.str(),
                            everyStep(), f64(decay), f64(scale), power,
                            f64(weightDecay), state, grad, Value(), Value(),
                            weightDecay != 0.0 ? param : Value())
        .getNewState();
  }

  Value update(Attribute rule, ValueRange states, bool needsStep) {
    return ParamUpdateOp::create(b, loc, type, b.getStringAttr(name),
                                 everyStep(), rule, param, states,
                                 needsStep ? step : Value(), lr)
        .getNewParam();
  }

  Value sgd(SmallVector<Value> &states) {
    // torch.optim.SGD: buf <- momentum buf + (g + wd W), W <- W - r buf.
    // The level holds m = -buf: m <- momentum m - (g + wd W), W <- W + r m.
    states[0] =
        moment("m", states[0], config.momentum, -1.0, 1, config.weightDecay);
    return update(SGDMomentumRuleAttr::get(b.getContext()), states[0], false);
  }

  Value adamW(SmallVector<Value> &states) {
    states[0] = moment("m", states[0], config.beta1, 1.0 - config.beta1, 1);
    states[1] = moment("v", states[1], config.beta2, 1.0 - config.beta2, 2);
    auto rule = AdamWRuleAttr::get(b.getContext(), f64(1.0), f64(config.beta1),
                                   f64(config.beta2), f64(config.eps),
                                   f64(config.weightDecay));
    return update(rule, states, true);
  }

  Value muon(SmallVector<Value> &states) {
    states[0] = moment("m", states[0], config.momentum, 1.0, 1);
    return update(MuonRuleAttr::get(b.getContext(), f64(1.0)), states[0],
                  false);
  }

  Value m3(SmallVector<Value> &states) {
    states[0] = moment("m1", states[0], 1.0, config.m3Beta1, 1);
    auto slow = MomentOp::create(
        b, loc, type, type, name + ".m2",
        EveryAttr::get(b.getContext(), config.m3Every, TimeUnit::Steps),
        f64(1.0), f64(config.m3Beta3), 1, f64(0.0), states[1], grad, states[2],
        step, Value());
    states[1] = slow.getNewState();
    states[2] = slow.getNewPending();
    states[3] = moment("v", states[3], 1.0, config.m3Beta2, 2);
    auto rule = M3RuleAttr::get(b.getContext(), f64(1.0), f64(config.m3Alpha),
                                f64(config.eps));
    return update(rule, {states[0], states[1], states[3]}, false);
  }

  OpBuilder &b;
  Location loc;
  const OptimizerConfig &config;
  std::string name;
  Value param, grad, lr, step;
  RankedTensorType type;
};

} // namespace

OptimizerStepResult mlir::nl::buildOptimizerLevels(
    OpBuilder &builder, Location loc, const OptimizerConfig &config,
    ArrayRef<std::string> names, ValueRange params, ValueRange grads,
    ArrayRef<SmallVector<Value>> states, Value lr, Value step) {
  // The norm is measured whether or not it clips (train_step's grad_norm).
  FloatAttr maxNorm = config.clipNorm > 0.0
                          ? builder.getF64FloatAttr(config.clipNorm)
                          : FloatAttr();
  auto clip = ClipGradNormOp::create(builder, loc, grads.getTypes(),
                                     lr.getType(), grads, maxNorm);
  SmallVector<Value> clipped(clip.getClipped());
  if (config.warmup > 0 || config.totalSteps > 0)
    lr = LRScheduleOp::create(builder, loc, lr, step,
                              builder.getI64IntegerAttr(config.warmup),
                              builder.getI64IntegerAttr(config.totalSteps),
                              builder.getF64FloatAttr(config.minLrRatio))
             .getLr();
  OptimizerStepResult result;
  result.gradNorm = clip.getTotalNorm();
  for (auto [index, param] : llvm::enumerate(params)) {
    SmallVector<Value> newStates(states[index]);
    ParameterLevels levels(builder, loc, config, names[index], param,
                           clipped[index], lr, step);
    result.params.push_back(levels.build(newStates));
    result.states.push_back(std::move(newStates));
  }
  return result;
}
