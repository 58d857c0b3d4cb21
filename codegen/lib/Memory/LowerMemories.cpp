//===- LowerMemories.cpp - nl-lower-memories ------------------------------===//
//
// Every nl.memory with its nl.update, nl.read and nl.final_state ops becomes
// its chunk-parallel form: one scf.for over the ceil(T/C) chunks carrying
// the state (and momentum) as tensors. Per chunk:
//   1. the model's forward and backward at the chunk's reference state, for
//      all tokens of the chunk at once (batched contractions, MemoryModel);
//   2. the learning rule:
//      - momentum GD: the chunk-end state is linear in the per-token
//        gradients, theta_e = A theta_s + c S_s - sum_u w_u g_u and
//        S_e = P S_s - sum_u v_u g_u, with coefficients from one reverse scan
//        over the chunk's rates; each sum is one contraction over tokens;
//      - DGD: its rank-1 term reads the current state, so the chunk applies
//        it token by token (the in-chunk loop), with gradients from step 1;
//      - chunk-aggregated: one update per complete chunk from the eta-weighted
//        gradient sum at the linearisation reference state;
//   3. the reads of the chunk: the chunk-start state, and for `after` reads
//      the chunk-end state at the last token of a complete chunk.
//
//===----------------------------------------------------------------------===//

#include "../DimensionClasses.h"
#include "MemoryModel.h"
#include "nl/Analysis/LevelAnalysis.h"
#include "nl/Codegen/Passes.h"
#include "nl/IR/NLOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

#include <limits>
#include <numeric>

namespace mlir::nl {
#define GEN_PASS_DEF_NLLOWERMEMORIES
#include "nl/Codegen/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;

namespace {

/// Spec letters for a state parameter of rank 2 (matrix) or 1 (vector),
/// with batch and heads in front.
StringRef paramSpec(Value param) {
  return cast<RankedTensorType>(param.getType()).getRank() == 4 ? "bhrc"
                                                                : "bhd";
}

class MemoryLowering {
public:
  MemoryLowering(MemoryOp memory) : memory(memory), update(memory.getUpdate()) {
    for (Operation *user : memory.getMemory().getUsers()) {
      if (auto read = dyn_cast<ReadOp>(user))
        reads.push_back(read);
      else if (auto final = dyn_cast<FinalStateOp>(user))
        finals.push_back(final);
      else if (auto stream = dyn_cast<StreamStateOp>(user))
        streams.push_back(stream);
    }
  }

  LogicalResult verifySupported();
  /// A memory without an update is a fixed model: its reads apply the
  /// initial state directly.
  LogicalResult lowerFixed();

private:
  // Sizes and slices.
  Value sliceTokens(OpBuilder &b, Value sequence, Value start, Value count);
  Value tokenAt(OpBuilder &b, Value sequence, Value index);
  Value chunkRate(OpBuilder &b, Value rate, RateGranularity granularity,
                  Value chunk, Value start, Value count, Value like);
  Value scalarAt(OpBuilder &b, Value rates, Value index);
  SmallVector<Value> initialState(OpBuilder &b, Value batch);

  // Rules.
  struct ChunkInputs {
    Value keys, values, lr, retention;
    SmallVector<Value> momentum;
  };
  void momentumUpdate(OpBuilder &b, MemoryModel &model,
                      ArrayRef<Value> reference, ArrayRef<Value> theta,
                      ArrayRef<Value> momentum, const ChunkInputs &in,
                      SmallVectorImpl<Value> &newTheta,
                      SmallVectorImpl<Value> &newMomentum);
  void dgdUpdate(OpBuilder &b, MemoryModel &model, ArrayRef<Value> reference,
                 ArrayRef<Value> theta, ArrayRef<Value> momentum,
                 const ChunkInputs &in, SmallVectorImpl<Value> &newTheta,
                 SmallVectorImpl<Value> &newMomentum);
  friend class SequenceLowering;

