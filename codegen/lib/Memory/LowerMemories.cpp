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

#include "MemoryModel.h"
#include "nl/Codegen/Passes.h"
#include "nl/IR/NLOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dominance.h"
#include "llvm/ADT/SetVector.h"

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
    }
  }

  LogicalResult verifySupported();
  LogicalResult lower();

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
  void momentumUpdate(OpBuilder &b, MemoryModel &model, ArrayRef<Value> theta,
                      ArrayRef<Value> momentum, const ChunkInputs &in,
                      SmallVectorImpl<Value> &newTheta,
                      SmallVectorImpl<Value> &newMomentum);
  void dgdUpdate(OpBuilder &b, MemoryModel &model, ArrayRef<Value> theta,
                 const ChunkInputs &in, SmallVectorImpl<Value> &newTheta);

  MemoryOp memory;
  UpdateOp update;
  SmallVector<ReadOp> reads;
  SmallVector<FinalStateOp> finals;
  Location loc = memory.getLoc();
};

//===----------------------------------------------------------------------===//
// What is supported
//===----------------------------------------------------------------------===//

/// True if `value` is computed from an nl.read or nl.final_state.
bool dependsOnMemoryReads(Value value) {
  SmallVector<Value> worklist{value};
  DenseSet<Value> seen;
  while (!worklist.empty()) {
    Value current = worklist.pop_back_val();
    if (!seen.insert(current).second)
      continue;
    Operation *def = current.getDefiningOp();
    if (!def)
      continue;
    if (isa<ReadOp, FinalStateOp>(def))
      return true;
    llvm::append_range(worklist, def->getOperands());
  }
  return false;
}

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
  } else if (cast<DGDAttr>(rule).getMomentum()) {
    return memory.emitOpError("cannot be compiled yet: DGD with momentum is "
                              "not implemented by the code generator");
  }
  // Memories whose inputs come from memory reads (self-modifying Titans)
  // need the joint schedule of several memories in one loop.
  SmallVector<Value> inputs;
  if (update)
    llvm::append_range(inputs, update->getOperands().drop_front());
  for (ReadOp read : reads)
    inputs.push_back(read.getQuery());
  for (Value input : inputs)
    if (dependsOnMemoryReads(input))
      return memory.emitOpError(
          "cannot be compiled yet: an input of its update or reads is "
          "computed from memory reads (self-modifying memories are "
          "scheduled jointly, which the code generator does not do yet)");
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
  MemoryModel::Forward forward = model.forward(theta, in.keys);
  Value dOutput = model.objectiveGradient(forward.output, in.values);
  SmallVector<MemoryModel::ParamGradient> grads =
      model.backward(theta, forward, dOutput);

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
                               ArrayRef<Value> theta, const ChunkInputs &in,
                               SmallVectorImpl<Value> &newTheta) {
  TensorBuilder tb(b, loc);
  bool normalized =
      cast<DGDAttr>(memory.getRule()).getStepSize() == StepSize::Normalized;
  MemoryModel::Forward forward = model.forward(theta, in.keys);
  Value dOutput = model.objectiveGradient(forward.output, in.values);
  SmallVector<MemoryModel::ParamGradient> grads =
      model.backward(theta, forward, dOutput);
  Value count = tb.dim(in.keys, 2);
  Value c0 = tb.indexConstant(0), c1 = tb.indexConstant(1);
  auto loop = scf::ForOp::create(
      b, loc, c0, count, c1, theta,
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
        SmallVector<Value> next;
        for (auto [index, param] : llvm::enumerate(current)) {
          const MemoryModel::ParamGradient &grad = grads[index];
          if (grad.vector) {
            // alpha gamma - eta g
            next.push_back(ntb.einsum(
                "bhd,bh,bh,bhd->bhd",
                {param, alpha, eta, tokenAt(nb, grad.vector, u)},
                [](OpBuilder &sb, Location sl, ValueRange a) {
                  Value decayed = arith::MulFOp::create(sb, sl, a[0], a[1]);
                  Value step = arith::MulFOp::create(sb, sl, a[2], a[3]);
                  return arith::SubFOp::create(sb, sl, decayed, step)
                      .getResult();
                }));
            continue;
          }
          Value rows = tokenAt(nb, grad.rows, u);
          Value cols = tokenAt(nb, grad.cols, u);
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
              [](OpBuilder &sb, Location sl, ValueRange a) {
                Value decayed = arith::MulFOp::create(sb, sl, a[0], a[1]);
                Value outer = arith::MulFOp::create(sb, sl, a[3], a[4]);
                Value step = arith::MulFOp::create(sb, sl, a[2], outer);
                return arith::SubFOp::create(sb, sl, decayed, step).getResult();
              }));
        }
        scf::YieldOp::create(nb, nloc, next);
      });
  llvm::append_range(newTheta, loop.getResults());
}

