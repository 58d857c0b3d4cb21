//===- DifferentiateLoop.cpp - the adjoint of an scf.for with iter_args ---===//
//
// Checkpointing at iteration boundaries (a chunk loop's iterations are the
// chunks, its iter_args the states): the forward loop is rewritten to record
// the entry value of every iter_arg at every iteration in a "tape" (a tensor
// with one entry per iteration, after the value's batch and heads), so the saved memory grows with the
// trip count, not with what an iteration computes. The reverse loop walks the
// iterations backwards; each one reads its entry values from the tapes,
// recomputes the iteration's body and runs the reverse sweep through the
// recomputed ops. It carries the adjoints of the iter_args and of every float
// value from outside the loop that the body reads.
//
// An iter_arg only written into (tensor.insert_slice destinations, selects
// of those, tensor.dim, yielded back in its own position: an output being
// assembled slice by slice) has values no adjoint rule reads: it is not
// recorded, and the recomputation gets a stand-in of its shape.
//
//===----------------------------------------------------------------------===//

#include "Differentiate.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace mlir::nl;
using namespace mlir::nl::autodiff;

namespace {

/// Whether iter_arg `index` of `loop` is only written into (see the header).
bool isWriteOnly(scf::ForOp loop, unsigned index) {
  BlockArgument arg = loop.getRegionIterArgs()[index];
  if (!isa<RankedTensorType>(arg.getType()))
    return false;
  SmallVector<Value> worklist{arg};
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      if (isa<tensor::DimOp>(user))
        continue;
      if (auto insert = dyn_cast<tensor::InsertSliceOp>(user);
          insert && use.get() == insert.getDest() &&
          insert.getSource() != value) {
        worklist.push_back(insert.getResult());
        continue;
      }
      if (auto select = dyn_cast<arith::SelectOp>(user);
          select && use.get() != select.getCondition()) {
        worklist.push_back(select.getResult());
        continue;
      }
      if (isa<scf::YieldOp>(user) && user->getParentOp() == loop &&
          use.getOperandNumber() == index)
        continue;
      return false;
    }
  }
  return true;
}

/// Where a tape puts its iteration dimension among the dimensions of the
/// values it records: after the first two of a value of rank 2 or more (a
/// memory state's batch and heads), so that the entries of one (batch,
/// head) are that pair's own slice of the tape (a GPU block of a memory
/// stage owns its slice, docs/training.md); in front otherwise.
unsigned tapeDim(unsigned rank) { return rank >= 2 ? 2 : 0; }

/// An empty tape for `like`: one entry per iteration, at tapeDim.
Value createTape(OpBuilder &b, Location loc, Value like, Value trip) {
  auto tensor = dyn_cast<RankedTensorType>(like.getType());
  if (!tensor)
    return tensor::EmptyOp::create(
        b, loc, RankedTensorType::get({ShapedType::kDynamic}, like.getType()),
        ValueRange{trip});
  unsigned at = tapeDim(tensor.getRank());
  SmallVector<int64_t> shape;
  SmallVector<Value> dynamicSizes;
  for (auto [dim, size] : llvm::enumerate(tensor.getShape())) {
    if (dim == at) {
      shape.push_back(ShapedType::kDynamic);
      dynamicSizes.push_back(trip);
    }
    shape.push_back(size);
    if (ShapedType::isDynamic(size))
      dynamicSizes.push_back(tensor::DimOp::create(b, loc, like, dim));
  }
  if (at == tensor.getRank()) {
    shape.push_back(ShapedType::kDynamic);
    dynamicSizes.push_back(trip);
  }
  return tensor::EmptyOp::create(
      b, loc, RankedTensorType::get(shape, tensor.getElementType()),
      dynamicSizes);
}

