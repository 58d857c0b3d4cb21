//===- ChunkLoopPreconditions.cpp - what the chunk loop relies on ---------===//
//
// Relations between inputs that the manifest's shapes cannot state and the
// chunk loop's indexing relies on: checked by the artifact before it runs
// (nl.precondition, outlined by nl-outline-preconditions).
//
//===----------------------------------------------------------------------===//

#include "ChunkLoopBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;
using namespace mlir::nl;

/// A per-chunk rate must have an entry for every chunk the call's tokens
/// touch, ceil((position mod C + T) / C): a relation between two inputs that
/// the manifest's shapes cannot state, so the artifact checks it before
/// running (nl.precondition) instead of reading past the rate's end.
void ChunkLoopBuilder::requireChunkRates(OpBuilder &b,
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
void ChunkLoopBuilder::requireRepresentablePosition(OpBuilder &b) {
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

bool ChunkLoopBuilder::givenByCaller(Value value, unsigned dim) {
  auto wanted = classes->find(value, dim);
  for (BlockArgument argument : function.getArguments())
    if (auto type = dyn_cast<RankedTensorType>(argument.getType()))
      for (unsigned d = 0; d < type.getRank(); ++d)
        if (type.isDynamicDim(d) && classes->find(argument, d) == wanted)
          return true;
  return false;
}
