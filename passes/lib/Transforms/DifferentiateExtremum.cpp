//===- DifferentiateExtremum.cpp - the adjoint of a max/min reduction -----===//
//
// A reduction generic whose one output keeps the largest (smallest) of its
// candidates: the body yields maximumf(out, f) (or maxnumf; minimumf, minnumf
// for the smallest), or select(c, maximumf(out, f), out), where only the
// points at which c holds are candidates (a causal mask). The result m is the
// extremum of the init and the candidates f(p).
//
// Tie rule, torch.amax's: the adjoint dm is shared evenly by every candidate
// equal to m, the init included (dm / n to each of the n ties), so it does
// not depend on the order the points are visited in. A first generic counts
// the ties (a sum over the same iteration space, starting from the init's
// tie); then each operand's adjoint generic recomputes f and c at every point
// and runs the scalar reverse sweep from select(c and f == m, dm / n, 0).
//
// In a softmax (nl.causal_attention's lowering) the row maximum's adjoint is
// exactly 0 in real arithmetic and a rounding residue in floating point, so
// the tie rule does not change attention's gradients.
//
//===----------------------------------------------------------------------===//

#include "Differentiate.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mlir::nl;
using namespace mlir::nl::autodiff;

namespace {

/// The accumulation of a max/min reduction's output (see the header).
struct Extremum {
  Operation *combiner = nullptr; // arith.maximumf & co.
  arith::SelectOp guard;         // the mask's select, or null
  Value candidate;               // f
};

/// The max/min accumulation of `op`'s one output, if that is how it
/// accumulates: its block argument read only by the combiner (and by the
/// guard as its false value), the combiner read only by the guard or the
/// yield.
std::optional<Extremum> matchExtremum(linalg::GenericOp op) {
  if (op.getNumDpsInits() != 1 || op.getNumReductionLoops() == 0)
    return std::nullopt;
  BlockArgument out = op.getRegionOutputArgs()[0];
  Value yielded = op.getBody()->getTerminator()->getOperand(0);
  Extremum match;
  Operation *combiner = yielded.getDefiningOp();
  if (auto select = dyn_cast_or_null<arith::SelectOp>(combiner)) {
    if (select.getFalseValue() != out || !select.getResult().hasOneUse())
      return std::nullopt;
    match.guard = select;
    combiner = select.getTrueValue().getDefiningOp();
  }
  if (!isa_and_nonnull<arith::MaximumFOp, arith::MaxNumFOp, arith::MinimumFOp,
                       arith::MinNumFOp>(combiner) ||
      combiner->getBlock() != op.getBody() ||
      !combiner->getResult(0).hasOneUse())
    return std::nullopt;
  Value lhs = combiner->getOperand(0), rhs = combiner->getOperand(1);
  if ((lhs == out) == (rhs == out))
    return std::nullopt;
  match.combiner = combiner;
  match.candidate = lhs == out ? rhs : lhs;
  auto uses = std::distance(out.use_begin(), out.use_end());
  if (uses != (match.guard ? 2 : 1))
    return std::nullopt;
  return match;
}

/// A float constant of `type` at the builder.
Value constant(OpBuilder &b, Location loc, Type type, double value) {
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
}

/// An elementwise generic over the shape of `like` (identity maps).
Value elementwise(OpBuilder &b, Location loc, Value like, ValueRange inputs,
                  function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  auto type = cast<RankedTensorType>(like.getType());
  Value empty = tensor::EmptyOp::create(
      b, loc, tensor::getMixedSizes(b, loc, like), type.getElementType());
  SmallVector<AffineMap> maps(inputs.size() + 1,
                              b.getMultiDimIdentityMap(type.getRank()));
  SmallVector<utils::IteratorType> parallel(type.getRank(),
                                            utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, inputs, ValueRange{empty}, maps,
             parallel,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               linalg::YieldOp::create(nb, l, body(nb, l, args));
             })
      .getResult(0);
}

/// Whether a candidate `value` ties with the extremum `m` (and `condition`,
/// the mask, holds where there is one).
Value isTie(OpBuilder &b, Location loc, Value value, Value m,
            Value condition) {
  Value tie =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, value, m);
  return condition ? arith::AndIOp::create(b, loc, condition, tie).getResult()
                   : tie;
}

} // namespace

