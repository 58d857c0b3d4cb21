//===- TensorBuilders.cpp - building linalg on tensors --------------------===//

#include "nl/Codegen/TensorBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mlir::nl;

SmallVector<OpFoldResult> TensorBuilder::sizes(Value tensor) {
  return tensor::getMixedSizes(b, loc, tensor);
}

Value TensorBuilder::dim(Value tensor, int64_t index) {
  return getValueOrCreateConstantIndexOp(b, loc, sizes(tensor)[index]);
}

Value TensorBuilder::empty(ArrayRef<OpFoldResult> sizes, Type elementType) {
  return tensor::EmptyOp::create(b, loc, sizes, elementType);
}

Value TensorBuilder::filled(ArrayRef<OpFoldResult> sizes, Type elementType,
                            double value) {
  Value init = empty(sizes, elementType);
  return linalg::FillOp::create(b, loc, floatConstant(elementType, value), init)
      .getResult(0);
}

Value TensorBuilder::floatConstant(Type type, double value) {
  return arith::ConstantOp::create(b, loc, type, b.getFloatAttr(type, value));
}

Value TensorBuilder::indexConstant(int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

AffineMap TensorBuilder::identity(unsigned rank) {
  return b.getMultiDimIdentityMap(rank);
}

AffineMap TensorBuilder::dropLast(unsigned rank) {
  return AffineMap::getMultiDimIdentityMap(rank, b.getContext())
      .getMajorSubMap(rank - 1);
}

Value TensorBuilder::generic(ValueRange inputs, ArrayRef<AffineMap> inputMaps,
                             ArrayRef<OpFoldResult> outputSizes,
                             AffineMap outputMap, Type elementType,
                             ArrayRef<unsigned> reductions,
                             std::optional<double> init, ScalarBody body) {
  unsigned rank = outputMap.getNumDims();
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  for (unsigned loop : reductions)
    iterators[loop] = utils::IteratorType::reduction;
  Value output = init ? filled(outputSizes, elementType, *init)
                      : empty(outputSizes, elementType);
  SmallVector<AffineMap> maps(inputMaps);
  maps.push_back(outputMap);
  auto generic = linalg::GenericOp::create(
      b, loc, output.getType(), inputs, output, maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        linalg::YieldOp::create(nested, nestedLoc,
                                body(nested, nestedLoc, args));
      });
  return generic.getResult(0);
}

Value TensorBuilder::einsum(StringRef spec, ValueRange inputs,
                           ScalarBody body, double init) {
  auto [inputSpecs, outputSpec] = spec.split("->");
  SmallVector<StringRef> operandSpecs;
  inputSpecs.split(operandSpecs, ',');
  assert(operandSpecs.size() == inputs.size() && "einsum arity mismatch");
  // Loops: the output's letters, then the reduced ones in order of use.
  std::string loops = outputSpec.str();
  SmallVector<unsigned> reductions;
  for (StringRef operand : operandSpecs)
    for (char letter : operand)
      if (loops.find(letter) == std::string::npos) {
        reductions.push_back(loops.size());
        loops.push_back(letter);
      }
  MLIRContext *ctx = b.getContext();
  auto mapOf = [&](StringRef letters) {
    SmallVector<AffineExpr> exprs;
    for (char letter : letters)
      exprs.push_back(getAffineDimExpr(loops.find(letter), ctx));
    return AffineMap::get(loops.size(), 0, exprs, ctx);
  };
  SmallVector<AffineMap> inputMaps;
  for (StringRef operand : operandSpecs)
    inputMaps.push_back(mapOf(operand));
  // Each output size is the size of the first input that has its letter.
  SmallVector<OpFoldResult> outputSizes;
  for (char letter : outputSpec) {
    for (auto [operand, value] : llvm::zip(operandSpecs, inputs)) {
      size_t position = operand.find(letter);
      if (position == StringRef::npos)
        continue;
      outputSizes.push_back(sizes(value)[position]);
      break;
    }
  }
  assert(outputSizes.size() == outputSpec.size() && "unsized output letter");
  Type element = getElementTypeOrSelf(inputs.front().getType());
  bool reduces = !reductions.empty();
  auto product = [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
    unsigned numInputs = inputs.size();
    Value value = args[0];
    for (unsigned i = 1; i < numInputs; ++i)
      value = arith::MulFOp::create(nb, nl, value, args[i]);
    if (reduces)
      value = arith::AddFOp::create(nb, nl, args[numInputs], value);
    return value;
  };
  return generic(inputs, inputMaps, outputSizes, mapOf(outputSpec), element,
                 reductions, reduces ? std::optional<double>(init) : std::nullopt,
                 body ? body : ScalarBody(product));
}

