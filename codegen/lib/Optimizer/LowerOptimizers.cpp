//===- LowerOptimizers.cpp - nl-lower-optimizers --------------------------===//
//
// The optimizer levels as linalg/arith on tensors, each exactly as its op or
// rule attribute defines it (dialect reference; test/reference/optimizers.py
// implements the same definitions in PyTorch):
//   - nl.clip_grad_norm: one float64 sum of squares per gradient, one factor;
//   - nl.lr_schedule: float64 scalar arithmetic on the step count;
//   - nl.moment: one element-wise update (periodic: a select on t % f);
//   - nl.param_update: the rule's element-wise update, with Newton-Schulz
//     contractions for Muon and M3 (periodic: an scf.if on t % f).
// Step-dependent scalars (bias corrections, rates) are computed in float64
// and rounded once to the element type, as torch.optim does in Python.
//
//===----------------------------------------------------------------------===//

#include "OptimizerMath.h"
#include "nl/Codegen/Passes.h"
#include "nl/IR/NLOps.h"

#include "llvm/ADT/TypeSwitch.h"

#include "llvm/Support/MathExtras.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLLOWEROPTIMIZERS
#include "nl/Codegen/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;
using namespace mlir::nl::optimizer;

namespace {

Type elementTypeOf(Value tensor) {
  return cast<RankedTensorType>(tensor.getType()).getElementType();
}

/// An element-type constant.
Value constantLike(OpBuilder &b, Location loc, Type type, double value) {
  return arith::ConstantOp::create(b, loc, type, b.getFloatAttr(type, value));
}

//===----------------------------------------------------------------------===//
// nl.clip_grad_norm
//===----------------------------------------------------------------------===//

SmallVector<Value> lowerClip(OpBuilder &b, ClipGradNormOp op) {
  Location loc = op.getLoc();
  TensorBuilder tb(b, loc);
  Value total = f64Constant(b, loc, 0.0);
  for (Value grad : op.getGrads())
    total = arith::AddFOp::create(b, loc, total, sumOfSquaresF64(tb, grad));
  Value norm = math::SqrtOp::create(b, loc, total);
  // torch.nn.utils.clip_grad_norm_: max_norm / (norm + 1e-6), at most 1.
  Value coefficient = arith::DivFOp::create(
      b, loc, f64Constant(b, loc, op.getMaxNorm().convertToDouble()),
      arith::AddFOp::create(b, loc, norm, f64Constant(b, loc, 1e-6)));
  coefficient =
      arith::MinimumFOp::create(b, loc, coefficient, f64Constant(b, loc, 1.0));
  SmallVector<Value> clipped;
  for (Value grad : op.getGrads()) {
    Value factor = roundTo(b, loc, coefficient, elementTypeOf(grad));
    clipped.push_back(
        tb.map({grad}, [&](OpBuilder &nb, Location nloc, ValueRange args) {
          return arith::MulFOp::create(nb, nloc, args[0], factor).getResult();
        }));
  }
  return clipped;
}

//===----------------------------------------------------------------------===//
// nl.lr_schedule
//===----------------------------------------------------------------------===//

Value lowerSchedule(OpBuilder &b, LRScheduleOp op) {
  Location loc = op.getLoc();
  auto warmup = static_cast<int64_t>(op.getWarmup());
  auto total = static_cast<int64_t>(op.getTotal());
  double minRatio = op.getMinRatio().convertToDouble();
  Value t = scalarAsF64(b, loc, op.getStep());
  Value factor = f64Constant(b, loc, 1.0);
  if (total > 0) {
    // p = clamp((t - warmup) / (total - warmup), 0, 1)
    Value progress = arith::DivFOp::create(
        b, loc,
        arith::SubFOp::create(b, loc, t,
                              f64Constant(b, loc, static_cast<double>(warmup))),
        f64Constant(b, loc, static_cast<double>(total - warmup)));
    progress =
        arith::MinimumFOp::create(b, loc, progress, f64Constant(b, loc, 1.0));
    progress =
        arith::MaximumFOp::create(b, loc, progress, f64Constant(b, loc, 0.0));
    // min_ratio + (1 - min_ratio) (1 + cos(pi p)) / 2
    Value cosine = math::CosOp::create(
        b, loc,
        arith::MulFOp::create(b, loc, f64Constant(b, loc, llvm::numbers::pi),
                              progress));
    Value half = arith::MulFOp::create(
        b, loc, f64Constant(b, loc, 0.5),
        arith::AddFOp::create(b, loc, f64Constant(b, loc, 1.0), cosine));
    factor = arith::AddFOp::create(
        b, loc, f64Constant(b, loc, minRatio),
        arith::MulFOp::create(b, loc, f64Constant(b, loc, 1.0 - minRatio),
                              half));
  }
  if (warmup > 0) {
    Value warm = f64Constant(b, loc, static_cast<double>(warmup));
    Value inWarmup =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE, t, warm);
    factor = arith::SelectOp::create(
        b, loc, inWarmup, arith::DivFOp::create(b, loc, t, warm), factor);
  }
  Value rate =
      arith::MulFOp::create(b, loc, scalarAsF64(b, loc, op.getBase()), factor);
  Type element = elementTypeOf(op.getBase());
  return tensor::FromElementsOp::create(b, loc, op.getLr().getType(),
                                        roundTo(b, loc, rate, element));
}

