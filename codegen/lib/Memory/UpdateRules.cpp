//===- UpdateRules.cpp - the learning rules over one chunk ----------------===//
//
// Momentum GD in closed form over a chunk, and DGD token by token: each
// takes the chunk's gradients from MemoryModel and returns the chunk-end
// state and momentum.
//
//===----------------------------------------------------------------------===//

#include "MemoryLowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace mlir::nl;

//===----------------------------------------------------------------------===//
// Momentum GD: closed form over the chunk
//===----------------------------------------------------------------------===//

void MemoryLowering::momentumUpdate(OpBuilder &b, MemoryModel &model,
                                    ArrayRef<Value> reference,
                                    ArrayRef<Value> theta,
                                    ArrayRef<Value> momentum,
                                    const ChunkInputs &in,
                                    SmallVectorImpl<Value> &newTheta,
                                    SmallVectorImpl<Value> &newMomentum) {
  TensorBuilder tb(b, loc);
  Type element = memory.getMemory().getType().getElementType();
  bool hasMomentum = !momentum.empty();
  Value count = tb.dim(in.keys, 2);
  SmallVector<OpFoldResult> bh = {tb.sizes(in.keys)[0], tb.sizes(in.keys)[1]};
  SmallVector<OpFoldResult> bhn = {bh[0], bh[1], count};

  // Reverse scan over the chunk's tokens u = n-1 .. 0:
  //   L(u) = prod_{s>u} alpha_s, Q(u) = prod_{s>u} beta_s,
  //   R(u) = sum_{t>=u} L(t) prod_{u<s<=t} beta_s;
  //   w_u = eta_u R(u) weighs g_u into theta, v_u = eta_u Q(u) into S.
  // After it: A = prod alpha, P = prod beta, c = R(-1) - L(-1).
  Value one = tb.filled(bh, element, 1.0);
  Value c0 = tb.indexConstant(0), c1 = tb.indexConstant(1);
  SmallVector<Value> scanInit = {one, one, one, tb.empty(bhn, element),
                                 tb.empty(bhn, element)};
  auto scan = scf::ForOp::create(
      b, loc, c0, count, c1, scanInit,
      [&](OpBuilder &nb, Location nloc, Value step, ValueRange carried) {
        TensorBuilder ntb(nb, nloc);
        Value last = arith::SubIOp::create(nb, nloc, count, c1);
        Value u = arith::SubIOp::create(nb, nloc, last, step);
        Value L = carried[0], Q = carried[1], R = carried[2];
        Value eta = scalarAt(nb, in.lr, u);
        auto weigh = [&](Value factor, Value into) {
          Value weight = ntb.einsum("bh,bh->bh", {eta, factor});
          auto weightType = cast<RankedTensorType>(weight.getType());
          Value expanded = tensor::ExpandShapeOp::create(
              nb, nloc,
              RankedTensorType::get(
                  {weightType.getDimSize(0), weightType.getDimSize(1), 1},
                  element),
              weight, ArrayRef<ReassociationIndices>{{0}, {1, 2}},
              SmallVector<OpFoldResult>{bh[0], bh[1], nb.getIndexAttr(1)});
          SmallVector<OpFoldResult> offsets = {nb.getIndexAttr(0),
                                               nb.getIndexAttr(0), u};
          SmallVector<OpFoldResult> sizes = {bh[0], bh[1], nb.getIndexAttr(1)};
          SmallVector<OpFoldResult> strides(3, nb.getIndexAttr(1));
          return tensor::InsertSliceOp::create(nb, nloc, expanded, into,
                                               offsets, sizes, strides)
              .getResult();
        };
        Value wTheta = weigh(R, carried[3]);
        Value wMomentum = weigh(Q, carried[4]);
        Value alpha = in.retention ? scalarAt(nb, in.retention, u) : Value();
        Value beta = hasMomentum ? scalarAt(nb, in.momentum[0], u) : Value();
        Value nextL = alpha ? ntb.einsum("bh,bh->bh", {alpha, L}) : L;
        Value nextQ = beta ? ntb.einsum("bh,bh->bh", {beta, Q}) : Q;
        // R(u-1) = L(u-1) + beta_u R(u); without momentum beta = 0.
        Value nextR =
            beta ? ntb.einsum("bh,bh,bh->bh", {nextL, beta, R},
                              [](OpBuilder &sb, Location sl, ValueRange a) {
                                Value product =
                                    arith::MulFOp::create(sb, sl, a[1], a[2]);
                                return arith::AddFOp::create(sb, sl, a[0],
                                                             product)
                                    .getResult();
                              })
                 : nextL;
        scf::YieldOp::create(nb, nloc,
                             ValueRange{nextL, nextQ, nextR, wTheta, wMomentum});
      });
  Value decayTheta = scan.getResult(0);   // A
  Value decayMomentum = scan.getResult(1); // P
  Value wTheta = scan.getResult(3), wMomentum = scan.getResult(4);
  Value carryMomentum; // c
  if (hasMomentum)
    carryMomentum = tb.map({scan.getResult(2), scan.getResult(0)},
                           [](OpBuilder &sb, Location sl, ValueRange a) {
                             return arith::SubFOp::create(sb, sl, a[0], a[1])
                                 .getResult();
                           });

  // Gradients at the chunk's reference (start) state.
  MemoryModel::Forward forward = model.forward(reference, in.keys);
  Value dOutput = model.objectiveGradient(forward.output, in.values);
  SmallVector<MemoryModel::ParamGradient> grads =
      model.backward(reference, forward, dOutput);

  auto weightedSum = [&](const MemoryModel::ParamGradient &grad, Value w) {
    if (grad.vector)
      return tb.einsum("bhtd,bht->bhd", {grad.vector, w});
    return tb.einsum("bhtr,bhtc,bht->bhrc", {grad.rows, grad.cols, w});
  };
  for (auto [index, param] : llvm::enumerate(theta)) {
    std::string spec = paramSpec(param).str();
    Value sumTheta = weightedSum(grads[index], wTheta);
    if (!hasMomentum) {
      // theta_e = A theta_s - sum_u w_u g_u
      newTheta.push_back(tb.einsum(
          spec + ",bh," + spec + "->" + spec, {param, decayTheta, sumTheta},
          [](OpBuilder &sb, Location sl, ValueRange a) {
            Value decayed = arith::MulFOp::create(sb, sl, a[0], a[1]);
            return arith::SubFOp::create(sb, sl, decayed, a[2]).getResult();
          }));
      continue;
    }
    Value sumMomentum = weightedSum(grads[index], wMomentum);
    Value s = momentum[index];
    newTheta.push_back(tb.einsum(
        spec + ",bh," + spec + ",bh," + spec + "->" + spec,
        {param, decayTheta, s, carryMomentum, sumTheta},
        [](OpBuilder &sb, Location sl, ValueRange a) {
          Value decayed = arith::MulFOp::create(sb, sl, a[0], a[1]);
          Value carried = arith::MulFOp::create(sb, sl, a[2], a[3]);
          Value sum = arith::AddFOp::create(sb, sl, decayed, carried);
          return arith::SubFOp::create(sb, sl, sum, a[4]).getResult();
        }));
    newMomentum.push_back(tb.einsum(
        spec + ",bh," + spec + "->" + spec, {s, decayMomentum, sumMomentum},
        [](OpBuilder &sb, Location sl, ValueRange a) {
          Value decayed = arith::MulFOp::create(sb, sl, a[0], a[1]);
          return arith::SubFOp::create(sb, sl, decayed, a[2]).getResult();
        }));
  }
}