LogicalResult ReverseSweep::reverseExtremum(linalg::GenericOp op,
                                            bool &handled) {
  std::optional<Extremum> match = matchExtremum(op);
  handled = match.has_value();
  if (!handled)
    return success();
  if (failed(refuseCapturedFloats(op, /*allowGathers=*/false)))
    return failure();

  Location loc = op.getLoc();
  unsigned numInputs = op.getNumDpsInputs();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  AffineMap outMap = maps[numInputs];
  Block *body = op.getBody();
  Value init = op.getDpsInits()[0];
  Value m = op.getResult(0);
  Value dm = lookup(m);
  Type element = getElementTypeOrSelf(m.getType());

  // Recomputes f (and the mask) at one point of the iteration space from the
  // original inputs, `args`; `m` is the extremum there. Returns the tie
  // indicator and the recomputed ops, for the reverse sweep.
  auto recompute = [&](OpBuilder &nb, Location l, ValueRange args, Value mAt,
                       SmallVectorImpl<Operation *> &recomputed,
                       Value &candidate) {
    IRMapping mapping;
    for (unsigned i = 0; i < numInputs; ++i)
      mapping.map(body->getArgument(i), args[i]);
    for (Operation &inner : body->without_terminator())
      if (&inner != match->combiner && &inner != match->guard.getOperation())
        recomputed.push_back(nb.clone(inner, mapping));
    candidate = mapping.lookupOrDefault(match->candidate);
    Value condition =
        match->guard ? mapping.lookupOrDefault(match->guard.getCondition())
                     : Value();
    return isTie(nb, l, candidate, mAt, condition);
  };

  // n, the number of ties per element of m: the init's, then the points'.
  Value initTies = elementwise(
      builder, loc, m, {init, m}, [&](OpBuilder &nb, Location l, ValueRange a) {
        return arith::SelectOp::create(nb, l, isTie(nb, l, a[0], a[1], {}),
                                       constant(nb, l, element, 1.0),
                                       constant(nb, l, element, 0.0))
            .getResult();
      });
  SmallVector<Value> countInputs(op.getDpsInputs());
  countInputs.push_back(m);
  SmallVector<AffineMap> countMaps(ArrayRef(maps).take_front(numInputs));
  countMaps.append({outMap, outMap});
  Value ties =
      linalg::GenericOp::create(
          builder, loc, TypeRange{m.getType()}, countInputs,
          ValueRange{initTies}, countMaps, op.getIteratorTypesArray(),
          [&](OpBuilder &nb, Location l, ValueRange args) {
            SmallVector<Operation *> recomputed;
            Value candidate;
            Value tie = recompute(nb, l, args, args[numInputs], recomputed,
                                  candidate);
            Value one = arith::SelectOp::create(
                nb, l, tie, constant(nb, l, element, 1.0),
                constant(nb, l, element, 0.0));
            linalg::YieldOp::create(
                nb, l,
                ValueRange{arith::AddFOp::create(nb, l, args.back(), one)
                               .getResult()});
          })
          .getResult(0);

  // dm / n where `tie`, else 0.
  auto share = [&](OpBuilder &nb, Location l, Value tie, Value g, Value n) {
    Value shared = arith::DivFOp::create(nb, l, g, n);
    return arith::SelectOp::create(nb, l, tie, shared,
                                   constant(nb, l, element, 0.0))
        .getResult();
  };
  if (!isInactive(init))
    accumulate(init, elementwise(builder, loc, m, {init, m, ties, dm},
                                 [&](OpBuilder &nb, Location l, ValueRange a) {
                                   return share(nb, l,
                                                isTie(nb, l, a[0], a[1], {}),
                                                a[3], a[2]);
                                 }));

  // Each input's adjoint: the reverse sweep of the recomputed body from the
  // candidate's share.
  SmallVector<Value> adjointInputs(op.getDpsInputs());
  adjointInputs.append({m, ties, dm});
  SmallVector<AffineMap> adjointMaps(ArrayRef(maps).take_front(numInputs));
  adjointMaps.append({outMap, outMap, outMap});
  for (unsigned k = 0; k < numInputs; ++k) {
    if (isInactive(adjointInputs[k]) ||
        !reachesYield(op, body->getArgument(k)))
      continue;
    auto recomputeFromShare = [&](OpBuilder &nb, Location l, ValueRange args,
                                  SmallVectorImpl<Operation *> &recomputed,
                                  llvm::DenseMap<Value, Value> &adjoints) {
      Value candidate;
      Value tie = recompute(nb, l, args, args[numInputs], recomputed,
                            candidate);
      adjoints[candidate] =
          share(nb, l, tie, args[numInputs + 2], args[numInputs + 1]);
    };
    if (failed(emitOperandAdjoint(op, k, adjointInputs, adjointMaps,
                                  recomputeFromShare)))
      return failure();
  }
  return success();
}