/// The offsets, sizes and strides of entry `k` of a tape whose entries
/// have the sizes `entrySizes`.
void tapeSlice(OpBuilder &b, ArrayRef<OpFoldResult> entrySizes, Value k,
               SmallVectorImpl<OpFoldResult> &offsets,
               SmallVectorImpl<OpFoldResult> &sizes,
               SmallVectorImpl<OpFoldResult> &strides) {
  unsigned at = tapeDim(entrySizes.size());
  for (unsigned dim = 0; dim <= entrySizes.size(); ++dim) {
    if (dim == at) {
      offsets.push_back(k);
      sizes.push_back(b.getIndexAttr(1));
      strides.push_back(b.getIndexAttr(1));
    }
    if (dim == entrySizes.size())
      break;
    offsets.push_back(b.getIndexAttr(0));
    sizes.push_back(entrySizes[dim]);
    strides.push_back(b.getIndexAttr(1));
  }
}

Value recordEntry(OpBuilder &b, Location loc, Value tape, Value value,
                  Value k) {
  if (!isa<RankedTensorType>(value.getType()))
    return tensor::InsertOp::create(b, loc, value, tape, ValueRange{k});
  SmallVector<OpFoldResult> offsets, sizes, strides;
  tapeSlice(b, tensor::getMixedSizes(b, loc, value), k, offsets, sizes,
            strides);
  return tensor::InsertSliceOp::create(b, loc, value, tape, offsets, sizes,
                                       strides);
}

Value loadEntry(OpBuilder &b, Location loc, Value tape, Type type, Value k) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return tensor::ExtractOp::create(b, loc, tape, ValueRange{k});
  SmallVector<OpFoldResult> entrySizes = tensor::getMixedSizes(b, loc, tape);
  entrySizes.erase(entrySizes.begin() + tapeDim(tensor.getRank()));
  SmallVector<OpFoldResult> offsets, sizes, strides;
  tapeSlice(b, entrySizes, k, offsets, sizes, strides);
  return tensor::ExtractSliceOp::create(b, loc, tensor, tape, offsets, sizes,
                                        strides);
}

} // namespace

