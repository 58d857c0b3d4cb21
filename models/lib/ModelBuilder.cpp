//===- ModelBuilder.cpp - shared helpers of the model builders ------------===//

#include "ModelBuilder.h"
#include "nl/Models/ModelWeights.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::nl;
using namespace mlir::nl::models;

void ModelBuilder::addArgument(StringRef name, Type type, StringRef role,
                               WeightInit init) {
  arguments.push_back({name.str(), role.str(), type, init});
}

void ModelBuilder::addResult(StringRef name, Type type, StringRef role) {
  results.push_back({name.str(), role.str(), type});
}

func::FuncOp ModelBuilder::beginFunction(StringRef name, Type resultType,
                                         StringRef resultName) {
  addResult(resultName, resultType);
  return beginFunction(name);
}

func::FuncOp ModelBuilder::beginFunction(StringRef name) {
  auto typesOf = [](ArrayRef<Argument> values) {
    SmallVector<Type> types;
    for (const Argument &value : values)
      types.push_back(value.type);
    return types;
  };
  auto function = func::FuncOp::create(
      builder, loc, name,
      builder.getFunctionType(typesOf(arguments), typesOf(results)));
  // Names and roles for the artifact's manifest (see the dialect's
  // "Entry points").
  for (auto [index, argument] : llvm::enumerate(arguments)) {
    function.setArgAttr(index, "nl." + argument.role,
                        builder.getStringAttr(argument.name));
    setWeightInit(function, index, argument.init);
  }
  for (auto [index, result] : llvm::enumerate(results))
    function.setResultAttr(index, "nl." + result.role,
                           builder.getStringAttr(result.name));
  Block *body = function.addEntryBlock();
  for (auto [index, argument] : llvm::enumerate(arguments))
    argumentsByName[argument.name] = body->getArgument(index);
  builder.setInsertionPointToStart(body);
  return function;
}

Value ModelBuilder::arg(StringRef name) const {
  auto it = argumentsByName.find(name);
  assert(it != argumentsByName.end() && "undeclared model argument");
  return it->second;
}

Value ModelBuilder::rmsNorm(Value input, Value scale, double epsilon) {
  FloatAttr epsilonAttr =
      epsilon == 1e-6 ? nullptr : builder.getF64FloatAttr(epsilon);
  return RMSNormOp::create(builder, loc, input, scale, epsilonAttr);
}

Value ModelBuilder::causalConv(Value input, Value weight, Value history) {
  return CausalConvOp::create(builder, loc, input.getType(), input, weight,
                              history);
}

Value ModelBuilder::linear(Value input, Value weight, Value bias) {
  return LinearOp::create(builder, loc, input, weight, bias);
}

Value ModelBuilder::embedding(Value ids, Value table) {
  return EmbeddingOp::create(builder, loc, ids, table);
}

Value ModelBuilder::gate(Value input, Value gate) {
  return GateOp::create(builder, loc, input, gate);
}

Value ModelBuilder::splitHeads(Value input, int64_t heads) {
  return SplitHeadsOp::create(builder, loc, input, heads);
}

Value ModelBuilder::mergeHeads(Value input) {
  return MergeHeadsOp::create(builder, loc, input);
}

Value ModelBuilder::l2Normalize(Value input, double epsilon) {
  FloatAttr epsilonAttr =
      epsilon == 1e-12 ? nullptr : builder.getF64FloatAttr(epsilon);
  return L2NormalizeOp::create(builder, loc, input, epsilonAttr);
}

Value ModelBuilder::rate(Activation kind, Value input, double scale) {
  FloatAttr scaleAttr = scale == 1.0 ? nullptr : builder.getF64FloatAttr(scale);
  return RateOp::create(builder, loc, kind, input, scaleAttr);
}

Value ModelBuilder::addOffset(Value input, double offset) {
  Type element = cast<RankedTensorType>(input.getType()).getElementType();
  auto constant = [&](ArrayRef<int64_t> shape, double value) -> Value {
    auto type = RankedTensorType::get(shape, element);
    return arith::ConstantOp::create(
        builder, loc, DenseElementsAttr::get(type, builder.getFloatAttr(element, value)));
  };
  return linear(input, constant({1, 1}, 1.0), constant({1}, offset));
}

Value ModelBuilder::chunkPool(Value input, int64_t chunk) {
  return ChunkPoolOp::create(builder, loc, input, chunk);
}

Value ModelBuilder::stopGradient(Value input) {
  return StopGradientOp::create(builder, loc, input);
}

Value ModelBuilder::read(Value memory, Value query, ReadPoint point) {
  return ReadOp::create(builder, loc, memory, query, point);
}

Value ModelBuilder::memory(StringRef name, ValueRange init, MemoryType type,
                           int64_t chunk, Attribute model, Attribute objective,
                           Attribute rule, ChunkAggregatedAttr aggregated,
                           ValueRange reference, Value position) {
  auto every = EveryAttr::get(getContext(), chunk, TimeUnit::Tokens);
  return MemoryOp::create(builder, loc, type, name, every, model, objective,
                          rule, aggregated, init, reference,
                          /*pending=*/ValueRange(), position);
}

void ModelBuilder::update(Value memory, Value keys, Value values, Value lr,
                          Value retention, ValueRange momentum) {
  UpdateOp::create(builder, loc, memory, keys, values, lr, retention, momentum);
}

ValueRange ModelBuilder::finalState(Value memory, TypeRange types) {
  return FinalStateOp::create(builder, loc, types, memory).getStates();
}
