//===- MemoryModel.cpp - a memory's model, forward and backward -----------===//

#include "MemoryModel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace mlir::nl;

LogicalResult MemoryModel::verifySupported(MemoryOp memory) {
  if (auto mlp = dyn_cast<MLPModelAttr>(memory.getModel()))
    if (mlp.getNorm() == MemoryNorm::Pre)
      return memory.emitOpError(
          "cannot be compiled yet: MLP memories with norm = pre are not "
          "implemented by the code generator (norm = none and post are)");
  return success();
}

MemoryModel::MemoryModel(TensorBuilder &tb, MemoryOp memory)
    : tb(tb), memory(memory), model(memory.getModel()),
      element(memory.getMemory().getType().getElementType()) {}

Value MemoryModel::activation(Value z) {
  Activation kind = cast<MLPModelAttr>(model).getActivation();
  return tb.map(z, [&](OpBuilder &b, Location loc, ValueRange args) {
    switch (kind) {
    case Activation::SiLU:
      return siluScalar(b, loc, args[0]);
    case Activation::GELU:
      return geluScalar(b, loc, args[0]);
    case Activation::Sigmoid:
      return sigmoidScalar(b, loc, args[0]);
    case Activation::Softplus:
      return softplusScalar(b, loc, args[0]);
    }
    llvm_unreachable("unknown activation");
  });
}

Value MemoryModel::activationDerivative(Value z) {
  Activation kind = cast<MLPModelAttr>(model).getActivation();
  return tb.map(z, [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
    Value x = args[0];
    Value one = arith::ConstantOp::create(b, loc, element,
                                          b.getFloatAttr(element, 1.0));
    switch (kind) {
    case Activation::SiLU: {
      // s(1 + x(1 - s)), s = sigmoid(x).
      Value s = sigmoidScalar(b, loc, x);
      Value oneMinus = arith::SubFOp::create(b, loc, one, s);
      Value inner = arith::AddFOp::create(
          b, loc, one, arith::MulFOp::create(b, loc, x, oneMinus));
      return arith::MulFOp::create(b, loc, s, inner);
    }
    case Activation::GELU: {
      // Phi(x) + x phi(x).
      Value half = arith::ConstantOp::create(b, loc, element,
                                             b.getFloatAttr(element, 0.5));
      Value invSqrt2 = arith::ConstantOp::create(
          b, loc, element, b.getFloatAttr(element, 0.70710678118654752440));
      Value invSqrt2Pi = arith::ConstantOp::create(
          b, loc, element, b.getFloatAttr(element, 0.39894228040143267794));
      Value erf = math::ErfOp::create(
          b, loc, arith::MulFOp::create(b, loc, x, invSqrt2));
      Value cdf = arith::MulFOp::create(
          b, loc, half, arith::AddFOp::create(b, loc, one, erf));
      Value negHalfSquare = arith::NegFOp::create(
          b, loc,
          arith::MulFOp::create(b, loc, half,
                                arith::MulFOp::create(b, loc, x, x)));
      Value pdf = arith::MulFOp::create(b, loc, invSqrt2Pi,
                                        math::ExpOp::create(b, loc, negHalfSquare));
      return arith::AddFOp::create(b, loc, cdf,
                                   arith::MulFOp::create(b, loc, x, pdf));
    }
    case Activation::Sigmoid: {
      Value s = sigmoidScalar(b, loc, x);
      return arith::MulFOp::create(b, loc, s,
                                   arith::SubFOp::create(b, loc, one, s));
    }
    case Activation::Softplus:
      return sigmoidScalar(b, loc, x);
    }
    llvm_unreachable("unknown activation");
  });
}

static Value add(TensorBuilder &tb, StringRef spec, Value a, Value b) {
  return tb.einsum(spec, {a, b}, [](OpBuilder &nb, Location loc, ValueRange x) {
    return arith::AddFOp::create(nb, loc, x[0], x[1]).getResult();
  });
}

MemoryModel::Forward MemoryModel::forward(ArrayRef<Value> params, Value x) {
  Forward result;
  if (isa<LinearModelAttr>(model)) {
    result.layerInputs.push_back(x);
    result.output = tb.einsum("bhti,bhoi->bhto", {x, params[0]});
    return result;
  }
  auto mlp = cast<MLPModelAttr>(model);
  int64_t depth = mlp.getDepth();
  Value a = x;
  result.layerInputs.push_back(a);
  for (int64_t layer = 0; layer + 1 < depth; ++layer) {
    Value z = tb.einsum("bhti,bhki->bhtk", {a, params[layer]});
    result.preActivations.push_back(z);
    a = activation(z);
    result.layerInputs.push_back(a);
  }
  Value branch = tb.einsum("bhtk,bhok->bhto", {a, params[depth - 1]});
  unsigned next = depth;
  Value skip;
  if (mlp.getResidual() == Residual::Learned)
    skip = tb.einsum("bhti,bhoi->bhto", {x, params[next++]});
  else if (mlp.getResidual() == Residual::Identity)
    skip = x;
  if (mlp.getNorm() == MemoryNorm::Post) {
    // LayerNorm over the output features, learnt scale, no bias.
    Value width = tb.floatConstant(
        element, cast<RankedTensorType>(branch.getType()).getShape().back());
    Value epsilon = tb.floatConstant(element, kMemoryLayerNormEpsilon);
    auto meanOf = [&](Value v) {
      Value sum = tb.sumLastDim(v);
      return tb.map(sum, [&](OpBuilder &b, Location loc, ValueRange args) {
        return arith::DivFOp::create(b, loc, args[0], width).getResult();
      });
    };
    Value mean = meanOf(branch);
    Value centered = tb.einsum(
        "bhto,bht->bhto", {branch, mean},
        [](OpBuilder &b, Location loc, ValueRange args) {
          return arith::SubFOp::create(b, loc, args[0], args[1]).getResult();
        });
    Value variance = meanOf(tb.map(centered, [](OpBuilder &b, Location loc,
                                                ValueRange args) {
      return arith::MulFOp::create(b, loc, args[0], args[0]).getResult();
    }));
    result.inverseStd =
        tb.map(variance, [&](OpBuilder &b, Location loc, ValueRange args) {
          return math::RsqrtOp::create(
                     b, loc, arith::AddFOp::create(b, loc, args[0], epsilon))
              .getResult();
        });
    result.normalized = tb.einsum("bhto,bht->bhto",
                                  {centered, result.inverseStd});
    branch = tb.einsum("bhto,bho->bhto",
                       {result.normalized, normScale(params[next])});
  }
  result.output = skip ? add(tb, "bhto,bhto->bhto", branch, skip) : branch;
  return result;
}