//===----------------------------------------------------------------------===//
// nl.moment
//===----------------------------------------------------------------------===//

SmallVector<Value> lowerMoment(OpBuilder &b, MomentOp op) {
  Location loc = op.getLoc();
  TensorBuilder tb(b, loc);
  Type element = elementTypeOf(op.getState());
  Value decay = constantLike(b, loc, element, op.getDecay().convertToDouble());
  Value scale = constantLike(b, loc, element, op.getScale().convertToDouble());
  bool square = op.getPower() == 2;
  // The compressed term: (g + wd W)^power.
  SmallVector<Value> termInputs{op.getInput()};
  Value weightDecay;
  if (Value param = op.getParam()) {
    termInputs.push_back(param);
    weightDecay =
        constantLike(b, loc, element, op.getWeightDecay().convertToDouble());
  }
  auto term = [&](OpBuilder &nb, Location nloc, ValueRange args) {
    Value g = args[0];
    if (weightDecay)
      g = arith::AddFOp::create(
          nb, nloc, g, arith::MulFOp::create(nb, nloc, weightDecay, args[1]));
    return square ? arith::MulFOp::create(nb, nloc, g, g).getResult() : g;
  };
  auto update = [&](OpBuilder &nb, Location nloc, Value state, Value x) {
    return arith::AddFOp::create(nb, nloc,
                                 arith::MulFOp::create(nb, nloc, decay, state),
                                 arith::MulFOp::create(nb, nloc, scale, x))
        .getResult();
  };

  if (!op.getPending()) {
    SmallVector<Value> inputs{op.getState()};
    llvm::append_range(inputs, termInputs);
    return {tb.map(inputs, [&](OpBuilder &nb, Location nloc, ValueRange args) {
      return update(nb, nloc, args[0], term(nb, nloc, args.drop_front()));
    })};
  }
  // Periodic: P = pending + term; at multiples of f, S <- decay S + scale P
  // and the sum restarts.
  Value now = isMultipleOf(b, loc, op.getStep(), op.getEvery().getPeriod());
  SmallVector<Value> inputs{op.getPending()};
  llvm::append_range(inputs, termInputs);
  Value sum =
      tb.map(inputs, [&](OpBuilder &nb, Location nloc, ValueRange args) {
        return arith::AddFOp::create(nb, nloc, args[0],
                                     term(nb, nloc, args.drop_front()))
            .getResult();
      });
  Value state = tb.map({op.getState(), sum}, [&](OpBuilder &nb, Location nloc,
                                                 ValueRange args) {
    return arith::SelectOp::create(nb, nloc, now,
                                   update(nb, nloc, args[0], args[1]), args[0])
        .getResult();
  });
  Value zero = constantLike(b, loc, element, 0.0);
  Value pending = tb.map({sum}, [&](OpBuilder &nb, Location nloc,
                                    ValueRange args) {
    return arith::SelectOp::create(nb, nloc, now, zero, args[0]).getResult();
  });
  return {state, pending};
}

