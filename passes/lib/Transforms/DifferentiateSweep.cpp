//===- DifferentiateSweep.cpp - the reverse sweep and tensor-op rules -----===//
//
// The dispatcher of the reverse sweep, adjoint accumulation, and the rules of
// the tensor ops around the linalg ops: slices, reshapes, fill, select,
// extract/insert, cast. Rules for linalg.generic, scf.for and scalar ops are
// in their own files (Differentiate.h).
//
//===----------------------------------------------------------------------===//

#include "Differentiate.h"

#include "nl/IR/NLOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::nl;
using namespace mlir::nl::autodiff;

bool mlir::nl::autodiff::isDifferentiable(Type type) {
  if (auto tensor = dyn_cast<RankedTensorType>(type))
    return isa<FloatType>(tensor.getElementType());
  return isa<FloatType>(type);
}

bool mlir::nl::autodiff::isInactive(Value value) {
  if (!isDifferentiable(value.getType()))
    return true;
  Operation *op = value.getDefiningOp();
  if (!op)
    return false;
  // No gradient flows through nl.stop_gradient.
  if (isa<arith::ConstantOp, tensor::EmptyOp, StopGradientOp>(op))
    return true;
  if (auto fill = dyn_cast<linalg::FillOp>(op))
    return isInactive(fill.getInputs()[0]);
  return false;
}

Value ReverseSweep::zerosLike(Location loc, Value like) {
  Type type = like.getType();
  auto tensor = dyn_cast<RankedTensorType>(type);
  Type element = tensor ? tensor.getElementType() : type;
  Value zero = arith::ConstantOp::create(builder, loc,
                                         builder.getFloatAttr(element, 0.0));
  if (!tensor)
    return zero;
  SmallVector<Value> dynamicSizes;
  for (auto [dim, size] : llvm::enumerate(tensor.getShape()))
    if (ShapedType::isDynamic(size))
      dynamicSizes.push_back(tensor::DimOp::create(builder, loc, like, dim));
  Value empty = tensor::EmptyOp::create(builder, loc, tensor, dynamicSizes);
  return linalg::FillOp::create(builder, loc, zero, empty).getResult(0);
}

Value ReverseSweep::add(Location loc, Value a, Value b) {
  auto tensor = dyn_cast<RankedTensorType>(a.getType());
  if (!tensor)
    return arith::AddFOp::create(builder, loc, a, b);
  SmallVector<Value> dynamicSizes;
  for (auto [dim, size] : llvm::enumerate(tensor.getShape()))
    if (ShapedType::isDynamic(size))
      dynamicSizes.push_back(tensor::DimOp::create(builder, loc, a, dim));
  Value empty = tensor::EmptyOp::create(builder, loc, tensor, dynamicSizes);
  AffineMap identity = builder.getMultiDimIdentityMap(tensor.getRank());
  SmallVector<utils::IteratorType> parallel(tensor.getRank(),
                                            utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             builder, loc, TypeRange{tensor}, ValueRange{a, b},
             ValueRange{empty},
             ArrayRef<AffineMap>{identity, identity, identity}, parallel,
             [](OpBuilder &nb, Location l, ValueRange args) {
               Value sum = arith::AddFOp::create(nb, l, args[0], args[1]);
               linalg::YieldOp::create(nb, l, sum);
             })
      .getResult(0);
}

void ReverseSweep::accumulate(Value primal, Value adjoint) {
  if (!adjoint || isInactive(primal))
    return;
  Value &slot = adjoints[primal];
  slot = slot ? add(primal.getLoc(), slot, adjoint) : adjoint;
}

Value ReverseSweep::getOrZeros(Location loc, Value primal) {
  if (Value adjoint = lookup(primal))
    return adjoint;
  return zerosLike(loc, primal);
}

LogicalResult ReverseSweep::run(ArrayRef<Operation *> ops) {
  for (Operation *op : llvm::reverse(ops))
    if (failed(reverse(op)))
      return failure();
  return success();
}