LogicalResult ReverseSweep::reverseFor(scf::ForOp loop) {
  Location loc = loop.getLoc();
  unsigned numIterArgs = loop.getNumRegionIterArgs();
  SmallVector<Value> resultAdjoints;
  for (Value result : loop.getResults()) {
    resultAdjoints.push_back(lookup(result));
    adjoints.erase(result); // the loop is replaced below
  }
  SmallVector<Value> inits(loop.getInitArgs());
  SmallVector<bool> recorded;
  for (unsigned i = 0; i < numIterArgs; ++i)
    recorded.push_back(!isWriteOnly(loop, i));

  // Trip count: max(0, ceil((ub - lb) / step)).
  OpBuilder forward(loop);
  Value lower = loop.getLowerBound(), upper = loop.getUpperBound(),
        step = loop.getStep();
  if (!lower.getType().isIndex())
    return loop.emitError("nl-differentiate: an scf.for over ")
           << lower.getType() << " (only index loops are differentiated)";
  Value zero = arith::ConstantIndexOp::create(forward, loc, 0);
  Value one = arith::ConstantIndexOp::create(forward, loc, 1);
  Value trip = arith::CeilDivSIOp::create(
      forward, loc, arith::SubIOp::create(forward, loc, upper, lower), step);
  trip = arith::MaxSIOp::create(forward, loc, trip, zero);

  SmallVector<Value> tapes;
  SmallVector<unsigned> tapedArgs;
  for (unsigned i = 0; i < numIterArgs; ++i)
    if (recorded[i]) {
      tapes.push_back(createTape(forward, loc, inits[i], trip));
      tapedArgs.push_back(i);
    }

  // The recording loop: the same body, plus one tape per recorded iter_arg
  // receiving the entry value at iteration k = (iv - lb) / step.
  SmallVector<Value> recordingInits(inits);
  llvm::append_range(recordingInits, tapes);
  auto recording = scf::ForOp::create(forward, loc, lower, upper, step,
                                      recordingInits);
  Block *body = recording.getBody();
  if (!body->empty())
    body->getTerminator()->erase();
  IRRewriter rewriter(forward);
  rewriter.mergeBlocks(loop.getBody(), body,
                       body->getArguments().take_front(1 + numIterArgs));
  auto oldYield = cast<scf::YieldOp>(body->getTerminator());
  forward.setInsertionPoint(oldYield);
  Value offset =
      arith::SubIOp::create(forward, loc, recording.getInductionVar(), lower);
  // Everything from here to the yield records; the recomputation skips it.
  Operation *firstRecordingOp = offset.getDefiningOp();
  Value k = arith::DivSIOp::create(forward, loc, offset, step);
  SmallVector<Value> yielded(oldYield.getOperands());
  for (auto [t, i] : llvm::enumerate(tapedArgs))
    yielded.push_back(recordEntry(forward, loc,
                                  recording.getRegionIterArgs()[numIterArgs + t],
                                  recording.getRegionIterArgs()[i], k));
  scf::YieldOp::create(forward, oldYield.getLoc(), yielded);
  oldYield.erase();
  loop.replaceAllUsesWith(recording.getResults().take_front(numIterArgs));
  loop.erase();
  ValueRange results = recording.getResults().take_front(numIterArgs);
  ValueRange tapeResults = recording.getResults().drop_front(numIterArgs);

  // Floats from outside that the body reads: their adjoints are carried.
  llvm::SetVector<Value> freeValues;
  recording.getRegion().walk([&](Operation *inner) {
    for (Value operand : inner->getOperands())
      if (!recording.getRegion().isAncestor(operand.getParentRegion()) &&
          !isInactive(operand))
        freeValues.insert(operand);
  });

  SmallVector<unsigned> floatArgs;
  SmallVector<Value> carried;
  for (unsigned i = 0; i < numIterArgs; ++i)
    if (isDifferentiable(results[i].getType())) {
      floatArgs.push_back(i);
      carried.push_back(resultAdjoints[i] ? resultAdjoints[i]
                                          : zerosLike(loc, results[i]));
    }
  for (Value value : freeValues)
    carried.push_back(getOrZeros(loc, value));

  // The body is built once the loop is in place: the rules walk its parents.
  auto reverseLoop = scf::ForOp::create(builder, loc, zero, trip, one, carried);
  Block *reverseBody = reverseLoop.getBody();
  if (!reverseBody->empty())
    reverseBody->getTerminator()->erase();
  OpBuilder b = OpBuilder::atBlockEnd(reverseBody);
  Location l = loc;
  Value r = reverseLoop.getInductionVar();
  ValueRange args = reverseLoop.getRegionIterArgs();
  Value last = arith::SubIOp::create(b, l, trip, one);
  Value iteration = arith::SubIOp::create(b, l, last, r);
  Value iv = arith::AddIOp::create(
      b, l, lower, arith::MulIOp::create(b, l, iteration, step));
  IRMapping mapping;
  mapping.map(recording.getInductionVar(), iv);
  unsigned tapeIndex = 0;
  for (unsigned i = 0; i < numIterArgs; ++i) {
    BlockArgument arg = recording.getRegionIterArgs()[i];
    Value entry =
        recorded[i]
            ? loadEntry(b, l, tapeResults[tapeIndex++], arg.getType(),
                        iteration)
            : results[i]; // a stand-in of its shape
    mapping.map(arg, entry);
  }
  SmallVector<Operation *> recomputed;
  for (Operation &op : body->without_terminator()) {
    if (&op == firstRecordingOp)
      break;
    recomputed.push_back(b.clone(op, mapping));
  }

  ReverseSweep inner(b);
  for (auto [f, value] : llvm::enumerate(freeValues))
    inner.set(value, args[floatArgs.size() + f]);
  Operation *yield = body->getTerminator();
  for (auto [c, i] : llvm::enumerate(floatArgs))
    inner.accumulate(mapping.lookupOrDefault(yield->getOperand(i)), args[c]);
  if (failed(inner.run(recomputed)))
    return failure();
  SmallVector<Value> next;
  for (unsigned i : floatArgs)
    next.push_back(inner.getOrZeros(
        l, mapping.lookup(recording.getRegionIterArgs()[i])));
  for (Value value : freeValues)
    next.push_back(inner.getOrZeros(l, value));
  scf::YieldOp::create(b, l, next);


  for (auto [c, i] : llvm::enumerate(floatArgs))
    accumulate(inits[i], reverseLoop.getResult(c));
  for (auto [f, value] : llvm::enumerate(freeValues))
    set(value, reverseLoop.getResult(floatArgs.size() + f));
  return success();
}
