//===- NLOptimizerOps.cpp - optimizer levels ------------------------------===//
//
// nl.moment (an optimizer memory) and nl.param_update (a parameter group):
// the outer levels, counted in training steps.
//
//===----------------------------------------------------------------------===//

#include "nl/IR/NLOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::nl;

//===----------------------------------------------------------------------===//
// MomentOp
//===----------------------------------------------------------------------===//

LogicalResult MomentOp::verify() {
  if (getName().empty())
    return emitOpError("needs a non-empty name");
  if (getEvery().getUnit() != TimeUnit::Steps)
    return emitOpError("an optimizer level counts training steps, got ")
           << getEvery().describe();
  // getPower() zero-extends the signless attribute: print it signed.
  if (getPower() != 1 && getPower() != 2)
    return emitOpError("power must be 1 (the gradient) or 2 (its square), "
                       "got ")
           << static_cast<int64_t>(getPower());
  bool periodic = getEvery().getPeriod() > 1;
  if (periodic && (!getPending() || !getStep() || !getNewPending()))
    return emitOpError("an optimizer level updated ")
           << getEvery().describe()
           << " sums its input between updates: it needs pending(...), "
              "step(...) and a second result";
  if (!periodic && (getPending() || getNewPending()))
    return emitOpError("pending(...) is only used by optimizer levels updated "
                       "every f > 1 steps");
  double weightDecay = getWeightDecay().convertToDouble();
  if (!std::isfinite(weightDecay) || weightDecay < 0.0)
    return emitOpError("weight_decay must be finite and >= 0, got ")
           << weightDecay;
  if (getParam() && weightDecay == 0.0)
    return emitOpError("l2(...) gives the parameter of a coupled weight "
                       "decay, but weight_decay is 0");
  if (!getParam() && weightDecay != 0.0)
    return emitOpError("weight_decay = ")
           << weightDecay << " needs the decayed parameter: l2(...)";
  return success();
}

unsigned MomentOp::getNumComponents() { return 1; }
std::string MomentOp::getComponentName(unsigned) { return getName().str(); }
EveryAttr MomentOp::getComponentFrequency(unsigned) { return getEvery(); }
void MomentOp::getUpdateInputs(unsigned, SmallVectorImpl<Value> &inputs) {
  inputs.push_back(getInput());
  if (getStep())
    inputs.push_back(getStep());
  if (getParam())
    inputs.push_back(getParam());
}
void MomentOp::getStateSources(SmallVectorImpl<StateSource> &sources) {
  sources.push_back({getOperation(), 0, /*sameToken=*/true});
}

//===----------------------------------------------------------------------===//
// ParamUpdateOp
//===----------------------------------------------------------------------===//

/// Checks that an AdamW moment produced by nl.moment has the decay, scale
/// and power the rule assumes for its bias correction.
static LogicalResult checkAdamMoment(ParamUpdateOp op, Value state,
                                     StringRef role, double beta,
                                     int64_t power) {
  auto moment = state.getDefiningOp<MomentOp>();
  if (!moment)
    return success();
  double decay = moment.getDecay().convertToDouble();
  double scale = moment.getScale().convertToDouble();
  // 1 - beta is rarely exact in binary: compare to a relative tolerance.
  auto near = [](double a, double b) {
    return std::abs(a - b) <= 1e-12 * std::max(1.0, std::abs(b));
  };
  if (!near(decay, beta) || !near(scale, 1.0 - beta) ||
      moment.getPower() != static_cast<uint64_t>(power))
    return op.emitOpError("AdamW's ")
           << role << " must be an nl.moment with decay " << beta
           << ", scale " << 1.0 - beta << " and power " << power << ", but '"
           << moment.getName() << "' has decay " << decay << ", scale "
           << scale << " and power " << moment.getPower();
  return success();
}