Value TensorBuilder::map(ValueRange inputs, ScalarBody body) {
  auto type = cast<RankedTensorType>(inputs.front().getType());
  unsigned rank = type.getRank();
  SmallVector<AffineMap> maps(inputs.size(), identity(rank));
  return generic(inputs, maps, sizes(inputs.front()), identity(rank),
                 type.getElementType(), {}, std::nullopt, body);
}

Value TensorBuilder::sumLastDim(
    Value input, function_ref<Value(OpBuilder &, Location, Value)> term) {
  auto type = cast<RankedTensorType>(input.getType());
  unsigned rank = type.getRank();
  SmallVector<OpFoldResult> outSizes = sizes(input);
  outSizes.pop_back();
  return generic(
      input, identity(rank), outSizes, dropLast(rank), type.getElementType(),
      {rank - 1}, 0.0, [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value value = term ? term(nb, nl, args[0]) : args[0];
        return arith::AddFOp::create(nb, nl, args[1], value).getResult();
      });
}

Value mlir::nl::sigmoidScalar(OpBuilder &b, Location loc, Value x) {
  Type type = x.getType();
  Value one = arith::ConstantOp::create(b, loc, type, b.getFloatAttr(type, 1.0));
  Value negX = arith::NegFOp::create(b, loc, x);
  Value expNeg = math::ExpOp::create(b, loc, negX);
  Value denom = arith::AddFOp::create(b, loc, one, expNeg);
  return arith::DivFOp::create(b, loc, one, denom);
}

Value mlir::nl::softplusScalar(OpBuilder &b, Location loc, Value x) {
  // max(x, 0) + log1p(exp(-|x|)): exact for all x, no overflow.
  Type type = x.getType();
  Value zero = arith::ConstantOp::create(b, loc, type, b.getFloatAttr(type, 0.0));
  Value positive = arith::MaximumFOp::create(b, loc, x, zero);
  Value negAbs = arith::NegFOp::create(b, loc, math::AbsFOp::create(b, loc, x));
  Value tail = math::Log1pOp::create(b, loc, math::ExpOp::create(b, loc, negAbs));
  return arith::AddFOp::create(b, loc, positive, tail);
}

Value mlir::nl::siluScalar(OpBuilder &b, Location loc, Value x) {
  return arith::MulFOp::create(b, loc, x, sigmoidScalar(b, loc, x));
}

Value mlir::nl::geluScalar(OpBuilder &b, Location loc, Value x) {
  Type type = x.getType();
  Value half = arith::ConstantOp::create(b, loc, type, b.getFloatAttr(type, 0.5));
  Value one = arith::ConstantOp::create(b, loc, type, b.getFloatAttr(type, 1.0));
  Value invSqrt2 = arith::ConstantOp::create(
      b, loc, type, b.getFloatAttr(type, 0.70710678118654752440));
  Value erf = math::ErfOp::create(b, loc, arith::MulFOp::create(b, loc, x, invSqrt2));
  Value factor = arith::MulFOp::create(b, loc, half,
                                       arith::AddFOp::create(b, loc, one, erf));
  return arith::MulFOp::create(b, loc, x, factor);
}
