//===- DifferentiateGather.cpp - the adjoint of a gather ------------------===//
//
// A linalg.generic whose body reads a float tensor it does not take as an
// operand, `tensor.extract %table[%row, %column]` with indices computed from
// its inputs and loop indices (nl.embedding's lowering: a row per token id),
// is a gather. Its adjoint is a scatter-add, which no linalg.generic can
// express: a loop nest over the generic's iteration space that recomputes
// the body at each point, runs the scalar reverse sweep through it from the
// results' adjoints, and adds the adjoint of each read element into the
// table's adjoint (carried by the loops, updated in place). The integer
// inputs (token ids) get no adjoint. The generic's operands still go
// through the one rule of DifferentiateGeneric.cpp.
//
//===----------------------------------------------------------------------===//

#include "Differentiate.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;
using namespace mlir::nl;
using namespace mlir::nl::autodiff;

bool mlir::nl::autodiff::isGatheredFrom(linalg::GenericOp op,
                                        tensor::ExtractOp extract) {
  Value source = extract.getTensor();
  return !op.getRegion().isAncestor(source.getParentRegion()) &&
         isDifferentiable(source.getType());
}

namespace {

/// The values of `map`'s results at the loop indices `ivs`.
SmallVector<Value> applyMap(OpBuilder &b, Location loc, AffineMap map,
                            ValueRange ivs) {
  SmallVector<Value> indices;
  for (unsigned r = 0; r < map.getNumResults(); ++r) {
    AffineExpr expr = map.getResult(r);
    if (auto dim = dyn_cast<AffineDimExpr>(expr)) {
      indices.push_back(ivs[dim.getPosition()]);
      continue;
    }
    indices.push_back(
        affine::AffineApplyOp::create(b, loc, map.getSubMap({r}), ivs));
  }
  return indices;
}

} // namespace

LogicalResult ReverseSweep::reverseGather(linalg::GenericOp op) {
  Block *body = op.getBody();
  // The tables read, each carried by the loops once.
  SmallVector<Value> tables;
  for (auto extract : body->getOps<tensor::ExtractOp>())
    if (isGatheredFrom(op, extract) && !isInactive(extract.getTensor()) &&
        !llvm::is_contained(tables, extract.getTensor()))
      tables.push_back(extract.getTensor());
  SmallVector<unsigned> seeded;
  for (unsigned j = 0; j < op.getNumDpsInits(); ++j)
    if (lookup(op.getResult(j)))
      seeded.push_back(j);
  if (tables.empty() || seeded.empty())
    return success();

  Location loc = op.getLoc();
  unsigned numInputs = op.getNumDpsInputs();
  bool hasReduction = op.getNumReductionLoops() > 0;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  SmallVector<Value> lowerBounds, upperBounds, steps;
  for (Range range : cast<linalg::LinalgOp>(op.getOperation())
                         .createLoopRanges(builder, loc)) {
    lowerBounds.push_back(
        getValueOrCreateConstantIndexOp(builder, loc, range.offset));
    upperBounds.push_back(
        getValueOrCreateConstantIndexOp(builder, loc, range.size));
    steps.push_back(getValueOrCreateConstantIndexOp(builder, loc, range.stride));
  }
  SmallVector<Value> initial;
  for (Value table : tables)
    initial.push_back(lookup(table) ? lookup(table) : zerosLike(loc, table));

  bool bodyFailed = false;
  scf::LoopNest nest = scf::buildLoopNest(
      builder, loc, lowerBounds, upperBounds, steps, initial,
      [&](OpBuilder &b, Location l, ValueRange ivs,
          ValueRange carried) -> scf::ValueVector {
        IRMapping mapping;
        for (unsigned i = 0; i < numInputs; ++i)
          mapping.map(body->getArgument(i),
                      tensor::ExtractOp::create(
                          b, l, op.getDpsInputs()[i],
                          applyMap(b, l, maps[i], ivs)));
        for (unsigned j = 0; j < op.getNumDpsInits(); ++j) {
          BlockArgument out = op.getRegionOutputArgs()[j];
          // A sum accumulator's partial sum never reaches the derivative.
          mapping.map(out, hasReduction
                               ? Value(arith::ConstantOp::create(
                                     b, l, b.getFloatAttr(out.getType(), 0.0)))
                               : Value(tensor::ExtractOp::create(
                                     b, l, op.getDpsInits()[j],
                                     applyMap(b, l, maps[numInputs + j],
                                              ivs))));
        }
        SmallVector<Operation *> recomputed;
        for (Operation &inner : body->without_terminator()) {
          if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
            mapping.map(index.getResult(), ivs[index.getDim()]);
            continue;
          }
          recomputed.push_back(b.clone(inner, mapping));
        }
        llvm::DenseMap<Value, Value> scalarAdjoints;
        auto yield = cast<linalg::YieldOp>(body->getTerminator());
        for (unsigned j : seeded) {
          Value seed = tensor::ExtractOp::create(
              b, l, lookup(op.getResult(j)),
              applyMap(b, l, maps[numInputs + j], ivs));
          Value yielded = mapping.lookupOrDefault(yield.getOperand(j));
          Value &slot = scalarAdjoints[yielded];
          slot = slot ? arith::AddFOp::create(b, l, slot, seed).getResult()
                      : seed;
        }
        if (failed(reverseScalarOps(b, recomputed, scalarAdjoints)))
          bodyFailed = true;
        scf::ValueVector updated(carried.begin(), carried.end());
        for (Operation *inner : recomputed) {
          auto extract = dyn_cast<tensor::ExtractOp>(inner);
          if (!extract)
            continue;
          auto *table = llvm::find(tables, extract.getTensor());
          Value adjoint = scalarAdjoints.lookup(extract.getResult());
          if (table == tables.end() || !adjoint)
            continue;
          Value &acc = updated[table - tables.begin()];
          Value old = tensor::ExtractOp::create(b, l, acc, extract.getIndices());
          Value sum = arith::AddFOp::create(b, l, old, adjoint);
          acc = tensor::InsertOp::create(b, l, sum, acc, extract.getIndices());
        }
        return updated;
      });
  if (bodyFailed)
    return failure();
  for (auto [table, result] : llvm::zip(tables, nest.results))
    set(table, result);
  return success();
}