//===----------------------------------------------------------------------===//
// nl.param_update
//===----------------------------------------------------------------------===//

/// The step's rate in float64: the rule's lr times the lr operand.
Value stepRate(OpBuilder &b, ParamUpdateOp op, double ruleRate) {
  Value rate = f64Constant(b, op.getLoc(), ruleRate);
  if (Value lr = op.getLr())
    rate = arith::MulFOp::create(b, op.getLoc(), rate,
                                 scalarAsF64(b, op.getLoc(), lr));
  return rate;
}

/// W <- W + r m.
Value applySGD(TensorBuilder &tb, ParamUpdateOp op) {
  OpBuilder &b = tb.builder();
  Location loc = op.getLoc();
  Value rate =
      roundTo(b, loc, stepRate(b, op, 1.0), elementTypeOf(op.getParam()));
  return tb.map({op.getParam(), op.getStates()[0]},
                [&](OpBuilder &nb, Location nloc, ValueRange args) {
                  return arith::AddFOp::create(
                             nb, nloc, args[0],
                             arith::MulFOp::create(nb, nloc, rate, args[1]))
                      .getResult();
                });
}

/// torch.optim.AdamW: W <- W (1 - r wd) - (r / bc1) m / (sqrt(v) / sqrt(bc2)
/// + eps), bc_i = 1 - beta_i^t.
Value applyAdamW(TensorBuilder &tb, ParamUpdateOp op, AdamWRuleAttr rule) {
  OpBuilder &b = tb.builder();
  Location loc = op.getLoc();
  Type element = elementTypeOf(op.getParam());
  Value t = scalarAsF64(b, loc, op.getStep());
  Value one = f64Constant(b, loc, 1.0);
  auto correction = [&](double beta) {
    Value power = math::PowFOp::create(b, loc, f64Constant(b, loc, beta), t);
    return arith::SubFOp::create(b, loc, one, power).getResult();
  };
  Value rate = stepRate(b, op, rule.getLr().convertToDouble());
  Value stepSize =
      roundTo(b, loc,
              arith::DivFOp::create(
                  b, loc, rate, correction(rule.getBeta1().convertToDouble())),
              element);
  Value secondScale =
      roundTo(b, loc,
              math::SqrtOp::create(
                  b, loc, correction(rule.getBeta2().convertToDouble())),
              element);
  Value keep = roundTo(
      b, loc,
      arith::SubFOp::create(
          b, loc, one,
          arith::MulFOp::create(
              b, loc, rate,
              f64Constant(b, loc, rule.getWeightDecay().convertToDouble()))),
      element);
  Value eps = constantLike(b, loc, element, rule.getEps().convertToDouble());
  return tb.map(
      {op.getParam(), op.getStates()[0], op.getStates()[1]},
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value decayed = arith::MulFOp::create(nb, nloc, args[0], keep);
        Value denominator = arith::AddFOp::create(
            nb, nloc,
            arith::DivFOp::create(
                nb, nloc, math::SqrtOp::create(nb, nloc, args[2]), secondScale),
            eps);
        Value ratio = arith::DivFOp::create(nb, nloc, args[1], denominator);
        return arith::SubFOp::create(
                   nb, nloc, decayed,
                   arith::MulFOp::create(nb, nloc, stepSize, ratio))
            .getResult();
      });
}

/// Muon: W <- W - r NS5(m).
Value applyMuon(TensorBuilder &tb, ParamUpdateOp op, MuonRuleAttr rule) {
  OpBuilder &b = tb.builder();
  Location loc = op.getLoc();
  Value rate = roundTo(b, loc, stepRate(b, op, rule.getLr().convertToDouble()),
                       elementTypeOf(op.getParam()));
  Value direction = newtonSchulz5(tb, op.getStates()[0]);
  return tb.map({op.getParam(), direction}, [&](OpBuilder &nb, Location nloc,
                                                ValueRange args) {
    return arith::SubFOp::create(nb, nloc, args[0],
                                 arith::MulFOp::create(nb, nloc, rate, args[1]))
        .getResult();
  });
}

