//===- ChunkLoopBuilder.cpp - the chunk loop of learning memories ---------===//
//
// Classifies what the loop evaluates per block (classify), then builds the
// scf.for over blocks of G tokens: per block, every memory's update in the
// order its reads need, the reads, and the values exported to ops outside.
//
//===----------------------------------------------------------------------===//

#include "ChunkLoopBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

#include <numeric>

using namespace mlir;
using namespace mlir::nl;

unsigned ChunkLoopBuilder::memoryIndex(Value handle) {
  for (auto [index, lowering] : llvm::enumerate(lowerings))
    if (lowering.memory.getMemory() == handle)
      return index;
  llvm_unreachable("not a memory of this schedule");
}

int64_t ChunkLoopBuilder::tokenDim(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type)
    return -1;
  for (int64_t dim = 0; dim < type.getRank(); ++dim)
    if (classes->find(value, dim) == tokenClass)
      return dim;
  return -1;
}

FailureOr<Value> ChunkLoopBuilder::sizeBeforeLoop(OpBuilder &b, Value value,
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

LogicalResult ChunkLoopBuilder::classify() {
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

Value ChunkLoopBuilder::blockValue(BlockState &block, Value value) {
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

Value ChunkLoopBuilder::blockRead(BlockState &block, ReadOp read) {
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

void ChunkLoopBuilder::updateMemory(BlockState &block, unsigned m) {
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

LogicalResult ChunkLoopBuilder::lower() {
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
