//===- LowerOptimizers.cpp - nl-lower-optimizers --------------------------===//
//
// The optimizer levels as linalg/arith on tensors, each exactly as its op or
// rule attribute defines it (dialect reference; test/reference/optimizers.py
// implements the same definitions in PyTorch):
//   - nl.clip_grad_norm: one float64 sum of squares per gradient, one norm
//     (the factor and the op's norm result);
//   - nl.lr_schedule: float64 scalar arithmetic on the step count;
//   - nl.moment: one element-wise update (periodic: a select on t % f);
//   - nl.param_update: the rule's element-wise update, with Newton-Schulz
//     contractions for Muon and M3 (periodic: a select on t % f).
// Step-dependent scalars (bias corrections, rates, norms) are one-element
// tensors computed in float64 by linalg.generic ops and rounded once to the
// element type, as torch.optim does in Python; none is extracted outside a
// linalg op (OptimizerMath.h).
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

/// An element-type constant (made inside the body that uses it, so that a
/// kernel formed around the body needs nothing from the host).
Value constantLike(OpBuilder &b, Location loc, Type type, double value) {
  return arith::ConstantOp::create(b, loc, type, b.getFloatAttr(type, value));
}

//===----------------------------------------------------------------------===//
// nl.clip_grad_norm
//===----------------------------------------------------------------------===//

/// The float64 norm sqrt(sum of every gradient's squares), tensor<1xf64>.
Value globalNormF64(TensorBuilder &tb, ValueRange grads) {
  SmallVector<Value> sums;
  for (Value grad : grads)
    sums.push_back(sumOfSquaresF64(tb, grad));
  return scalarGeneric(
      tb, sums, tb.builder().getF64Type(),
      [&](OpBuilder &nb, Location loc, ValueRange args) {
        // args: the sums, then the (unused) output.
        Value total = args[0];
        for (Value sum : args.slice(1, sums.size() - 1))
          total = arith::AddFOp::create(nb, loc, total, sum);
        return math::SqrtOp::create(nb, loc, total).getResult();
      });
}

/// torch.nn.utils.clip_grad_norm_: each gradient times min(1, max_norm /
/// (norm + 1e-6)), the factor computed once in float64.
SmallVector<Value> clipByNorm(TensorBuilder &tb, ValueRange grads, Value norm,
                              double maxNorm) {
  Value coefficient = scalarGeneric(
      tb, norm, tb.builder().getF64Type(),
      [&](OpBuilder &nb, Location loc, ValueRange args) {
        Value ratio = arith::DivFOp::create(
            nb, loc, f64Constant(nb, loc, maxNorm),
            arith::AddFOp::create(nb, loc, args[0],
                                  f64Constant(nb, loc, 1e-6)));
        return arith::MinimumFOp::create(nb, loc, ratio,
                                         f64Constant(nb, loc, 1.0))
            .getResult();
      });
  SmallVector<Value> clipped;
  for (Value grad : grads) {
    Type element = elementTypeOf(grad);
    clipped.push_back(mapWithScalars(
        tb, grad, coefficient,
        [&](OpBuilder &nb, Location loc, ValueRange args) {
          Value factor = roundTo(nb, loc, args[1], element);
          return arith::MulFOp::create(nb, loc, args[0], factor).getResult();
        }));
  }
  return clipped;
}

/// The clipped gradients (the gradients themselves without max_norm), then
/// the norm: one computation for both. The norm is null when nothing reads
/// it (and not computed when nothing else needs it either).
SmallVector<Value> lowerClip(OpBuilder &b, ClipGradNormOp op) {
  TensorBuilder tb(b, op.getLoc());
  std::optional<llvm::APFloat> maxNorm = op.getMaxNorm();
  bool normUsed = !op.getTotalNorm().use_empty();
  SmallVector<Value> results(op.getGrads());
  Value normResult;
  if (maxNorm || normUsed) {
    Value norm = globalNormF64(tb, op.getGrads());
    if (maxNorm)
      results = clipByNorm(tb, op.getGrads(), norm, maxNorm->convertToDouble());
    Type normType = elementTypeOf(op.getTotalNorm());
    if (normUsed && normType != b.getF64Type())
      norm = scalarGeneric(tb, norm, normType,
                           [&](OpBuilder &nb, Location loc, ValueRange args) {
                             return roundTo(nb, loc, args[0], normType);
                           });
    if (normUsed)
      normResult = toZeroD(tb, norm);
  }
  results.push_back(normResult);
  return results;
}