//===----------------------------------------------------------------------===//
// DGD: the in-chunk token loop
//===----------------------------------------------------------------------===//

void MemoryLowering::dgdUpdate(OpBuilder &b, MemoryModel &model,
                               ArrayRef<Value> reference,
                               ArrayRef<Value> theta, ArrayRef<Value> momentum,
                               const ChunkInputs &in,
                               SmallVectorImpl<Value> &newTheta,
                               SmallVectorImpl<Value> &newMomentum) {
  TensorBuilder tb(b, loc);
  bool normalized =
      cast<DGDAttr>(memory.getRule()).getStepSize() == StepSize::Normalized;
  MemoryModel::Forward forward = model.forward(reference, in.keys);
  Value dOutput = model.objectiveGradient(forward.output, in.values);
  SmallVector<MemoryModel::ParamGradient> grads =
      model.backward(reference, forward, dOutput);
  Value count = tb.dim(in.keys, 2);
  Value c0 = tb.indexConstant(0), c1 = tb.indexConstant(1);
  size_t numParams = theta.size();
  bool hasMomentum = !momentum.empty();
  SmallVector<Value> carried(theta);
  llvm::append_range(carried, momentum);
  auto sub = [](OpBuilder &sb, Location sl, Value x, Value y) {
    return arith::SubFOp::create(sb, sl, x, y).getResult();
  };
  auto mul = [](OpBuilder &sb, Location sl, Value x, Value y) {
    return arith::MulFOp::create(sb, sl, x, y).getResult();
  };
  auto loop = scf::ForOp::create(
      b, loc, c0, count, c1, carried,
      [&](OpBuilder &nb, Location nloc, Value u, ValueRange current) {
        TensorBuilder ntb(nb, nloc);
        Value eta = scalarAt(nb, in.lr, u);
        if (normalized)
          eta = ntb.map(eta, [](OpBuilder &sb, Location sl, ValueRange a) {
            Value one = arith::ConstantOp::create(
                sb, sl, a[0].getType(), sb.getFloatAttr(a[0].getType(), 1.0));
            return arith::DivFOp::create(
                       sb, sl, a[0], arith::AddFOp::create(sb, sl, one, a[0]))
                .getResult();
          });
        Value alpha = in.retention ? scalarAt(nb, in.retention, u)
                                   : ntb.map(eta, [](OpBuilder &sb, Location sl,
                                                     ValueRange a) {
                                       return arith::ConstantOp::create(
                                                  sb, sl, a[0].getType(),
                                                  sb.getFloatAttr(
                                                      a[0].getType(), 1.0))
                                           .getResult();
                                     });
        Value beta = hasMomentum ? scalarAt(nb, in.momentum.front(), u)
                                 : Value();
        SmallVector<Value> next, nextMomentum;
        for (unsigned index = 0; index < numParams; ++index) {
          Value param = current[index];
          const MemoryModel::ParamGradient &grad = grads[index];
          if (grad.vector) {
            Value g = tokenAt(nb, grad.vector, u);
            if (hasMomentum) {
              // S = beta S + g replaces g.
              g = ntb.einsum("bhd,bh,bhd->bhd",
                             {current[numParams + index], beta, g},
                             [&](OpBuilder &sb, Location sl, ValueRange a) {
                               return arith::AddFOp::create(
                                          sb, sl, mul(sb, sl, a[0], a[1]), a[2])
                                   .getResult();
                             });
              nextMomentum.push_back(g);
            }
            // alpha gamma - eta g
            next.push_back(ntb.einsum(
                "bhd,bh,bh,bhd->bhd", {param, alpha, eta, g},
                [&](OpBuilder &sb, Location sl, ValueRange a) {
                  return sub(sb, sl, mul(sb, sl, a[0], a[1]),
                             mul(sb, sl, a[2], a[3]));
                }));
            continue;
          }
          Value rows = tokenAt(nb, grad.rows, u);
          Value cols = tokenAt(nb, grad.cols, u);
          if (hasMomentum) {
            // S = beta S + r c^T, a full matrix; then alpha W - eta (W k)
            // k^T (rank-1 parameters) - eta S.
            Value s = ntb.einsum(
                "bhrc,bh,bhr,bhc->bhrc",
                {current[numParams + index], beta, rows, cols},
                [&](OpBuilder &sb, Location sl, ValueRange a) {
                  return arith::AddFOp::create(sb, sl, mul(sb, sl, a[0], a[1]),
                                               mul(sb, sl, a[2], a[3]))
                      .getResult();
                });
            nextMomentum.push_back(s);
            Value decayed = ntb.einsum(
                "bhrc,bh,bh,bhrc->bhrc", {param, alpha, eta, s},
                [&](OpBuilder &sb, Location sl, ValueRange a) {
                  return sub(sb, sl, mul(sb, sl, a[0], a[1]),
                             mul(sb, sl, a[2], a[3]));
                });
            if (model.takesRankOneTerm(index)) {
              Value wk = ntb.einsum("bhrc,bhc->bhr", {param, cols});
              decayed = ntb.einsum(
                  "bhrc,bh,bhr,bhc->bhrc", {decayed, eta, wk, cols},
                  [&](OpBuilder &sb, Location sl, ValueRange a) {
                    return sub(sb, sl, a[0],
                               mul(sb, sl, a[1], mul(sb, sl, a[2], a[3])));
                  });
            }
            next.push_back(decayed);
            continue;
          }
          if (model.takesRankOneTerm(index)) {
            // W (alpha I - eta k k^T) - eta g = alpha W - eta (W k + r) k^T
            // with g = r k^T: the key is the gradient's column factor.
            Value wk = ntb.einsum("bhrc,bhc->bhr", {param, cols});
            rows = ntb.einsum("bhr,bhr->bhr", {wk, rows},
                              [](OpBuilder &sb, Location sl, ValueRange a) {
                                return arith::AddFOp::create(sb, sl, a[0], a[1])
                                    .getResult();
                              });
          }
          next.push_back(ntb.einsum(
              "bhrc,bh,bh,bhr,bhc->bhrc", {param, alpha, eta, rows, cols},
              [&](OpBuilder &sb, Location sl, ValueRange a) {
                return sub(sb, sl, mul(sb, sl, a[0], a[1]),
                           mul(sb, sl, a[2], mul(sb, sl, a[3], a[4])));
              }));
        }
        llvm::append_range(next, nextMomentum);
        scf::YieldOp::create(nb, nloc, next);
      });
  for (auto [index, result] : llvm::enumerate(loop.getResults()))
    (index < numParams ? newTheta : newMomentum).push_back(result);
}