//===----------------------------------------------------------------------===//
// The chunk loop
//===----------------------------------------------------------------------===//

LogicalResult MemoryLowering::lower() {
  // Place the loop after everything it reads, before the first use of what
  // it produces.
  Block *block = memory->getBlock();
  Operation *after = memory;
  auto consider = [&](Value value) {
    if (Operation *def = value.getDefiningOp())
      if (def->getBlock() == block && after->isBeforeInBlock(def))
        after = def;
  };
  if (update)
    for (Value operand : update->getOperands())
      consider(operand);
  for (ReadOp read : reads)
    consider(read.getQuery());
  SmallVector<Value> produced;
  for (ReadOp read : reads)
    produced.push_back(read.getResult());
  for (FinalStateOp final : finals)
    llvm::append_range(produced, final.getStates());
  for (Value value : produced)
    for (Operation *user : value.getUsers()) {
      Operation *ancestor = block->findAncestorOpInBlock(*user);
      if (ancestor && !after->isBeforeInBlock(ancestor))
        return user->emitError("uses a read of memory '")
               << memory.getName()
               << "' before all of the memory's inputs are computed";
    }

  OpBuilder b(after->getContext());
  b.setInsertionPointAfter(after);
  TensorBuilder tb(b, loc);
  MemoryModel model(tb, memory);
  Type element = memory.getMemory().getType().getElementType();
  size_t numParams = memory.getStateShapes().size();
  int64_t order = memory.getMomentumOrder();

  // Without an update the memory is a fixed model: apply it directly.
  if (!update) {
    Value batch = reads.empty() ? Value()
                                : tb.dim(reads.front().getQuery(), 0);
    for (ReadOp read : reads) {
      SmallVector<Value> state =
          initialState(b, tb.dim(read.getQuery(), 0));
      state.resize(numParams);
      read.getResult().replaceAllUsesWith(
          model.forward(state, read.getQuery()).output);
    }
    for (FinalStateOp final : finals) {
      if (!batch)
        return final.emitOpError("needs a read or an update to know the "
                                 "batch size of a memory without updates");
      SmallVector<Value> state = initialState(b, batch);
      for (auto [result, value] : llvm::zip(final.getStates(), state))
        result.replaceAllUsesWith(value);
    }
    return success();
  }

  int64_t chunk = memory.getEvery().getPeriod();
  ChunkAggregatedAttr aggregated = memory.getChunkAggregatedAttr();
  Value keys = update.getKeys();
  Value batch = tb.dim(keys, 0), tokens = tb.dim(keys, 2);
  Value chunkSize = tb.indexConstant(chunk);
  Value numChunks = arith::CeilDivUIOp::create(b, loc, tokens, chunkSize);

  // Loop-carried: theta, momentum, (reference theta,) read accumulators.
  SmallVector<Value> state = initialState(b, batch);
  SmallVector<Value> initArgs(state);
  bool carriesReference = aggregated && !aggregated.linearizesOverSequence();
  SmallVector<Value> fixedReference;
  if (carriesReference)
    llvm::append_range(initArgs, ArrayRef<Value>(state).take_front(numParams));
  else if (aggregated)
    fixedReference.assign(state.begin(), state.begin() + numParams);
  size_t firstAccumulator = initArgs.size();
  for (ReadOp read : reads) {
    SmallVector<OpFoldResult> sizes = tb.sizes(read.getQuery());
    sizes[3] = b.getIndexAttr(memory.getMemory().getType().getOutputWidth());
    initArgs.push_back(tb.empty(sizes, element));
  }

  RateGranularity lrGrain = RateGranularity::Token,
                  retentionGrain = RateGranularity::Token,
                  momentumGrain = RateGranularity::Token;
  if (auto rule = dyn_cast<MomentumGDAttr>(memory.getRule())) {
    lrGrain = rule.getLr();
    retentionGrain = rule.getRetention();
    momentumGrain = rule.getMomentum();
  } else {
    auto dgd = cast<DGDAttr>(memory.getRule());
    lrGrain = dgd.getLr();
    retentionGrain = dgd.getRetention();
  }

  Value c0 = tb.indexConstant(0), c1 = tb.indexConstant(1);
  auto loop = scf::ForOp::create(
      b, loc, c0, numChunks, c1, initArgs,
      [&](OpBuilder &nb, Location nloc, Value index, ValueRange carried) {
        TensorBuilder ntb(nb, nloc);
        MemoryModel chunkModel(ntb, memory);
        Value start = arith::MulIOp::create(nb, nloc, index, chunkSize);
        Value remaining = arith::SubIOp::create(nb, nloc, tokens, start);
        Value count = arith::MinUIOp::create(nb, nloc, remaining, chunkSize);
        Value complete = arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::eq,
                                               count, chunkSize);
        SmallVector<Value> theta(carried.take_front(numParams));
        SmallVector<Value> momentum(
            carried.slice(numParams, numParams * order));

        ChunkInputs in;
        in.keys = sliceTokens(nb, keys, start, count);
        in.values = sliceTokens(nb, update.getValues(), start, count);
        Value tokenLike = ntb.sumLastDim(in.keys);
        SmallVector<Value> newTheta, newMomentum, reference;
        if (!aggregated) {
          in.lr = chunkRate(nb, update.getLr(), lrGrain, index, start, count,
                            tokenLike);
          if (update.getRetention())
            in.retention = chunkRate(nb, update.getRetention(), retentionGrain,
                                     index, start, count, tokenLike);
          for (Value beta : update.getMomentum())
            in.momentum.push_back(chunkRate(nb, beta, momentumGrain, index,
                                            start, count, tokenLike));
          if (isa<DGDAttr>(memory.getRule()))
            dgdUpdate(nb, chunkModel, theta, in, newTheta);
          else
            momentumUpdate(nb, chunkModel, theta, momentum, in, newTheta,
                           newMomentum);
        } else {
          // The reference state: refreshed at multiples of the period.
          if (carriesReference) {
            Value period = ntb.indexConstant(aggregated.getPeriod());
            Value offset = arith::RemUIOp::create(nb, nloc, start, period);
            Value refresh = arith::CmpIOp::create(
                nb, nloc, arith::CmpIPredicate::eq, offset, c0);
            for (unsigned p = 0; p < numParams; ++p)
              reference.push_back(arith::SelectOp::create(
                  nb, nloc, refresh, theta[p],
                  carried[numParams * (1 + order) + p]));
          } else {
            reference = fixedReference;
          }
          in.lr = chunkRate(nb, update.getLr(), lrGrain, index, start, count,
                            tokenLike);
          MemoryModel::Forward forward = chunkModel.forward(reference, in.keys);
          Value dOutput =
              chunkModel.objectiveGradient(forward.output, in.values);
          auto grads = chunkModel.backward(reference, forward, dOutput);
          Value alpha = update.getRetention()
                            ? scalarAt(nb, update.getRetention(), index)
                            : Value();
          Value beta = order ? scalarAt(nb, update.getMomentum()[0], index)
                             : Value();
          for (unsigned p = 0; p < numParams; ++p) {
            std::string spec = paramSpec(theta[p]).str();
            Value sum =
                grads[p].vector
                    ? ntb.einsum("bhtd,bht->bhd", {grads[p].vector, in.lr})
                    : ntb.einsum("bhtr,bhtc,bht->bhrc",
                                 {grads[p].rows, grads[p].cols, in.lr});
            // S_i = beta_i S - G_i (or -G_i); theta_i = alpha_i theta + S_i.
            Value step = sum;
            Value s;
            if (order) {
              s = ntb.einsum(spec + ",bh," + spec + "->" + spec,
                             {momentum[p], beta, sum},
                             [](OpBuilder &sb, Location sl, ValueRange a) {
                               Value d = arith::MulFOp::create(sb, sl, a[0], a[1]);
                               return arith::SubFOp::create(sb, sl, d, a[2])
                                   .getResult();
                             });
              step = s;
            }
            Value decayed =
                alpha ? ntb.einsum(spec + ",bh->" + spec, {theta[p], alpha})
                      : theta[p];
            Value updated = ntb.einsum(
                spec + "," + spec + "->" + spec, {decayed, step},
                [&](OpBuilder &sb, Location sl, ValueRange a) {
                  return order ? arith::AddFOp::create(sb, sl, a[0], a[1])
                                     .getResult()
                               : arith::SubFOp::create(sb, sl, a[0], a[1])
                                     .getResult();
                });
            // A trailing partial chunk makes no update: its update would
            // happen at a token the sequence does not reach.
            newTheta.push_back(
                arith::SelectOp::create(nb, nloc, complete, updated, theta[p]));
            if (order)
              newMomentum.push_back(arith::SelectOp::create(
                  nb, nloc, complete, s, momentum[p]));
          }
        }

        // Reads of this chunk.
        SmallVector<Value> accumulators;
        for (auto [r, read] : llvm::enumerate(reads)) {
          Value query = sliceTokens(nb, read.getQuery(), start, count);
          Value y = chunkModel.forward(theta, query).output;
          if (read.getPoint() == ReadPoint::After) {
            // The last token of a complete chunk sees the chunk's update.
            Value last = arith::SubIOp::create(nb, nloc, count, c1);
            Value lastQuery = sliceTokens(nb, query, last, c1);
            Value lastY = chunkModel.forward(newTheta, lastQuery).output;
            SmallVector<OpFoldResult> offsets = {nb.getIndexAttr(0),
                                                 nb.getIndexAttr(0), last,
                                                 nb.getIndexAttr(0)};
            SmallVector<OpFoldResult> sizes = ntb.sizes(lastY);
            SmallVector<OpFoldResult> strides(4, nb.getIndexAttr(1));
            Value patched = tensor::InsertSliceOp::create(
                nb, nloc, lastY, y, offsets, sizes, strides);
            y = arith::SelectOp::create(nb, nloc, complete, patched, y);
          }
          SmallVector<OpFoldResult> offsets = {nb.getIndexAttr(0),
                                               nb.getIndexAttr(0), start,
                                               nb.getIndexAttr(0)};
          SmallVector<OpFoldResult> sizes = ntb.sizes(y);
          SmallVector<OpFoldResult> strides(4, nb.getIndexAttr(1));
          accumulators.push_back(tensor::InsertSliceOp::create(
              nb, nloc, y, carried[firstAccumulator + r], offsets, sizes,
              strides));
        }

        SmallVector<Value> yielded(newTheta);
        llvm::append_range(yielded, newMomentum);
        llvm::append_range(yielded, reference.empty() || !carriesReference
                                        ? ArrayRef<Value>()
                                        : ArrayRef<Value>(reference));
        llvm::append_range(yielded, accumulators);
        scf::YieldOp::create(nb, nloc, yielded);
      });

  for (auto [r, read] : llvm::enumerate(reads))
    read.getResult().replaceAllUsesWith(loop.getResult(firstAccumulator + r));
  for (FinalStateOp final : finals)
    for (auto [index, result] : llvm::enumerate(final.getStates()))
      result.replaceAllUsesWith(loop.getResult(index));
  return success();
}

struct LowerMemoriesPass
    : nl::impl::NLLowerMemoriesBase<LowerMemoriesPass> {
  void runOnOperation() override {
    SmallVector<MemoryOp> memories;
    getOperation()->walk([&](MemoryOp memory) { memories.push_back(memory); });
    for (MemoryOp memory : memories) {
      MemoryLowering lowering(memory);
      if (failed(lowering.verifySupported()) || failed(lowering.lower()))
        return signalPassFailure();
    }
    // The memory ops are now dead: erase users, then the memories.
    for (MemoryOp memory : memories) {
      for (Operation *user :
           llvm::make_early_inc_range(memory.getMemory().getUsers()))
        user->erase();
      memory.erase();
    }
  }
};

} // namespace