LogicalResult ParamUpdateOp::verify() {
  if (getName().empty())
    return emitOpError("needs a non-empty name");
  if (getEvery().getUnit() != TimeUnit::Steps)
    return emitOpError("a parameter group counts training steps, got ")
           << getEvery().describe();
  size_t expected = llvm::TypeSwitch<Attribute, size_t>(getRule())
                        .Case<SGDMomentumRuleAttr, MuonRuleAttr>(
                            [](auto) { return 1; })
                        .Case<AdamWRuleAttr>([](auto) { return 2; })
                        .Case<M3RuleAttr>([](auto) { return 3; })
                        .Default([](Attribute) { return 0; });
  StringRef names = llvm::TypeSwitch<Attribute, StringRef>(getRule())
                        .Case<AdamWRuleAttr>([](auto) { return "m, v"; })
                        .Case<M3RuleAttr>([](auto) { return "M1, M2, V"; })
                        .Default([](Attribute) { return "m"; });
  if (getStates().size() != expected)
    return emitOpError("rule ")
           << getRule() << " takes " << expected << " optimizer state"
           << (expected == 1 ? "" : "s") << " (" << names << "), got "
           << getStates().size();
  for (auto [index, state] : llvm::enumerate(getStates()))
    if (state.getType() != getParam().getType())
      return emitOpError("optimizer state #")
             << index << " has type " << state.getType()
             << " but the parameter has " << getParam().getType();

  if (auto adam = dyn_cast<AdamWRuleAttr>(getRule())) {
    if (!getStep())
      return emitOpError("AdamW's bias correction needs the step count "
                         "(step(...))");
    if (failed(checkAdamMoment(*this, getStates()[0], "first moment",
                               adam.getBeta1().convertToDouble(), 1)) ||
        failed(checkAdamMoment(*this, getStates()[1], "second moment",
                               adam.getBeta2().convertToDouble(), 2)))
      return failure();
  }
  if (isa<MuonRuleAttr, M3RuleAttr>(getRule()) &&
      getParam().getType().getRank() != 2)
    return emitOpError(isa<MuonRuleAttr>(getRule()) ? "Muon" : "M3")
           << " orthogonalises matrices; parameter '" << getName()
           << "' has rank " << getParam().getType().getRank()
           << " (use AdamW for it)";
  if (getEvery().getPeriod() > 1 && !getStep())
    return emitOpError("a parameter group updated ")
           << getEvery().describe()
           << " needs the step count (step(...)) to know when to update";
  return success();
}

unsigned ParamUpdateOp::getNumComponents() { return 1; }
std::string ParamUpdateOp::getComponentName(unsigned) {
  return getName().str();
}
EveryAttr ParamUpdateOp::getComponentFrequency(unsigned) { return getEvery(); }
void ParamUpdateOp::getUpdateInputs(unsigned, SmallVectorImpl<Value> &inputs) {
  llvm::append_range(inputs, getStates());
  if (getStep())
    inputs.push_back(getStep());
  if (getLr())
    inputs.push_back(getLr());
}
void ParamUpdateOp::getStateSources(SmallVectorImpl<StateSource> &sources) {
  sources.push_back({getOperation(), 0, /*sameToken=*/true});
}

//===----------------------------------------------------------------------===//
// ClipGradNormOp
//===----------------------------------------------------------------------===//

LogicalResult ClipGradNormOp::verify() {
  if (getGrads().empty())
    return emitOpError("needs at least one gradient");
  std::optional<llvm::APFloat> maxNorm = getMaxNorm();
  if (!maxNorm)
    return success();
  double value = maxNorm->convertToDouble();
  if (!std::isfinite(value) || value <= 0.0)
    return emitOpError("max_norm must be finite and > 0 (none: measure "
                       "only), got ")
           << value;
  return success();
}

//===----------------------------------------------------------------------===//
// LRScheduleOp
//===----------------------------------------------------------------------===//

LogicalResult LRScheduleOp::verify() {
  // getWarmup()/getTotal() zero-extend the signless attributes: read them
  // signed.
  auto warmup = static_cast<int64_t>(getWarmup());
  auto total = static_cast<int64_t>(getTotal());
  if (warmup < 0)
    return emitOpError("warmup must be >= 0 steps, got ") << warmup;
  if (total < 0)
    return emitOpError("total must be >= 0 steps (0: no decay), got ") << total;
  if (total != 0 && total <= warmup)
    return emitOpError("the cosine decay ends at step total = ")
           << total << ", which must come after the warm-up (" << warmup
           << " steps)";
  double minRatio = getMinRatio().convertToDouble();
  if (!(minRatio >= 0.0 && minRatio <= 1.0))
    return emitOpError("min_ratio must be in [0, 1], got ") << minRatio;
  return success();
}
