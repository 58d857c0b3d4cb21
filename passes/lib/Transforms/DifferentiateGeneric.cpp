//===- DifferentiateGeneric.cpp - the adjoint of a linalg.generic ---------===//
//
// One rule for every linalg.generic. For each operand x_k with an adjoint to
// receive, one adjoint generic over the same iteration space: its output is
// x_k's adjoint, indexed by x_k's map (parallel on x_k's dims, reduction on
// the others, so the contributions of every point that read an element are
// summed); its inputs are the original operands and the results' adjoints;
// its body recomputes the original body and runs the scalar reverse sweep
// through it.
//
// Outputs: in a generic without reduction dims an output read by the body is
// an input like the others. With reduction dims an output read by the body
// must be a sum accumulator (`out + f(ins)` yielded, `out` used nowhere
// else): then d result / d init is the identity and f alone is
// differentiated. Other accumulators (products, max) are an error.
//
//===----------------------------------------------------------------------===//

#include "Differentiate.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;
using namespace mlir::nl;
using namespace mlir::nl::autodiff;

namespace {

/// For a reduction generic: whether output `index`'s block argument is unused
/// or only a sum accumulator.
bool isSumAccumulator(linalg::GenericOp op, unsigned index) {
  BlockArgument out = op.getRegionOutputArgs()[index];
  if (out.use_empty())
    return true;
  if (!out.hasOneUse())
    return false;
  Operation *user = *out.getUsers().begin();
  auto yield = cast<linalg::YieldOp>(op.getBody()->getTerminator());
  bool isSum = false;
  if (auto addf = dyn_cast<arith::AddFOp>(user))
    isSum = true;
  else if (auto subf = dyn_cast<arith::SubFOp>(user))
    isSum = subf.getLhs() == out;
  if (!isSum || !user->getResult(0).hasOneUse())
    return false;
  OpOperand &use = *user->getResult(0).getUses().begin();
  return use.getOwner() == yield && use.getOperandNumber() == index;
}

/// The iterators of the adjoint generic whose output is indexed by `map`: a
/// loop is parallel where it is one of the indices on its own and appears
/// nowhere else in `map`; every other loop is a reduction (its points add
/// into the same element). An index that is a sum of loops (a convolution's
/// t + j) makes the adjoint a scatter-add: its loops are reductions.
LogicalResult adjointIterators(AffineMap map,
                               SmallVectorImpl<utils::IteratorType> &iterators) {
  SmallVector<unsigned> uses(map.getNumDims(), 0);
  SmallVector<bool> alone(map.getNumDims(), false);
  for (AffineExpr result : map.getResults()) {
    if (auto dim = dyn_cast<AffineDimExpr>(result)) {
      ++uses[dim.getPosition()];
      alone[dim.getPosition()] = true;
      continue;
    }
    bool sumOfDims = true;
    result.walk([&](AffineExpr expr) {
      if (auto dim = dyn_cast<AffineDimExpr>(expr))
        ++uses[dim.getPosition()];
      else if (expr.getKind() != AffineExprKind::Add)
        sumOfDims = false;
    });
    if (!sumOfDims)
      return failure();
  }
  for (unsigned d = 0; d < map.getNumDims(); ++d)
    iterators.push_back(alone[d] && uses[d] == 1
                            ? utils::IteratorType::parallel
                            : utils::IteratorType::reduction);
  return success();
}

} // namespace

bool mlir::nl::autodiff::reachesYield(linalg::GenericOp op,
                                      BlockArgument argument) {
  auto yield = op.getBody()->getTerminator();
  if (llvm::is_contained(yield->getOperands(), argument))
    return true;
  SetVector<Operation *> slice;
  getForwardSlice(argument, &slice);
  return slice.contains(yield);
}

LogicalResult mlir::nl::autodiff::refuseCapturedFloats(linalg::GenericOp op,
                                                       bool allowGathers) {
  WalkResult captured = op.getRegion().walk([&](Operation *inner) {
    auto extract = dyn_cast<tensor::ExtractOp>(inner);
    if (allowGathers && extract && isGatheredFrom(op, extract))
      return WalkResult::advance();
    for (Value operand : inner->getOperands())
      if (!op.getRegion().isAncestor(operand.getParentRegion()) &&
          isDifferentiable(operand.getType()) && !isInactive(operand)) {
        inner->emitError("nl-differentiate: a linalg.generic body uses a "
                         "float computed outside it; capture it as an "
                         "input to differentiate through it");
        return WalkResult::interrupt();
      }
    return WalkResult::advance();
  });
  return failure(captured.wasInterrupted());
}