LogicalResult ReverseSweep::reverse(Operation *op) {
  bool hasAdjoint = llvm::any_of(
      op->getResults(), [&](Value result) { return lookup(result); });
  if (!hasAdjoint)
    return success();
  if (auto generic = dyn_cast<linalg::GenericOp>(op))
    return reverseGeneric(generic);
  if (auto loop = dyn_cast<scf::ForOp>(op))
    return reverseFor(loop);
  bool handled = false;
  if (failed(reverseTensorOp(op, handled)))
    return failure();
  if (handled)
    return success();
  if (isScalarOp(op) && op->getNumResults() == 1 &&
      succeeded(scalarAdjoints(builder, op, lookup(op->getResult(0)),
                               [&](Value operand, Value adjoint) {
                                 accumulate(operand, adjoint);
                               })))
    return success();
  if (isa<linalg::LinalgOp>(op))
    return op->emitError("nl-differentiate: no adjoint rule for '")
           << op->getName()
           << "': named linalg ops are generalised first, and this one "
              "could not be";
  return op->emitError("nl-differentiate: no adjoint rule for '")
         << op->getName()
         << "' (a gradient flows through its result); see docs/training.md "
            "for the ops with rules";
}

LogicalResult ReverseSweep::reverseTensorOp(Operation *op, bool &handled) {
  handled = true;
  Location loc = op->getLoc();
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case<arith::ConstantOp, tensor::EmptyOp, StopGradientOp>(
          [](Operation *) { return success(); })
      .Case([&](linalg::FillOp fill) {
        // The init is overwritten; the filled value gets the sum of the
        // adjoint (a reduction to a 0-d tensor).
        Value value = fill.getInputs()[0];
        if (isInactive(value))
          return success();
        Value g = lookup(fill.getResult(0));
        auto type = cast<RankedTensorType>(g.getType());
        auto scalarType = RankedTensorType::get({}, type.getElementType());
        Value zero = zerosLike(loc, value);
        Value init = tensor::EmptyOp::create(builder, loc, scalarType,
                                             ValueRange{});
        init = linalg::FillOp::create(builder, loc, zero, init).getResult(0);
        AffineMap all = builder.getMultiDimIdentityMap(type.getRank());
        AffineMap none = AffineMap::get(type.getRank(), 0, builder.getContext());
        SmallVector<utils::IteratorType> reduction(
            type.getRank(), utils::IteratorType::reduction);
        Value sum =
            linalg::GenericOp::create(
                builder, loc, TypeRange{scalarType}, ValueRange{g},
                ValueRange{init}, ArrayRef<AffineMap>{all, none}, reduction,
                [](OpBuilder &nb, Location l, ValueRange args) {
                  linalg::YieldOp::create(
                      nb, l,
                      ValueRange{arith::AddFOp::create(nb, l, args[1], args[0])
                                     .getResult()});
                })
                .getResult(0);
        accumulate(value, tensor::ExtractOp::create(builder, loc, sum,
                                                    ValueRange{}));
        return success();
      })
      .Case([&](tensor::ExtractSliceOp slice) {
        Value g = lookup(slice.getResult());
        Value source = slice.getSource();
        if (isInactive(source))
          return success();
        // Accumulate into the slice of the source's adjoint in place: the
        // cost is the slice's, not the source's (a chunk loop slices its
        // whole sequence once per chunk).
        Value base = lookup(source);
        if (base) {
          Value current = tensor::ExtractSliceOp::create(
              builder, loc, slice.getType(), base, slice.getMixedOffsets(),
              slice.getMixedSizes(), slice.getMixedStrides());
          g = add(loc, current, g);
        } else {
          base = zerosLike(loc, source);
        }
        set(source, tensor::InsertSliceOp::create(
                        builder, loc, g, base, slice.getMixedOffsets(),
                        slice.getMixedSizes(), slice.getMixedStrides()));
        return success();
      })
      .Case([&](tensor::InsertSliceOp insert) {
        Value g = lookup(insert.getResult());
        if (!isInactive(insert.getSource()))
          accumulate(insert.getSource(),
                     tensor::ExtractSliceOp::create(
                         builder, loc, insert.getSourceType(), g,
                         insert.getMixedOffsets(), insert.getMixedSizes(),
                         insert.getMixedStrides()));
        if (!isInactive(insert.getDest()))
          accumulate(insert.getDest(),
                     tensor::InsertSliceOp::create(
                         builder, loc, zerosLike(loc, insert.getSource()), g,
                         insert.getMixedOffsets(), insert.getMixedSizes(),
                         insert.getMixedStrides()));
        return success();
      })
      .Case([&](tensor::ExpandShapeOp expand) {
        Value g = lookup(expand.getResult());
        accumulate(expand.getSrc(), tensor::CollapseShapeOp::create(
                                        builder, loc, expand.getSrcType(), g,
                                        expand.getReassociationIndices()));
        return success();
      })
      .Case([&](tensor::CollapseShapeOp collapse) {
        Value g = lookup(collapse.getResult());
        Value source = collapse.getSrc();
        SmallVector<OpFoldResult> sizes =
            tensor::getMixedSizes(builder, loc, source);
        accumulate(source, tensor::ExpandShapeOp::create(
                               builder, loc, collapse.getSrcType(), g,
                               collapse.getReassociationIndices(), sizes));
        return success();
      })
      .Case([&](tensor::PadOp pad) -> LogicalResult {
        // The source's adjoint is the window of the result's adjoint it was
        // copied to; a constant padding value gets none.
        if (!pad.getConstantPaddingValue())
          return pad.emitError("nl-differentiate: no adjoint rule for a "
                               "tensor.pad whose padding is not one value");
        Value g = lookup(pad.getResult());
        Value source = pad.getSource();
        SmallVector<OpFoldResult> sizes =
            tensor::getMixedSizes(builder, loc, source);
        SmallVector<OpFoldResult> strides(sizes.size(),
                                          builder.getIndexAttr(1));
        accumulate(source, tensor::ExtractSliceOp::create(
                               builder, loc, pad.getSourceType(), g,
                               pad.getMixedLowPad(), sizes, strides));
        if (!isInactive(pad.getConstantPaddingValue()))
          return pad.emitError("nl-differentiate: no adjoint rule for a "
                               "tensor.pad with a computed padding value");
        return success();
      })
      .Case([&](tensor::CastOp cast) {
        Value g = lookup(cast.getResult());
        accumulate(cast.getSource(),
                   tensor::CastOp::create(builder, loc,
                                          cast.getSource().getType(), g));
        return success();
      })
      .Case([&](tensor::ExtractOp extract) {
        Value g = lookup(extract.getResult());
        Value source = extract.getTensor();
        if (isInactive(source))
          return success();
        Value base = lookup(source);
        if (base)
          g = arith::AddFOp::create(
              builder, loc,
              tensor::ExtractOp::create(builder, loc, base,
                                        extract.getIndices()),
              g);
        else
          base = zerosLike(loc, source);
        set(source, tensor::InsertOp::create(builder, loc, g, base,
                                             extract.getIndices()));
        return success();
      })
      .Case([&](tensor::InsertOp insert) {
        Value g = lookup(insert.getResult());
        accumulate(insert.getScalar(),
                   tensor::ExtractOp::create(builder, loc, g,
                                             insert.getIndices()));
        Value zero = zerosLike(loc, insert.getScalar());
        accumulate(insert.getDest(),
                   tensor::InsertOp::create(builder, loc, zero, g,
                                            insert.getIndices()));
        return success();
      })
      .Case([&](arith::SelectOp select) {
        if (!isa<RankedTensorType>(select.getType())) {
          handled = false;
          return success();
        }
        Value g = lookup(select.getResult());
        Value zeros = zerosLike(loc, select.getResult());
        Value condition = select.getCondition();
        accumulate(select.getTrueValue(),
                   arith::SelectOp::create(builder, loc, condition, g, zeros));
        accumulate(select.getFalseValue(),
                   arith::SelectOp::create(builder, loc, condition, zeros, g));
        return success();
      })
      .Default([&](Operation *) {
        handled = false;
        return success();
      });
}