//===----------------------------------------------------------------------===//
// nl.lr_schedule
//===----------------------------------------------------------------------===//

Value lowerSchedule(OpBuilder &b, LRScheduleOp op) {
  TensorBuilder tb(b, op.getLoc());
  auto warmup = static_cast<double>(static_cast<int64_t>(op.getWarmup()));
  auto total = static_cast<double>(static_cast<int64_t>(op.getTotal()));
  double minRatio = op.getMinRatio().convertToDouble();
  Type element = elementTypeOf(op.getBase());
  Value rate = scalarGeneric(
      tb, {op.getBase(), op.getStep()}, element,
      [&](OpBuilder &nb, Location loc, ValueRange args) {
        auto c = [&](double value) { return f64Constant(nb, loc, value); };
        Value t = toF64(nb, loc, args[1]);
        Value factor = c(1.0);
        if (total > 0) {
          // p = clamp((t - warmup) / (total - warmup), 0, 1)
          Value progress = arith::DivFOp::create(
              nb, loc, arith::SubFOp::create(nb, loc, t, c(warmup)),
              c(total - warmup));
          progress = arith::MinimumFOp::create(nb, loc, progress, c(1.0));
          progress = arith::MaximumFOp::create(nb, loc, progress, c(0.0));
          // min_ratio + (1 - min_ratio) (1 + cos(pi p)) / 2
          Value cosine = math::CosOp::create(
              nb, loc,
              arith::MulFOp::create(nb, loc, c(llvm::numbers::pi), progress));
          Value half = arith::MulFOp::create(
              nb, loc, c(0.5), arith::AddFOp::create(nb, loc, c(1.0), cosine));
          factor = arith::AddFOp::create(
              nb, loc, c(minRatio),
              arith::MulFOp::create(nb, loc, c(1.0 - minRatio), half));
        }
        if (warmup > 0) {
          Value inWarmup = arith::CmpFOp::create(
              nb, loc, arith::CmpFPredicate::OLE, t, c(warmup));
          factor = arith::SelectOp::create(
              nb, loc, inWarmup, arith::DivFOp::create(nb, loc, t, c(warmup)),
              factor);
        }
        Value rate =
            arith::MulFOp::create(nb, loc, toF64(nb, loc, args[0]), factor);
        return roundTo(nb, loc, rate, element);
      });
  return toZeroD(tb, rate);
}

//===----------------------------------------------------------------------===//
// nl.moment
//===----------------------------------------------------------------------===//

SmallVector<Value> lowerMoment(OpBuilder &b, MomentOp op) {
  TensorBuilder tb(b, op.getLoc());
  Type element = elementTypeOf(op.getState());
  double decay = op.getDecay().convertToDouble();
  double scale = op.getScale().convertToDouble();
  double weightDecay = op.getWeightDecay().convertToDouble();
  bool square = op.getPower() == 2;
  Value param = op.getParam();
  // The compressed term (g + wd W)^power of the body's arguments
  // [g, W if decayed].
  auto term = [&](OpBuilder &nb, Location loc, ValueRange args) {
    Value g = args[0];
    if (param)
      g = arith::AddFOp::create(
          nb, loc, g,
          arith::MulFOp::create(
              nb, loc, constantLike(nb, loc, element, weightDecay), args[1]));
    return square ? arith::MulFOp::create(nb, loc, g, g).getResult() : g;
  };
  auto update = [&](OpBuilder &nb, Location loc, Value state, Value x) {
    Value kept = arith::MulFOp::create(
        nb, loc, constantLike(nb, loc, element, decay), state);
    Value added = arith::MulFOp::create(
        nb, loc, constantLike(nb, loc, element, scale), x);
    return arith::AddFOp::create(nb, loc, kept, added).getResult();
  };
  SmallVector<Value> termInputs{op.getInput()};
  if (param)
    termInputs.push_back(param);

  if (!op.getPending()) {
    SmallVector<Value> inputs{op.getState()};
    llvm::append_range(inputs, termInputs);
    return {tb.map(inputs, [&](OpBuilder &nb, Location loc, ValueRange args) {
      return update(nb, loc, args[0], term(nb, loc, args.drop_front()));
    })};
  }
  // Periodic: P = pending + term; at multiples of f (the step count, a
  // broadcast input), S <- decay S + scale P and the sum restarts.
  int64_t period = op.getEvery().getPeriod();
  SmallVector<Value> inputs{op.getPending()};
  llvm::append_range(inputs, termInputs);
  Value sum = tb.map(inputs, [&](OpBuilder &nb, Location loc, ValueRange args) {
    return arith::AddFOp::create(nb, loc, args[0],
                                 term(nb, loc, args.drop_front()))
        .getResult();
  });
  Value state = mapWithScalars(
      tb, {op.getState(), sum}, op.getStep(),
      [&](OpBuilder &nb, Location loc, ValueRange args) {
        Value now = isMultipleOf(nb, loc, args[2], period);
        return arith::SelectOp::create(
                   nb, loc, now, update(nb, loc, args[0], args[1]), args[0])
            .getResult();
      });
  Value pending = mapWithScalars(
      tb, sum, op.getStep(), [&](OpBuilder &nb, Location loc, ValueRange args) {
        Value now = isMultipleOf(nb, loc, args[1], period);
        return arith::SelectOp::create(
                   nb, loc, now, constantLike(nb, loc, element, 0.0), args[0])
            .getResult();
      });
  return {state, pending};
}