  MemoryOp memory;
  UpdateOp update;
  SmallVector<ReadOp> reads;
  SmallVector<FinalStateOp> finals;
  SmallVector<StreamStateOp> streams;
  Location loc = memory.getLoc();
};

//===----------------------------------------------------------------------===//
// What is supported
//===----------------------------------------------------------------------===//

LogicalResult MemoryLowering::verifySupported() {
  if (failed(MemoryModel::verifySupported(memory)))
    return failure();
  Attribute rule = memory.getRule();
  if (auto momentum = dyn_cast<MomentumGDAttr>(rule)) {
    if (momentum.getOrder() > 1)
      return memory.emitOpError("cannot be compiled yet: momentum of order ")
             << momentum.getOrder()
             << " is not implemented by the code generator (orders 0 and 1 "
                "are)";
    if (momentum.getNewtonSchulz())
      return memory.emitOpError("cannot be compiled yet: the Newton-Schulz "
                                "output is not implemented by the code "
                                "generator");
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Slices
//===----------------------------------------------------------------------===//

/// sequence[:, :, start:start+count, ...]
Value MemoryLowering::sliceTokens(OpBuilder &b, Value sequence, Value start,
                                  Value count) {
  TensorBuilder tb(b, loc);
  SmallVector<OpFoldResult> sizes = tb.sizes(sequence);
  SmallVector<OpFoldResult> offsets(sizes.size(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> strides(sizes.size(), b.getIndexAttr(1));
  offsets[2] = start;
  sizes[2] = count;
  return tensor::ExtractSliceOp::create(b, loc, sequence, offsets, sizes,
                                        strides);
}

/// sequence[:, :, index, ...] with the token dimension dropped.
Value MemoryLowering::tokenAt(OpBuilder &b, Value sequence, Value index) {
  TensorBuilder tb(b, loc);
  auto type = cast<RankedTensorType>(sequence.getType());
  SmallVector<OpFoldResult> sizes = tb.sizes(sequence);
  SmallVector<OpFoldResult> offsets(sizes.size(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> strides(sizes.size(), b.getIndexAttr(1));
  offsets[2] = index;
  sizes[2] = b.getIndexAttr(1);
  SmallVector<int64_t> shape(type.getShape());
  shape.erase(shape.begin() + 2);
  auto resultType = RankedTensorType::get(shape, type.getElementType());
  return tensor::ExtractSliceOp::create(b, loc, resultType, sequence, offsets,
                                        sizes, strides);
}

/// rates[:, :, index] as [B, H].
Value MemoryLowering::scalarAt(OpBuilder &b, Value rates, Value index) {
  return tokenAt(b, rates, index);
}

/// The chunk's rates as [B, H, n]: a slice of a per-token rate, or a
/// per-chunk rate repeated over the chunk's tokens (`like` gives n).
Value MemoryLowering::chunkRate(OpBuilder &b, Value rate,
                                RateGranularity granularity, Value chunk,
                                Value start, Value count, Value like) {
  if (granularity == RateGranularity::Token)
    return sliceTokens(b, rate, start, count);
  TensorBuilder tb(b, loc);
  Value perChunk = scalarAt(b, rate, chunk);
  return tb.einsum("bh,bht->bht", {perChunk, like},
                   [](OpBuilder &, Location, ValueRange args) {
                     return args[0];
                   });
}

/// The initial state and momentum buffers as [B, H, ...] tensors.
SmallVector<Value> MemoryLowering::initialState(OpBuilder &b, Value batch) {
  TensorBuilder tb(b, loc);
  auto shapes = memory.getStateShapes();
  size_t numParams = shapes.size();
  size_t numStates = numParams * (1 + memory.getMomentumOrder());
  SmallVector<Value> states;
  for (size_t index = 0; index < numStates; ++index) {
    const auto &shape = shapes[index % numParams];
    if (index < memory.getInit().size()) {
      Value init = memory.getInit()[index];
      if (cast<RankedTensorType>(init.getType()).getRank() ==
          static_cast<int64_t>(shape.size()) + 2) {
        states.push_back(init);
        continue;
      }
      // Shared by the batch: broadcast [H, ...] to [B, H, ...].
      SmallVector<OpFoldResult> sizes{batch};
      llvm::append_range(sizes, tb.sizes(init));
      SmallVector<AffineExpr> exprs;
      for (unsigned d = 1; d <= shape.size() + 1; ++d)
        exprs.push_back(b.getAffineDimExpr(d));
      unsigned rank = shape.size() + 2;
      states.push_back(tb.generic(
          init, AffineMap::get(rank, 0, exprs, b.getContext()), sizes,
          tb.identity(rank), cast<RankedTensorType>(init.getType()).getElementType(),
          {}, std::nullopt,
          [](OpBuilder &, Location, ValueRange args) { return args[0]; }));
      continue;
    }
    // Momentum buffers not given start at zero.
    SmallVector<OpFoldResult> sizes{batch,
                                    b.getIndexAttr(memory.getMemory().getType().getHeads())};
    for (int64_t dim : shape)
      sizes.push_back(b.getIndexAttr(dim));
    states.push_back(
        tb.filled(sizes, memory.getMemory().getType().getElementType(), 0.0));
  }
  return states;
}

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

//===----------------------------------------------------------------------===//
// Memories without an update
//===----------------------------------------------------------------------===//

LogicalResult MemoryLowering::lowerFixed() {
  if (!streams.empty())
    return streams.front().emitOpError(
        "streams a memory that never learns: it has no state to carry");
  OpBuilder b(memory->getContext());
  for (ReadOp read : reads) {
    b.setInsertionPoint(read);
    TensorBuilder tb(b, loc);
    MemoryModel model(tb, memory);
    SmallVector<Value> state = initialState(b, tb.dim(read.getQuery(), 0));
    state.resize(memory.getStateShapes().size());
    read.getResult().replaceAllUsesWith(
        model.forward(state, read.getQuery()).output);
  }
  for (FinalStateOp final : finals) {
    if (reads.empty())
      return final.emitOpError("needs a read or an update to know the batch "
                               "size of a memory without updates");
    b.setInsertionPoint(final);
    TensorBuilder tb(b, loc);
    SmallVector<Value> state =
        initialState(b, tb.dim(reads.front().getQuery(), 0));
    for (auto [result, value] : llvm::zip(final.getStates(), state))
      result.replaceAllUsesWith(value);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// The joint schedule of a function's learning memories
//===----------------------------------------------------------------------===//

/// All memories of a function that learn, lowered into one scf.for over
/// blocks of G tokens, G the gcd of their chunk sizes (for one memory, its
/// chunk). Every memory carries its state, momentum, the state at its last
/// chunk boundary (the reference of its gradients and of its reads) and,
/// when chunk-aggregated, the gradient sum of its current chunk. Ops that
/// depend on memory reads and feed an update (self-modifying Titans) are
/// cloned into the loop and evaluated per block, in the order the reads
/// need: a memory is updated for the block before any `after` read of it.
class SequenceLowering {
public:
  SequenceLowering(func::FuncOp function, ArrayRef<MemoryOp> memories)
      : function(function) {
    for (MemoryOp memory : memories)
      lowerings.emplace_back(memory);
  }
  LogicalResult lower();
  /// Ops now evaluated inside the loop, dead outside it.
  ArrayRef<Operation *> getInLoopOps() const { return inLoop.getArrayRef(); }

private:
  struct MemoryCarry {
    unsigned theta, momentum, reference, pending;
  };
  /// Per block: the values computed so far.
  struct BlockState {
    OpBuilder *b;
    /// Where the block's tokens are in this call's tensors (start, count),
    /// and where they are in the whole sequence (absoluteStart, end):
    /// chunk boundaries count from the sequence's start.
    Value start, count, absoluteStart, end;
    IRMapping mapping;
    SmallVector<bool> updated;
    SmallVector<SmallVector<Value>> theta, momentum, reference, pending;
    /// The state reads see before a chunk's update: the state at the
    /// memory's last chunk boundary.
    SmallVector<SmallVector<Value>> chunkStart;
  };

  LogicalResult classify();
  int64_t tokenDim(Value value);
  /// The size of dimension `dim` of `value`, read from a value computed
  /// before the loop that has a dimension of the same class.
  FailureOr<Value> sizeBeforeLoop(OpBuilder &b, Value value, unsigned dim);
  Value blockValue(BlockState &block, Value value);
  Value blockRead(BlockState &block, ReadOp read);
  void updateMemory(BlockState &block, unsigned m);
  void requireChunkRates(OpBuilder &b, MemoryLowering &lowering);
  void requireRepresentablePosition(OpBuilder &b);
  /// Whether dimension `dim` of `value` has the size of an argument's.
  bool givenByCaller(Value value, unsigned dim);
  unsigned memoryIndex(Value handle);

  func::FuncOp function;
  SmallVector<MemoryLowering> lowerings;
  std::optional<DimensionClasses> classes;
  std::pair<Value, unsigned> tokenClass;
  /// Ops other than reads evaluated per block.
  llvm::SetVector<Operation *> inLoop;
  /// The reads, updates and final states the loop replaces, and (after
  /// classify) the in-loop ops.
  DenseSet<Operation *> lowered;
  /// Values computed per block that ops outside the loop use: accumulated
  /// into whole-sequence tensors.
  llvm::SetVector<Value> exported;
  Value tokens, position;
  int64_t blockSize = 0;
};

/// A per-chunk rate must have an entry for every chunk the call's tokens
/// touch, ceil((position mod C + T) / C): a relation between two inputs that
/// the manifest's shapes cannot state, so the artifact checks it before
/// running (nl.precondition) instead of reading past the rate's end.
void SequenceLowering::requireChunkRates(OpBuilder &b,
                                         MemoryLowering &lowering) {
  MemoryOp memory = lowering.memory;
  UpdateOp update = lowering.update;
  int64_t chunk = memory.getEvery().getPeriod();
  // Only rates whose count the caller chooses: a static count is verified,
  // a computed one fits by construction (e.g. nl.chunk_pool).
  SmallVector<std::pair<Value, StringRef>> perChunk;
  auto consider = [&](Value rate, RateGranularity granularity,
                      StringRef what) {
    if (rate && granularity == RateGranularity::Chunk &&
        cast<RankedTensorType>(rate.getType()).isDynamicDim(2) &&
        givenByCaller(rate, 2))
      perChunk.push_back({rate, what});
  };
  consider(update.getLr(), memory.getLrGranularity(), "learning rate");
  consider(update.getRetention(), memory.getRetentionGranularity(),
           "retention");
  for (Value beta : update.getMomentum())
    consider(beta, memory.getMomentumGranularity(), "momentum decay");
  if (perChunk.empty())
    return;

  Location loc = memory.getLoc();
  Value chunkSize = arith::ConstantIndexOp::create(b, loc, chunk);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value touched = arith::SubIOp::create(
      b, loc,
      arith::CeilDivUIOp::create(
          b, loc, arith::AddIOp::create(b, loc, position, tokens), chunkSize),
      arith::DivUIOp::create(b, loc, position, chunkSize));
  Value noTokens =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tokens, zero);
  Value needed = arith::SelectOp::create(b, loc, noTokens, zero, touched);
  for (auto [rate, what] : perChunk) {
    Value given = tensor::DimOp::create(b, loc, rate, 2);
    Value enough = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge,
                                         given, needed);
    std::string message =
        ("memory '" + memory.getName() + "': its per-chunk " + what +
         " needs an entry along dimension 2 for every chunk of " +
         Twine(chunk) + " tokens the call touches, ceil((position mod " +
         Twine(chunk) + " + tokens) / " + Twine(chunk) + ")")
            .str();
    PreconditionOp::create(b, loc, enough, b.getStringAttr(message));
  }
}

/// A streamed position comes from the caller's state file: the chunk loop's
/// index arithmetic is unsigned, so a negative position would read and write
/// past the buffers, and one near 2^63 would wrap. The artifact refuses both:
/// 0 <= position and position + tokens + G <= INT64_MAX, G the longest period
/// of the loop (a block's end, base + G, is at most position + tokens - 1 + G,
/// and every other index is below it).
void SequenceLowering::requireRepresentablePosition(OpBuilder &b) {
  int64_t longest = blockSize;
  for (MemoryLowering &lowering : lowerings) {
    longest = std::max(longest, lowering.memory.getEvery().getPeriod());
    if (ChunkAggregatedAttr aggregated =
            lowering.memory.getChunkAggregatedAttr();
        aggregated && !aggregated.linearizesOverSequence())
      longest = std::max(longest, aggregated.getPeriod());
  }
  std::string message =
      ("the position (tokens streamed before this call) must be at least 0, "
       "and position + tokens at most 2^63 - 1 - " +
       Twine(longest))
          .str();
  // One check per function: every stage of it streams from one position.
  bool stated = false;
  function.walk([&](PreconditionOp op) {
    stated |= op.getMessage() == message;
  });
  if (stated)
    return;
  Location loc = lowerings.front().memory.getLoc();
  Value nonNegative = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::sge, position,
      arith::ConstantIndexOp::create(b, loc, 0));
  // Both terms are in [0, INT64_MAX]: the difference cannot overflow.
  Value limit = arith::SubIOp::create(
      b, loc,
      arith::ConstantIndexOp::create(
          b, loc, std::numeric_limits<int64_t>::max() - longest),
      tokens);
  Value fits = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle,
                                     position, limit);
  Value valid = arith::AndIOp::create(b, loc, nonNegative, fits);
  PreconditionOp::create(b, loc, valid, b.getStringAttr(message));
}

bool SequenceLowering::givenByCaller(Value value, unsigned dim) {
  auto wanted = classes->find(value, dim);
  for (BlockArgument argument : function.getArguments())
    if (auto type = dyn_cast<RankedTensorType>(argument.getType()))
      for (unsigned d = 0; d < type.getRank(); ++d)
        if (type.isDynamicDim(d) && classes->find(argument, d) == wanted)
          return true;
  return false;
}

/// Splits a function's learning memories into stages, each lowered to its
/// own chunk loop, in order: a memory whose inputs (keys, values, rates,
/// queries) come from another memory's reads through an op that mixes tokens
/// (a convolution, a CMS, a chunk mean: the next block of a model) needs the
/// whole sequence of those reads, so it goes to a later stage; through
/// token-local ops it shares the stage (self-modifying Titans). The
/// dependences are the level analysis's, of updates and of read queries.
static SmallVector<SmallVector<MemoryOp>>
stageMemories(ArrayRef<MemoryOp> learning, const LevelAnalysis &analysis) {
  DenseMap<unsigned, unsigned> stage; // component -> stage
  for (MemoryOp memory : learning)
    if (std::optional<unsigned> id = analysis.findComponent(memory, 0))
      stage[*id] = 0;
  SmallVector<Dependence> edges;
  for (ArrayRef<Dependence> list :
       {analysis.getDependences(), analysis.getQueryDependences()})
    for (const Dependence &dep : list)
      if (dep.from != dep.to && stage.contains(dep.from) &&
          stage.contains(dep.to))
        edges.push_back(dep);
  // Longest paths over a DAG (memories only learn from earlier memories'
  // reads): a fixed point in at most one round per memory.
  for (size_t round = 0; round <= learning.size(); ++round) {
    bool changed = false;
    for (const Dependence &dep : edges) {
      unsigned needed = stage[dep.from] + (dep.throughTokenMixing ? 1 : 0);
      if (needed > stage[dep.to]) {
        stage[dep.to] = needed;
        changed = true;
      }
    }
    if (!changed)
      break;
  }
  unsigned last = 0;
  for (auto &entry : stage)
    last = std::max(last, entry.second);
  SmallVector<SmallVector<MemoryOp>> stages(last + 1);
  for (MemoryOp memory : learning)
    stages[stage[*analysis.findComponent(memory, 0)]].push_back(memory);
  llvm::erase_if(stages, [](auto &group) { return group.empty(); });
  return stages;
}

unsigned SequenceLowering::memoryIndex(Value handle) {
  for (auto [index, lowering] : llvm::enumerate(lowerings))
    if (lowering.memory.getMemory() == handle)
      return index;
  llvm_unreachable("not a memory of this schedule");
}

int64_t SequenceLowering::tokenDim(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type)
    return -1;
  for (int64_t dim = 0; dim < type.getRank(); ++dim)
    if (classes->find(value, dim) == tokenClass)
      return dim;
  return -1;
}

FailureOr<Value> SequenceLowering::sizeBeforeLoop(OpBuilder &b, Value value,
                                                 unsigned dim) {
  auto type = cast<RankedTensorType>(value.getType());
  if (!type.isDynamicDim(dim))
    return Value(arith::ConstantIndexOp::create(b, function.getLoc(),
                                                type.getDimSize(dim)));
  auto wanted = classes->find(value, dim);
  auto available = [&](Value candidate) -> std::optional<unsigned> {
    auto candidateType = dyn_cast<RankedTensorType>(candidate.getType());
    if (!candidateType)
      return std::nullopt;
    for (unsigned d = 0; d < candidateType.getRank(); ++d)
      if (classes->find(candidate, d) == wanted)
        return d;
    return std::nullopt;
  };
  for (BlockArgument argument : function.getArguments())
    if (std::optional<unsigned> d = available(argument))
      return Value(tensor::DimOp::create(b, function.getLoc(), argument, *d));
  for (Operation &op : function.getBody().front()) {
    if (inLoop.contains(&op) || isa<ReadOp, FinalStateOp, UpdateOp>(op))
      continue;
    if (!op.getBlock() || b.getInsertionBlock() != op.getBlock() ||
        !op.isBeforeInBlock(&*b.getInsertionPoint()))
      continue;
    for (Value result : op.getResults())
      if (std::optional<unsigned> d = available(result))
        return Value(tensor::DimOp::create(b, function.getLoc(), result, *d));
  }
  return emitError(value.getLoc(),
                   "cannot find the size of dimension ")
         << dim << " of this value from the inputs of the loop over tokens";
}

LogicalResult SequenceLowering::classify() {
  classes.emplace(function);
  Value keys = lowerings.front().update.getKeys();
  tokenClass = classes->find(keys, 2);
  for (MemoryLowering &lowering : lowerings)
    blockSize = std::gcd(blockSize, lowering.memory.getEvery().getPeriod());

  // D: ops computed from memory reads; F: ops whose results updates or
  // reads need. Reads, updates and final states are handled by the loop.
  for (MemoryLowering &lowering : lowerings) {
    lowered.insert(lowering.update);
    for (ReadOp read : lowering.reads)
      lowered.insert(read);
    for (FinalStateOp final : lowering.finals)
      lowered.insert(final);
    for (StreamStateOp stream : lowering.streams)
      lowered.insert(stream);
  }
  DenseSet<Operation *> fromReads;
  SmallVector<Operation *> worklist;
  for (MemoryLowering &lowering : lowerings)
    for (ReadOp read : lowering.reads)
      worklist.push_back(read);
  while (!worklist.empty()) {
    Operation *op = worklist.pop_back_val();
    for (Operation *user : op->getUsers())
      if (fromReads.insert(user).second)
        worklist.push_back(user);
  }
  DenseSet<Operation *> needed;
  SmallVector<Value> values;
  for (MemoryLowering &lowering : lowerings) {
    llvm::append_range(values, lowering.update->getOperands().drop_front());
    for (ReadOp read : lowering.reads)
      values.push_back(read.getQuery());
  }
  while (!values.empty()) {
    Operation *def = values.pop_back_val().getDefiningOp();
    if (!def || !needed.insert(def).second)
      continue;
    llvm::append_range(values, def->getOperands());
  }
  for (Operation &op : function.getBody().front())
    if (!lowered.contains(&op) && fromReads.contains(&op) &&
        needed.contains(&op))
      inLoop.insert(&op);

  // What the loop evaluates per block must be token-local, with a dynamic
  // token dimension so the same op works on a block.
  for (Operation *op : inLoop) {
    if (!isTokenLocal(op))
      return op->emitOpError("is computed from memory reads and feeds an "
                             "update, so it runs per block of tokens, which "
                             "needs a token-local op (this one mixes tokens)");
    for (Value result : op->getResults()) {
      int64_t dim = tokenDim(result);
      if (dim < 0 || !cast<RankedTensorType>(result.getType()).isDynamicDim(dim))
        return op->emitOpError("runs per block of tokens and needs a dynamic "
                               "sequence length in its result type");
    }
  }
  // In-loop values and reads used by ops that stay outside.
  auto exportIfUsedOutside = [&](Value value) {
    for (Operation *user : value.getUsers())
      if (!inLoop.contains(user) && !lowered.contains(user)) {
        exported.insert(value);
        return;
      }
  };
  for (Operation *op : inLoop)
    for (Value result : op->getResults())
      exportIfUsedOutside(result);
  for (MemoryLowering &lowering : lowerings)
    for (ReadOp read : lowering.reads)
      exportIfUsedOutside(read.getResult());
  for (Value value : exported)
    if (tokenDim(value) < 0)
      return value.getDefiningOp()->emitOpError(
          "produces a value the loop over tokens must hand out, but its "
          "token dimension is unknown");
  return success();
}

Value SequenceLowering::blockValue(BlockState &block, Value value) {
  if (Value mapped = block.mapping.lookupOrNull(value))
    return mapped;
  OpBuilder &b = *block.b;
  Operation *def = value.getDefiningOp();
  Value result;
  if (auto read = dyn_cast_or_null<ReadOp>(def)) {
    result = blockRead(block, read);
  } else if (def && inLoop.contains(def)) {
    for (Value operand : def->getOperands())
      blockValue(block, operand);
    Operation *clone = b.clone(*def, block.mapping);
    for (auto [original, cloned] :
         llvm::zip(def->getResults(), clone->getResults()))
      block.mapping.map(original, cloned);
    return block.mapping.lookup(value);
  } else if (int64_t dim = tokenDim(value); dim >= 0) {
    // A whole-sequence value: this block's tokens.
    TensorBuilder tb(b, function.getLoc());
    SmallVector<OpFoldResult> sizes = tb.sizes(value);
    SmallVector<OpFoldResult> offsets(sizes.size(), b.getIndexAttr(0));
    SmallVector<OpFoldResult> strides(sizes.size(), b.getIndexAttr(1));
    offsets[dim] = block.start;
    sizes[dim] = block.count;
    result = tensor::ExtractSliceOp::create(b, function.getLoc(), value,
                                            offsets, sizes, strides);
  } else {
    result = value;
  }
  block.mapping.map(value, result);
  return result;
}

Value SequenceLowering::blockRead(BlockState &block, ReadOp read) {
  OpBuilder &b = *block.b;
  Location loc = read.getLoc();
  unsigned m = memoryIndex(read.getMemory());
  MemoryLowering &lowering = lowerings[m];
  TensorBuilder tb(b, loc);
  MemoryModel model(tb, lowering.memory);
  Value query = blockValue(block, read.getQuery());
  // Every token of the block sees the state of its chunk's start, except,
  // for `after` reads, the last token of a chunk: it sees that chunk's
  // update.
  Value y = model.forward(block.chunkStart[m], query).output;
  if (read.getPoint() == ReadPoint::After) {
    updateMemory(block, m);
    Value chunk = tb.indexConstant(lowering.memory.getEvery().getPeriod());
    Value offset = arith::RemUIOp::create(b, loc, block.end, chunk);
    Value endsChunk = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                            offset, tb.indexConstant(0));
    Value last = arith::SubIOp::create(b, loc, block.count, tb.indexConstant(1));
    Value lastQuery = lowering.sliceTokens(b, query, last, tb.indexConstant(1));
    Value lastY = model.forward(block.theta[m], lastQuery).output;
    SmallVector<OpFoldResult> offsets = {b.getIndexAttr(0), b.getIndexAttr(0),
                                         last, b.getIndexAttr(0)};
    SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
    Value patched = tensor::InsertSliceOp::create(b, loc, lastY, y, offsets,
                                                  tb.sizes(lastY), strides);
    y = arith::SelectOp::create(b, loc, endsChunk, patched, y);
  }
  return y;
}

void SequenceLowering::updateMemory(BlockState &block, unsigned m) {
  if (block.updated[m])
    return;
  block.updated[m] = true;
  MemoryLowering &lowering = lowerings[m];
  MemoryOp memory = lowering.memory;
  UpdateOp update = lowering.update;
  OpBuilder &b = *block.b;
  Location loc = memory.getLoc();
  TensorBuilder tb(b, loc);
  MemoryModel model(tb, memory);
  int64_t chunk = memory.getEvery().getPeriod();
  Value chunkSize = tb.indexConstant(chunk);
  // Per-chunk rates of this call start at the chunk holding its first token.
  Value chunkIndex = arith::SubIOp::create(
      b, loc, arith::DivUIOp::create(b, loc, block.absoluteStart, chunkSize),
      arith::DivUIOp::create(b, loc, position, chunkSize));

  MemoryLowering::ChunkInputs in;
  in.keys = blockValue(block, update.getKeys());
  in.values = blockValue(block, update.getValues());
  Value tokenLike = tb.sumLastDim(in.keys);
  auto rate = [&](Value value, RateGranularity granularity) -> Value {
    if (granularity == RateGranularity::Token)
      return blockValue(block, value);
    return lowering.chunkRate(b, value, granularity, chunkIndex, block.start,
                              block.count, tokenLike);
  };
  RateGranularity lrGrain = memory.getLrGranularity(),
                  retentionGrain = memory.getRetentionGranularity(),
                  momentumGrain = memory.getMomentumGranularity();
  in.lr = rate(update.getLr(), lrGrain);

  SmallVector<Value> newTheta, newMomentum;
  ChunkAggregatedAttr aggregated = memory.getChunkAggregatedAttr();
  if (!aggregated) {
    if (update.getRetention())
      in.retention = rate(update.getRetention(), retentionGrain);
    for (Value beta : update.getMomentum())
      in.momentum.push_back(rate(beta, momentumGrain));
    if (isa<DGDAttr>(memory.getRule()))
      lowering.dgdUpdate(b, model, block.reference[m], block.theta[m],
                         block.momentum[m], in, newTheta, newMomentum);
    else
      lowering.momentumUpdate(b, model, block.reference[m], block.theta[m],
                              block.momentum[m], in, newTheta, newMomentum);
    block.theta[m] = newTheta;
    block.momentum[m] = newMomentum;
    return;
  }

  // Chunk-aggregated: G += sum_t eta_t g_t at the linearisation reference;
  // at the end of a complete chunk, S = beta S - G, theta = alpha theta + S.
  MemoryModel::Forward forward = model.forward(block.reference[m], in.keys);
  Value dOutput = model.objectiveGradient(forward.output, in.values);
  auto grads = model.backward(block.reference[m], forward, dOutput);
  Value endsChunk = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::eq,
      arith::RemUIOp::create(b, loc, block.end, chunkSize), tb.indexConstant(0));
  Value alpha = update.getRetention()
                    ? lowering.scalarAt(b, update.getRetention(), chunkIndex)
                    : Value();
  int64_t order = memory.getMomentumOrder();
  Value beta = order ? lowering.scalarAt(b, update.getMomentum()[0], chunkIndex)
                     : Value();
  SmallVector<Value> newPending;
  for (auto [p, param] : llvm::enumerate(block.theta[m])) {
    std::string spec = paramSpec(param).str();
    Value sum = grads[p].vector
                    ? tb.einsum("bhtd,bht->bhd", {grads[p].vector, in.lr})
                    : tb.einsum("bhtr,bhtc,bht->bhrc",
                                {grads[p].rows, grads[p].cols, in.lr});
    Value total = tb.einsum(spec + "," + spec + "->" + spec,
                            {block.pending[m][p], sum},
                            [](OpBuilder &sb, Location sl, ValueRange a) {
                              return arith::AddFOp::create(sb, sl, a[0], a[1])
                                  .getResult();
                            });
    Value step = total, s;
    if (order) {
      s = tb.einsum(spec + ",bh," + spec + "->" + spec,
                    {block.momentum[m][p], beta, total},
                    [](OpBuilder &sb, Location sl, ValueRange a) {
                      Value d = arith::MulFOp::create(sb, sl, a[0], a[1]);
                      return arith::SubFOp::create(sb, sl, d, a[2]).getResult();
                    });
      step = s;
    }
    Value decayed = alpha ? tb.einsum(spec + ",bh->" + spec, {param, alpha})
                          : param;
    Value updated = tb.einsum(
        spec + "," + spec + "->" + spec, {decayed, step},
        [&](OpBuilder &sb, Location sl, ValueRange a) {
          return order ? arith::AddFOp::create(sb, sl, a[0], a[1]).getResult()
                       : arith::SubFOp::create(sb, sl, a[0], a[1]).getResult();
        });
    // Only a complete chunk updates; its sum then starts again from zero.
    newTheta.push_back(arith::SelectOp::create(b, loc, endsChunk, updated, param));
    if (order)
      newMomentum.push_back(arith::SelectOp::create(b, loc, endsChunk, s,
                                                    block.momentum[m][p]));
    Value zero = tb.map(total, [](OpBuilder &sb, Location sl, ValueRange a) {
      return arith::ConstantOp::create(sb, sl, a[0].getType(),
                                       sb.getFloatAttr(a[0].getType(), 0.0))
          .getResult();
    });
    newPending.push_back(
        arith::SelectOp::create(b, loc, endsChunk, zero, total));
  }
  block.theta[m] = newTheta;
  block.momentum[m] = newMomentum;
  block.pending[m] = newPending;
}

LogicalResult SequenceLowering::lower() {
  if (failed(classify()))
    return failure();
  Block &entry = function.getBody().front();
  // The loop goes after the last op it reads from outside, before the first
  // op outside that uses what it produces.
  lowered.insert(inLoop.begin(), inLoop.end());
  Operation *after = nullptr;
  auto consider = [&](Value value) {
    Operation *def = value.getDefiningOp();
    if (def && def->getBlock() == &entry && !lowered.contains(def) &&
        (!after || after->isBeforeInBlock(def)))
      after = def;
  };
  for (Operation *op : lowered)
    for (Value operand : op->getOperands())
      consider(operand);
  for (MemoryLowering &lowering : lowerings)
    for (Value init : lowering.memory.getInit())
      consider(init);
  for (Operation *op : lowered)
    for (Value result : op->getResults())
      for (Operation *user : result.getUsers())
        if (!lowered.contains(user) && after && !after->isBeforeInBlock(user))
          return user->emitError("uses a value computed from memory reads "
                                 "before all of the memories' inputs exist");

  OpBuilder b(function.getContext());
  if (after)
    b.setInsertionPointAfter(after);
  else
    b.setInsertionPointToStart(&entry);
  Location loc = function.getLoc();
  TensorBuilder tb(b, loc);
  Value keys = lowerings.front().update.getKeys();
  FailureOr<Value> batchSize = sizeBeforeLoop(b, keys, 0);
  FailureOr<Value> tokenCount = sizeBeforeLoop(b, keys, 2);
  if (failed(batchSize) || failed(tokenCount))
    return failure();
  Value batch = *batchSize;
  tokens = *tokenCount;
  Value blockSizeValue = tb.indexConstant(blockSize);
  // Streaming: this call's tokens start at `position` in the sequence.
  position = tb.indexConstant(0);
  Value positionOperand;
  for (MemoryLowering &lowering : lowerings) {
    Value given = lowering.memory.getPosition();
    if (!given)
      continue;
    if (positionOperand && given != positionOperand)
      return lowering.memory.emitOpError(
          "streams from another position than the other memories of this "
          "function; they read one sequence");
    positionOperand = given;
  }
  for (MemoryLowering &lowering : lowerings)
    if (positionOperand && !lowering.memory.getPosition())
      return lowering.memory.emitOpError(
          "has no position while other memories of this function stream "
          "from one; they read one sequence");
  if (positionOperand) {
    position = arith::IndexCastOp::create(
        b, loc, b.getIndexType(),
        tensor::ExtractOp::create(b, loc, positionOperand, ValueRange{}));
    requireRepresentablePosition(b);
  }
  Value sequenceEnd = arith::AddIOp::create(b, loc, position, tokens);
  Value firstBlock = arith::DivUIOp::create(b, loc, position, blockSizeValue);
  Value numBlocks = arith::SubIOp::create(
      b, loc, arith::CeilDivUIOp::create(b, loc, sequenceEnd, blockSizeValue),
      firstBlock);
  for (MemoryLowering &lowering : lowerings)
    requireChunkRates(b, lowering);

  // Carried values: per memory theta, momentum, reference, pending; then
  // the accumulators of exported values.
  SmallVector<Value> initArgs;
  SmallVector<MemoryCarry> carries;
  for (MemoryLowering &lowering : lowerings) {
    size_t numParams = lowering.memory.getStateShapes().size();
    SmallVector<Value> state = lowering.initialState(b, batch);
    MemoryCarry carry;
    carry.theta = initArgs.size();
    llvm::append_range(initArgs, ArrayRef<Value>(state).take_front(numParams));
    carry.momentum = initArgs.size();
    llvm::append_range(initArgs, ArrayRef<Value>(state).drop_front(numParams));
    carry.reference = initArgs.size();
    if (!lowering.memory.getReference().empty())
      llvm::append_range(initArgs, lowering.memory.getReference());
    else
      llvm::append_range(initArgs,
                         ArrayRef<Value>(state).take_front(numParams));
    carry.pending = initArgs.size();
    if (!lowering.memory.getPending().empty())
      llvm::append_range(initArgs, lowering.memory.getPending());
    else if (lowering.memory.getChunkAggregatedAttr())
      for (Value param : ArrayRef<Value>(state).take_front(numParams))
        initArgs.push_back(tb.map(param, [](OpBuilder &sb, Location sl,
                                            ValueRange a) {
          return arith::ConstantOp::create(sb, sl, a[0].getType(),
                                           sb.getFloatAttr(a[0].getType(), 0.0))
              .getResult();
        }));
    carries.push_back(carry);
  }
  size_t firstAccumulator = initArgs.size();
  for (Value value : exported) {
    // A whole-sequence tensor, filled block by block.
    SmallVector<OpFoldResult> sizes;
    auto type = cast<RankedTensorType>(value.getType());
    for (int64_t d = 0; d < type.getRank(); ++d) {
      if (!type.isDynamicDim(d)) {
        sizes.push_back(b.getIndexAttr(type.getDimSize(d)));
        continue;
      }
      FailureOr<Value> size = sizeBeforeLoop(b, value, d);
      if (failed(size))
        return failure();
      sizes.push_back(*size);
    }
    initArgs.push_back(tb.empty(sizes, type.getElementType()));
  }

  auto loop = scf::ForOp::create(
      b, loc, tb.indexConstant(0), numBlocks, tb.indexConstant(1), initArgs,
      [&](OpBuilder &nb, Location nloc, Value index, ValueRange carried) {
        BlockState block;
        block.b = &nb;
        // Block j spans [max(base, p0), min(base + G, p0 + T)) of the
        // sequence, base = (floor(p0 / G) + j) G.
        Value base = arith::MulIOp::create(
            nb, nloc, arith::AddIOp::create(nb, nloc, firstBlock, index),
            blockSizeValue);
        block.absoluteStart = arith::MaxUIOp::create(nb, nloc, base, position);
        block.end = arith::MinUIOp::create(
            nb, nloc, arith::AddIOp::create(nb, nloc, base, blockSizeValue),
            sequenceEnd);
        block.start =
            arith::SubIOp::create(nb, nloc, block.absoluteStart, position);
        block.count =
            arith::SubIOp::create(nb, nloc, block.end, block.absoluteStart);
        block.updated.assign(lowerings.size(), false);
        TensorBuilder ntb(nb, nloc);
        for (auto [m, lowering] : llvm::enumerate(lowerings)) {
          MemoryOp memory = lowering.memory;
          size_t numParams = memory.getStateShapes().size();
          size_t numMomentum = numParams * memory.getMomentumOrder();
          const MemoryCarry &carry = carries[m];
          block.theta.push_back(
              SmallVector<Value>(carried.slice(carry.theta, numParams)));
          block.momentum.push_back(
              SmallVector<Value>(carried.slice(carry.momentum, numMomentum)));
          block.pending.push_back(SmallVector<Value>(
              memory.getChunkAggregatedAttr()
                  ? carried.slice(carry.pending, numParams)
                  : ValueRange()));
          // The reference moves to the current state at chunk boundaries
          // (chunk-aggregated: at multiples of the linearisation period).
          ChunkAggregatedAttr aggregated = memory.getChunkAggregatedAttr();
          ValueRange previous = carried.slice(carry.reference, numParams);
          if (aggregated) {
            // One update per chunk: the state is the chunk-start state
            // until the chunk's end.
            block.chunkStart.push_back(block.theta[m]);
          }
          if (aggregated && aggregated.linearizesOverSequence()) {
            block.reference.push_back(SmallVector<Value>(previous));
            continue;
          }
          int64_t period = aggregated ? aggregated.getPeriod()
                                      : memory.getEvery().getPeriod();
          Value offset = arith::RemUIOp::create(
              nb, nloc, block.absoluteStart, ntb.indexConstant(period));
          Value refresh = arith::CmpIOp::create(
              nb, nloc, arith::CmpIPredicate::eq, offset, ntb.indexConstant(0));
          SmallVector<Value> reference;
          for (auto [current, old] : llvm::zip(block.theta[m], previous))
            reference.push_back(
                arith::SelectOp::create(nb, nloc, refresh, current, old));
          block.reference.push_back(reference);
          if (!aggregated)
            block.chunkStart.push_back(reference);
        }
        // Every memory learns from this block; what it reads is computed on
        // demand, after the updates it depends on.
        for (unsigned m = 0; m < lowerings.size(); ++m)
          updateMemory(block, m);
        SmallVector<Value> yielded;
        for (auto [m, lowering] : llvm::enumerate(lowerings)) {
          llvm::append_range(yielded, block.theta[m]);
          llvm::append_range(yielded, block.momentum[m]);
          llvm::append_range(yielded, block.reference[m]);
          llvm::append_range(yielded, block.pending[m]);
        }
        for (auto [e, value] : llvm::enumerate(exported)) {
          Value piece = blockValue(block, value);
          int64_t dim = tokenDim(value);
          SmallVector<OpFoldResult> sizes = ntb.sizes(piece);
          SmallVector<OpFoldResult> offsets(sizes.size(), nb.getIndexAttr(0));
          SmallVector<OpFoldResult> strides(sizes.size(), nb.getIndexAttr(1));
          offsets[dim] = block.start;
          yielded.push_back(tensor::InsertSliceOp::create(
              nb, nloc, piece, carried[firstAccumulator + e], offsets, sizes,
              strides));
        }
        scf::YieldOp::create(nb, nloc, yielded);
      });

  for (auto [e, exportedValue] : llvm::enumerate(exported))
    Value(exportedValue).replaceUsesWithIf(loop.getResult(firstAccumulator + e),
                            [&](OpOperand &use) {
                              return !lowered.contains(use.getOwner());
                            });
  for (auto [m, lowering] : llvm::enumerate(lowerings))
    for (StreamStateOp stream : lowering.streams) {
      b.setInsertionPointAfter(loop);
      size_t numParams = lowering.memory.getStateShapes().size();
      for (auto [index, result] : llvm::enumerate(stream.getReference()))
        result.replaceAllUsesWith(loop.getResult(carries[m].reference + index));
      for (auto [index, result] : llvm::enumerate(stream.getPending()))
        result.replaceAllUsesWith(loop.getResult(carries[m].pending + index));
      (void)numParams;
      Value end = arith::IndexCastOp::create(b, loc, b.getI64Type(),
                                             sequenceEnd);
      stream.getPosition().replaceAllUsesWith(
          tensor::FromElementsOp::create(b, loc, stream.getPosition().getType(),
                                         ValueRange{end}));
    }
  for (auto [m, lowering] : llvm::enumerate(lowerings))
    for (FinalStateOp final : lowering.finals)
      for (auto [index, result] : llvm::enumerate(final.getStates())) {
        size_t numParams = lowering.memory.getStateShapes().size();
        unsigned position = index < numParams
                                ? carries[m].theta + index
                                : carries[m].momentum + index - numParams;
        result.replaceAllUsesWith(loop.getResult(position));
      }
  return success();
}

struct LowerMemoriesPass
    : nl::impl::NLLowerMemoriesBase<LowerMemoriesPass> {
  void runOnOperation() override {
    SmallVector<func::FuncOp> functions;
    getOperation()->walk([&](func::FuncOp f) { functions.push_back(f); });
    for (func::FuncOp function : functions)
      if (failed(lowerFunction(function)))
        return signalPassFailure();
  }

  LogicalResult lowerFunction(func::FuncOp function) {
    SmallVector<MemoryOp> memories, learning;
    function.walk([&](MemoryOp memory) { memories.push_back(memory); });
    if (memories.empty())
      return success();
    if (!function.getBody().hasOneBlock())
      return function.emitOpError("with memories must have a single block");
    for (MemoryOp memory : memories) {
      MemoryLowering lowering(memory);
      if (failed(lowering.verifySupported()))
        return failure();
      if (!memory.getUpdate()) {
        if (failed(lowering.lowerFixed()))
          return failure();
        continue;
      }
      learning.push_back(memory);
    }
    SmallVector<Operation *> dead;
    for (ArrayRef<MemoryOp> stage : stageMemories(learning, LevelAnalysis(function))) {
      SequenceLowering sequence(function, stage);
      if (failed(sequence.lower()))
        return failure();
      llvm::append_range(dead, sequence.getInLoopOps());
    }
    // The memories, their reads, updates and final states, and what the
    // loop now computes are dead; they may use each other.
    for (MemoryOp memory : memories) {
      llvm::append_range(dead, memory.getMemory().getUsers());
      dead.push_back(memory);
    }
    for (Operation *op : dead)
      op->dropAllReferences();
    for (Operation *op : dead) {
      assert(op->use_empty() && "a lowered value is still used");
      op->erase();
    }
    return success();
  }
};

} // namespace