LogicalResult ReverseSweep::reverseGeneric(linalg::GenericOp op) {
  unsigned numInputs = op.getNumDpsInputs();
  unsigned numOutputs = op.getNumDpsInits();
  bool hasReduction = op.getNumReductionLoops() > 0;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  Block *body = op.getBody();

  // A max/min reduction has a rule of its own (DifferentiateExtremum.cpp).
  bool extremum = false;
  if (failed(reverseExtremum(op, extremum)))
    return failure();
  if (extremum)
    return success();

  // A table read by tensor.extract: a gather, whose adjoint is a
  // scatter-add. Other captured non-constant floats would need a reduction
  // of their own.
  if (failed(reverseGather(op)) ||
      failed(refuseCapturedFloats(op, /*allowGathers=*/true)))
    return failure();

  // Results with an adjoint, and the outputs that are sum accumulators.
  SmallVector<unsigned> seeded;
  for (unsigned j = 0; j < numOutputs; ++j)
    if (lookup(op.getResult(j)))
      seeded.push_back(j);
  if (hasReduction)
    for (unsigned j = 0; j < numOutputs; ++j)
      if (!isSumAccumulator(op, j))
        return op.emitError("nl-differentiate: no adjoint rule for a "
                            "reduction whose output #")
               << j
               << " accumulates other than by a sum (out + f(ins)) or a "
                  "max/min (maximumf(out, f), possibly as select(c, "
                  "maximumf(out, f), out)); products and other reductions "
                  "are not differentiated";

  // Operands the adjoint body reads: every input; the outputs a parallel
  // body reads; the seeded results' adjoints.
  SmallVector<Value> adjointInputs;
  SmallVector<AffineMap> adjointMaps;
  SmallVector<BlockArgument> originalArgs; // per adjoint input, or null
  for (unsigned i = 0; i < numInputs; ++i) {
    adjointInputs.push_back(op.getDpsInputs()[i]);
    adjointMaps.push_back(maps[i]);
    originalArgs.push_back(body->getArgument(i));
  }
  for (unsigned j = 0; j < numOutputs; ++j) {
    BlockArgument out = op.getRegionOutputArgs()[j];
    if (hasReduction || out.use_empty())
      continue;
    adjointInputs.push_back(op.getDpsInits()[j]);
    adjointMaps.push_back(maps[numInputs + j]);
    originalArgs.push_back(out);
  }
  unsigned firstSeed = adjointInputs.size();
  for (unsigned j : seeded) {
    adjointInputs.push_back(lookup(op.getResult(j)));
    adjointMaps.push_back(maps[numInputs + j]);
    originalArgs.push_back(BlockArgument());
  }

  // A sum accumulator's init receives the result's adjoint unchanged.
  if (hasReduction)
    for (unsigned j : seeded)
      if (!op.getRegionOutputArgs()[j].use_empty())
        accumulate(op.getDpsInits()[j], lookup(op.getResult(j)));

  for (unsigned k = 0; k < firstSeed; ++k) {
    BlockArgument original = originalArgs[k];
    if (isInactive(adjointInputs[k]) || !reachesYield(op, original))
      continue;
    auto recompute = [&](OpBuilder &nb, Location l, ValueRange args,
                         SmallVectorImpl<Operation *> &recomputed,
                         llvm::DenseMap<Value, Value> &scalarAdjoints) {
      IRMapping mapping;
      for (unsigned a = 0; a < firstSeed; ++a)
        mapping.map(originalArgs[a], args[a]);
      // A sum accumulator's partial sum never reaches the derivative of
      // f(ins); any value stands for it.
      if (hasReduction)
        for (BlockArgument out : op.getRegionOutputArgs())
          mapping.map(out, arith::ConstantOp::create(
                               nb, l, nb.getFloatAttr(out.getType(), 0.0)));
      for (Operation &inner : body->without_terminator())
        recomputed.push_back(nb.clone(inner, mapping));
      auto yield = cast<linalg::YieldOp>(body->getTerminator());
      for (auto [s, j] : llvm::enumerate(seeded)) {
        Value yielded = mapping.lookupOrDefault(yield.getOperand(j));
        Value seed = args[firstSeed + s];
        Value &slot = scalarAdjoints[yielded];
        slot = slot ? arith::AddFOp::create(nb, l, slot, seed).getResult()
                    : seed;
      }
    };
    if (failed(emitOperandAdjoint(op, k, adjointInputs, adjointMaps,
                                  recompute)))
      return failure();
  }
  return success();
}

LogicalResult ReverseSweep::emitOperandAdjoint(
    linalg::GenericOp op, unsigned k, ArrayRef<Value> adjointInputs,
    ArrayRef<AffineMap> adjointMaps, RecomputeBody recompute) {
  Location loc = op.getLoc();
  Value operand = adjointInputs[k];
  AffineMap map = adjointMaps[k];
  SmallVector<utils::IteratorType> iterators;
  if (failed(adjointIterators(map, iterators)))
    return op.emitError("nl-differentiate: operand #")
           << k << " of a linalg.generic is indexed by "
           << AffineMapAttr::get(map)
           << "; adjoints exist for indices that are loop dimensions or "
              "sums of them";

  // A scalar operand's adjoint is summed into a 0-d tensor.
  Type operandType = operand.getType();
  bool scalar = !isa<RankedTensorType>(operandType);
  Value init;
  if (scalar) {
    auto type = RankedTensorType::get({}, operandType);
    init = tensor::EmptyOp::create(builder, loc, type, ValueRange{});
    init = linalg::FillOp::create(builder, loc, zerosLike(loc, operand), init)
               .getResult(0);
  } else {
    init = lookup(operand) ? lookup(operand) : zerosLike(loc, operand);
  }
  SmallVector<AffineMap> allMaps(adjointMaps);
  allMaps.push_back(map);

  bool bodyFailed = false;
  auto buildBody = [&](OpBuilder &nb, Location l, ValueRange args) {
    SmallVector<Operation *> recomputed;
    llvm::DenseMap<Value, Value> scalarAdjoints;
    recompute(nb, l, args, recomputed, scalarAdjoints);
    bodyFailed = failed(reverseScalarOps(nb, recomputed, scalarAdjoints));
    Value accumulated = args.back();
    if (Value contribution = scalarAdjoints.lookup(args[k]))
      accumulated = arith::AddFOp::create(nb, l, accumulated, contribution);
    linalg::YieldOp::create(nb, l, accumulated);
  };
  auto adjoint = linalg::GenericOp::create(
      builder, loc, TypeRange{init.getType()}, adjointInputs, ValueRange{init},
      allMaps, iterators, buildBody);
  if (bodyFailed)
    return failure();
  Value result = adjoint.getResult(0);
  if (scalar)
    accumulate(operand,
               tensor::ExtractOp::create(builder, loc, result, ValueRange{}));
  else
    set(operand, result);
  return success();
}