//===----------------------------------------------------------------------===//
// nl.param_update
//===----------------------------------------------------------------------===//

/// The step's rate in float64 as a 0-D tensor: the rule's lr times the lr
/// operand (1 without it).
Value stepRate(TensorBuilder &tb, ParamUpdateOp op, double ruleRate) {
  OpBuilder &b = tb.builder();
  if (!op.getLr())
    return tb.filled({b.getIndexAttr(1)}, b.getF64Type(), ruleRate);
  return scalarGeneric(tb, op.getLr(), b.getF64Type(),
                       [&](OpBuilder &nb, Location loc, ValueRange args) {
                         return arith::MulFOp::create(
                                    nb, loc, f64Constant(nb, loc, ruleRate),
                                    toF64(nb, loc, args[0]))
                             .getResult();
                       });
}

/// W <- W + r m.
Value applySGD(TensorBuilder &tb, ParamUpdateOp op) {
  Type element = elementTypeOf(op.getParam());
  return mapWithScalars(
      tb, {op.getParam(), op.getStates()[0]}, stepRate(tb, op, 1.0),
      [&](OpBuilder &nb, Location loc, ValueRange args) {
        Value rate = roundTo(nb, loc, args[2], element);
        return arith::AddFOp::create(
                   nb, loc, args[0],
                   arith::MulFOp::create(nb, loc, rate, args[1]))
            .getResult();
      });
}

/// torch.optim.AdamW: W <- W (1 - r wd) - (r / bc1) m / (sqrt(v) / sqrt(bc2)
/// + eps), bc_i = 1 - beta_i^t.
Value applyAdamW(TensorBuilder &tb, ParamUpdateOp op, AdamWRuleAttr rule) {
  Type element = elementTypeOf(op.getParam());
  double beta1 = rule.getBeta1().convertToDouble();
  double beta2 = rule.getBeta2().convertToDouble();
  double eps = rule.getEps().convertToDouble();
  double weightDecay = rule.getWeightDecay().convertToDouble();
  Value rate = stepRate(tb, op, rule.getLr().convertToDouble());
  // The three coefficients of the step, from (r, t), each rounded once.
  auto coefficient = [&](auto formula) {
    return scalarGeneric(
        tb, {rate, op.getStep()}, element,
        [&](OpBuilder &nb, Location loc, ValueRange args) {
          Value t = toF64(nb, loc, args[1]);
          auto correction = [&](double beta) {
            Value power =
                math::PowFOp::create(nb, loc, f64Constant(nb, loc, beta), t);
            return arith::SubFOp::create(nb, loc, f64Constant(nb, loc, 1.0),
                                         power)
                .getResult();
          };
          return roundTo(nb, loc, formula(nb, loc, args[0], correction),
                         element);
        });
  };
  Value stepSize = coefficient(
      [&](OpBuilder &nb, Location loc, Value r, auto correction) -> Value {
        return arith::DivFOp::create(nb, loc, r, correction(beta1));
      });
  Value secondScale = coefficient(
      [&](OpBuilder &nb, Location loc, Value, auto correction) -> Value {
        return math::SqrtOp::create(nb, loc, correction(beta2));
      });
  Value keep = coefficient([&](OpBuilder &nb, Location loc, Value r,
                               auto) -> Value {
    return arith::SubFOp::create(
        nb, loc, f64Constant(nb, loc, 1.0),
        arith::MulFOp::create(nb, loc, r, f64Constant(nb, loc, weightDecay)));
  });
  return mapWithScalars(
      tb, {op.getParam(), op.getStates()[0], op.getStates()[1]},
      {stepSize, secondScale, keep},
      [&](OpBuilder &nb, Location loc, ValueRange args) {
        Value decayed = arith::MulFOp::create(nb, loc, args[0], args[5]);
        Value denominator = arith::AddFOp::create(
            nb, loc,
            arith::DivFOp::create(
                nb, loc, math::SqrtOp::create(nb, loc, args[2]), args[4]),
            constantLike(nb, loc, element, eps));
        Value ratio = arith::DivFOp::create(nb, loc, args[1], denominator);
        return arith::SubFOp::create(
                   nb, loc, decayed,
                   arith::MulFOp::create(nb, loc, args[3], ratio))
            .getResult();
      });
}