/// M3: W <- W - r (NS5(M1) + alpha NS5(M2)) / (sqrt(V) + eps).
Value applyM3(TensorBuilder &tb, ParamUpdateOp op, M3RuleAttr rule) {
  OpBuilder &b = tb.builder();
  Location loc = op.getLoc();
  Type element = elementTypeOf(op.getParam());
  Value rate =
      roundTo(b, loc, stepRate(b, op, rule.getLr().convertToDouble()), element);
  Value alpha =
      constantLike(b, loc, element, rule.getAlpha().convertToDouble());
  Value eps = constantLike(b, loc, element, rule.getEps().convertToDouble());
  Value fast = newtonSchulz5(tb, op.getStates()[0]);
  Value slow = newtonSchulz5(tb, op.getStates()[1]);
  return tb.map(
      {op.getParam(), fast, slow, op.getStates()[2]},
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value direction = arith::AddFOp::create(
            nb, nloc, args[1], arith::MulFOp::create(nb, nloc, alpha, args[2]));
        Value denominator = arith::AddFOp::create(
            nb, nloc, math::SqrtOp::create(nb, nloc, args[3]), eps);
        Value step = arith::DivFOp::create(
            nb, nloc, arith::MulFOp::create(nb, nloc, rate, direction),
            denominator);
        return arith::SubFOp::create(nb, nloc, args[0], step).getResult();
      });
}

Value applyRule(TensorBuilder &tb, ParamUpdateOp op) {
  return llvm::TypeSwitch<Attribute, Value>(op.getRule())
      .Case<SGDMomentumRuleAttr>([&](auto) { return applySGD(tb, op); })
      .Case<AdamWRuleAttr>([&](auto rule) { return applyAdamW(tb, op, rule); })
      .Case<MuonRuleAttr>([&](auto rule) { return applyMuon(tb, op, rule); })
      .Case<M3RuleAttr>([&](auto rule) { return applyM3(tb, op, rule); });
}

FailureOr<Value> lowerParamUpdate(OpBuilder &b, ParamUpdateOp op) {
  Location loc = op.getLoc();
  if (isa<MuonRuleAttr, M3RuleAttr>(op.getRule()) &&
      !op.getParam().getType().hasStaticShape())
    return op.emitOpError("cannot be lowered: Newton-Schulz needs a "
                          "parameter of static shape, got ")
           << op.getParam().getType();
  int64_t period = op.getEvery().getPeriod();
  if (period == 1) {
    TensorBuilder tb(b, loc);
    return applyRule(tb, op);
  }
  // Only at multiples of f: the rule (Newton-Schulz included) runs in the
  // branch that updates.
  Value now = isMultipleOf(b, loc, op.getStep(), period);
  auto branch = scf::IfOp::create(
      b, loc, now,
      [&](OpBuilder &nb, Location nloc) {
        TensorBuilder tb(nb, nloc);
        scf::YieldOp::create(nb, nloc, applyRule(tb, op));
      },
      [&](OpBuilder &nb, Location nloc) {
        scf::YieldOp::create(nb, nloc, op.getParam());
      });
  return branch.getResult(0);
}

struct LowerOptimizersPass
    : nl::impl::NLLowerOptimizersBase<LowerOptimizersPass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation()->walk([&](Operation *op) {
      if (isa<ClipGradNormOp, LRScheduleOp, MomentOp, ParamUpdateOp>(op))
        ops.push_back(op);
    });
    // In program order: each lowering reads its operands, which the
    // lowerings before it have already replaced.
    for (Operation *op : ops) {
      OpBuilder b(op);
      SmallVector<Value> replacements;
      if (auto clip = dyn_cast<ClipGradNormOp>(op)) {
        replacements = lowerClip(b, clip);
      } else if (auto schedule = dyn_cast<LRScheduleOp>(op)) {
        replacements = {lowerSchedule(b, schedule)};
      } else if (auto moment = dyn_cast<MomentOp>(op)) {
        replacements = lowerMoment(b, moment);
      } else {
        FailureOr<Value> updated = lowerParamUpdate(b, cast<ParamUpdateOp>(op));
        if (failed(updated))
          return signalPassFailure();
        replacements = {*updated};
      }
      op->replaceAllUsesWith(replacements);
      op->erase();
    }
  }
};

} // namespace
