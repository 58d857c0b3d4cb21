//===- InitialState.cpp - the first state of a streaming model ------------===//

#include "InitialState.h"
#include "RuntimeErrors.h"

#include "hope/runtime.hpp"
#include "nl/IR/NLOps.h"
#include "nl/Models/ModelWeights.h"

#include "llvm/ADT/StringMap.h"

using namespace mlir;

namespace {

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

StringRef nameOf(func::FuncOp function, Value value, StringRef role) {
  auto argument = dyn_cast<BlockArgument>(value);
  if (!argument || argument.getOwner()->getParentOp() != function)
    return {};
  auto name = function.getArgAttrOfType<StringAttr>(argument.getArgNumber(),
                                                    ("nl." + role).str());
  return name ? name.getValue() : StringRef();
}

/// The weight each memory state input of `streaming` starts from: the
/// weight initialising the same memory's same operand in `plain`.
llvm::StringMap<std::string> findSources(func::FuncOp streaming,
                                         func::FuncOp plain) {
  llvm::StringMap<SmallVector<std::string>> initialWeights;
  plain.walk([&](nl::MemoryOp memory) {
    auto &names = initialWeights[memory.getName()];
    for (Value init : memory.getInit())
      names.push_back(nameOf(plain, init, "weight").str());
  });
  llvm::StringMap<std::string> sources;
  streaming.walk([&](nl::MemoryOp memory) {
    auto it = initialWeights.find(memory.getName());
    if (it == initialWeights.end())
      return;
    for (auto [index, init] : llvm::enumerate(memory.getInit())) {
      if (index >= it->second.size() || it->second[index].empty())
        continue;
      sources[nameOf(streaming, init, "state")] = it->second[index];
      // The reference starts as the state (its last chunk boundary is 0).
      if (index < memory.getReference().size())
        sources[nameOf(streaming, memory.getReference()[index], "state")] =
            it->second[index];
    }
  });
  sources.erase("");
  return sources;
}

/// The weights of `plain` by name: a state of the same name and type in
/// the streaming form (a learnt CMS parameter) starts as that weight.
struct PlainWeight {
  Type type;
  nl::models::WeightInit init;
};
llvm::StringMap<PlainWeight> findWeights(func::FuncOp plain) {
  llvm::StringMap<PlainWeight> weights;
  for (unsigned index = 0; index < plain.getNumArguments(); ++index)
    if (auto name = plain.getArgAttrOfType<StringAttr>(index, "nl.weight"))
      weights[name.getValue()] = {plain.getArgument(index).getType(),
                                  nl::models::getWeightInit(plain, index)};
  return weights;
}

template <typename T>
llvm::Expected<hope::Tensor> repeat(ArrayRef<int64_t> shape,
                                    const std::vector<T> &one) {
  std::vector<T> values;
  values.reserve(one.size() * shape.front());
  for (int64_t sequence = 0; sequence < shape.front(); ++sequence)
    values.insert(values.end(), one.begin(), one.end());
  return hope::models::toLLVMExpected(hope::Tensor::fromValues<T>(shape, values));
}

} // namespace

llvm::Error hope::models::writeInitialState(
    StringRef path, func::FuncOp streaming, func::FuncOp plain, int64_t batch,
    const nl::models::SeededWeights &generator) {
  llvm::StringMap<std::string> sources = findSources(streaming, plain);
  llvm::StringMap<PlainWeight> weights = findWeights(plain);
  llvm::Expected<hope::TensorMap> map =
      toLLVMExpected(hope::TensorMap::create());
  if (!map)
    return map.takeError();
  for (unsigned index = 0; index < streaming.getNumArguments(); ++index) {
    auto name = streaming.getArgAttrOfType<StringAttr>(index, "nl.state");
    if (!name)
      continue;
    auto type = cast<RankedTensorType>(streaming.getArgument(index).getType());
    // Only the batch (dimension 0) of a state is dynamic.
    SmallVector<int64_t> shape(type.getShape());
    for (size_t dim = 0; dim < shape.size(); ++dim)
      if (ShapedType::isDynamic(shape[dim])) {
        if (dim != 0)
          return fail("state '" + name.getValue() + "' has a dynamic size " +
                      "other than its batch");
        shape[dim] = batch;
      }
    Type element = type.getElementType();
    auto source = sources.find(name.getValue());
    // A learnt parameter, or the meta-learnt initial state of one (the
    // nested CMS): the weight the frozen model would take.
    StringRef weightName = name.getValue();
    weightName.consume_back(".initial");
    auto weight = weights.find(weightName);
    auto initial = [&]() -> llvm::Expected<hope::Tensor> {
      if (weight != weights.end() && weight->second.type == type) {
        const nl::models::WeightInit &init = weight->second.init;
        if (element.isF64())
          return toLLVMExpected(hope::Tensor::fromValues<double>(
              shape, generator.generateF64(weightName, shape, init)));
        return toLLVMExpected(hope::Tensor::fromValues<float>(
            shape, generator.generateF32(weightName, shape, init)));
      }
      // No token seen before the first piece (nl-build-test-time-learning).
      if (name.getValue() == "cms_last_token" && element.isInteger(64))
        return toLLVMExpected(hope::Tensor::fromValues<int64_t>(
            shape, std::vector<int64_t>(ShapedType::getNumElements(shape),
                                        -1)));
      if (source == sources.end())
        return toLLVMExpected(
            hope::Tensor::create(element.isF64()   ? HOPE_DTYPE_F64
                                 : element.isF32() ? HOPE_DTYPE_F32
                                                   : HOPE_DTYPE_I64,
                                 shape));
      if (shape.empty() || !type.isDynamicDim(0))
        return fail("state '" + name.getValue() + "' has no batch dimension");
      ArrayRef<int64_t> weightShape = ArrayRef<int64_t>(shape).drop_front();
      auto sourceWeight = weights.find(source->second);
      nl::models::WeightInit init = sourceWeight == weights.end()
                                        ? nl::models::WeightInit()
                                        : sourceWeight->second.init;
      if (element.isF64())
        return repeat(shape, generator.generateF64(source->second, weightShape,
                                                   init));
      return repeat(shape, generator.generateF32(source->second, weightShape,
                                                 init));
    };
    llvm::Expected<hope::Tensor> tensor = initial();
    if (!tensor)
      return tensor.takeError();
    if (llvm::Error error = toLLVMError(map->set(name.getValue(), *tensor)))
      return error;
  }
  return toLLVMError(hope::writeSafetensors(path, *map));
}