/// Muon: W <- W - r NS5(m).
Value applyMuon(TensorBuilder &tb, ParamUpdateOp op, MuonRuleAttr rule) {
  Type element = elementTypeOf(op.getParam());
  Value direction = newtonSchulz5(tb, op.getStates()[0]);
  return mapWithScalars(
      tb, {op.getParam(), direction},
      stepRate(tb, op, rule.getLr().convertToDouble()),
      [&](OpBuilder &nb, Location loc, ValueRange args) {
        Value rate = roundTo(nb, loc, args[2], element);
        return arith::SubFOp::create(
                   nb, loc, args[0],
                   arith::MulFOp::create(nb, loc, rate, args[1]))
            .getResult();
      });
}

/// M3: W <- W - r (NS5(M1) + alpha NS5(M2)) / (sqrt(V) + eps).
Value applyM3(TensorBuilder &tb, ParamUpdateOp op, M3RuleAttr rule) {
  Type element = elementTypeOf(op.getParam());
  double alpha = rule.getAlpha().convertToDouble();
  double eps = rule.getEps().convertToDouble();
  Value fast = newtonSchulz5(tb, op.getStates()[0]);
  Value slow = newtonSchulz5(tb, op.getStates()[1]);
  return mapWithScalars(
      tb, {op.getParam(), fast, slow, op.getStates()[2]},
      stepRate(tb, op, rule.getLr().convertToDouble()),
      [&](OpBuilder &nb, Location loc, ValueRange args) {
        Value rate = roundTo(nb, loc, args[4], element);
        Value direction = arith::AddFOp::create(
            nb, loc, args[1],
            arith::MulFOp::create(
                nb, loc, constantLike(nb, loc, element, alpha), args[2]));
        Value denominator = arith::AddFOp::create(
            nb, loc, math::SqrtOp::create(nb, loc, args[3]),
            constantLike(nb, loc, element, eps));
        Value step = arith::DivFOp::create(
            nb, loc, arith::MulFOp::create(nb, loc, rate, direction),
            denominator);
        return arith::SubFOp::create(nb, loc, args[0], step).getResult();
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
  if (isa<MuonRuleAttr, M3RuleAttr>(op.getRule()) &&
      !op.getParam().getType().hasStaticShape())
    return op.emitOpError("cannot be lowered: Newton-Schulz needs a "
                          "parameter of static shape, got ")
           << op.getParam().getType();
  TensorBuilder tb(b, op.getLoc());
  Value updated = applyRule(tb, op);
  int64_t period = op.getEvery().getPeriod();
  if (period == 1)
    return updated;
  // Updated only at multiples of f: an element-wise select on the step count
  // (no branch on a value the host would have to read).
  return mapWithScalars(tb, {op.getParam(), updated}, op.getStep(),
                        [&](OpBuilder &nb, Location loc, ValueRange args) {
                          Value now = isMultipleOf(nb, loc, args[2], period);
                          return arith::SelectOp::create(nb, loc, now, args[1],
                                                         args[0])
                              .getResult();
                        });
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