/// The LayerNorm's multiplier: its state plus the model's norm_offset
/// (titans-pytorch keeps gamma and scales by gamma + 1). The gradient with
/// respect to the state is the gradient with respect to the multiplier.
Value MemoryModel::normScale(Value state) {
  double offset = cast<MLPModelAttr>(model).getNormOffset().convertToDouble();
  if (offset == 0.0)
    return state;
  Value shift = tb.floatConstant(element, offset);
  return tb.map(state, [&](OpBuilder &b, Location loc, ValueRange args) {
    return arith::AddFOp::create(b, loc, args[0], shift).getResult();
  });
}

Value MemoryModel::objectiveGradient(Value output, Value target) {
  if (isa<DotObjectiveAttr>(memory.getObjective()))
    return tb.map(target, [](OpBuilder &b, Location loc, ValueRange args) {
      return arith::NegFOp::create(b, loc, args[0]).getResult();
    });
  auto l2 = cast<L2ObjectiveAttr>(memory.getObjective());
  double factor = 2.0;
  if (l2.getReduction() == Reduction::Mean)
    factor /= memory.getMemory().getType().getOutputWidth();
  if (l2.getHalf())
    factor *= 0.5;
  Value scale = tb.floatConstant(element, factor);
  return tb.map({output, target}, [&](OpBuilder &b, Location loc,
                                      ValueRange args) {
    Value error = arith::SubFOp::create(b, loc, args[0], args[1]);
    return arith::MulFOp::create(b, loc, scale, error).getResult();
  });
}

SmallVector<MemoryModel::ParamGradient>
MemoryModel::backward(ArrayRef<Value> params, const Forward &fwd,
                      Value dOutput) {
  SmallVector<ParamGradient> grads(params.size());
  Value x = fwd.layerInputs.front();
  if (isa<LinearModelAttr>(model)) {
    grads[0] = {dOutput, x, Value()};
    return grads;
  }
  auto mlp = cast<MLPModelAttr>(model);
  int64_t depth = mlp.getDepth();
  unsigned next = depth;
  if (mlp.getResidual() == Residual::Learned)
    grads[next++] = {dOutput, x, Value()};
  Value delta = dOutput;
  if (mlp.getNorm() == MemoryNorm::Post) {
    Value gamma = normScale(params[next]);
    grads[next] = {Value(), Value(),
                   tb.einsum("bhto,bhto->bhto", {dOutput, fwd.normalized})};
    // d(normalized) = g * gamma; dy = (dn - mean(dn) - n mean(dn n)) / std.
    Value dNormalized = tb.einsum("bhto,bho->bhto", {dOutput, gamma});
    Value width = tb.floatConstant(
        element, cast<RankedTensorType>(dOutput.getType()).getShape().back());
    auto meanOf = [&](Value v) {
      return tb.map(tb.sumLastDim(v),
                    [&](OpBuilder &b, Location loc, ValueRange args) {
                      return arith::DivFOp::create(b, loc, args[0], width)
                          .getResult();
                    });
    };
    Value meanD = meanOf(dNormalized);
    Value meanDN =
        meanOf(tb.einsum("bhto,bhto->bhto", {dNormalized, fwd.normalized}));
    delta = tb.einsum(
        "bhto,bhto,bht,bht,bht->bhto",
        {dNormalized, fwd.normalized, meanD, meanDN, fwd.inverseStd},
        [](OpBuilder &b, Location loc, ValueRange a) {
          Value centered = arith::SubFOp::create(b, loc, a[0], a[2]);
          Value projected = arith::MulFOp::create(b, loc, a[1], a[3]);
          Value diff = arith::SubFOp::create(b, loc, centered, projected);
          return arith::MulFOp::create(b, loc, diff, a[4]).getResult();
        });
  }
  for (int64_t layer = depth - 1; layer >= 0; --layer) {
    grads[layer] = {delta, fwd.layerInputs[layer], Value()};
    if (layer == 0)
      break;
    Value dInput = tb.einsum("bhto,bhok->bhtk", {delta, params[layer]});
    delta = tb.einsum("bhtk,bhtk->bhtk",
                      {dInput, activationDerivative(fwd.preActivations[layer - 1])});
  }
  return grads;
}

bool MemoryModel::takesRankOneTerm(unsigned param) const {
  if (isa<LinearModelAttr>(model))
    return param == 0;
  auto mlp = cast<MLPModelAttr>(model);
  return param == 0 || (mlp.getResidual() == Residual::Learned &&
                        param == static_cast<unsigned>(mlp.getDepth()));
}
