//===- ModelWeights.cpp - the weights a model function declares -----------===//

#include "nl/Models/ModelWeights.h"

#include "llvm/ADT/StringMap.h"

using namespace mlir;
using namespace mlir::nl::models;

int64_t WeightSpec::getNumElements() const {
  int64_t count = 1;
  for (int64_t size : shape)
    count *= size;
  return count;
}

WeightInit mlir::nl::models::getWeightInit(func::FuncOp function,
                                           unsigned index) {
  WeightInit init;
  if (auto rule = function.getArgAttrOfType<StringAttr>(index,
                                                         kInitRuleAttrName))
    init.rule = parseInitRule(rule.getValue()).value_or(InitRule::Seeded);
  if (auto scale =
          function.getArgAttrOfType<FloatAttr>(index, kInitScaleAttrName))
    init.scale = scale.getValueAsDouble();
  return init;
}

void mlir::nl::models::setWeightInit(func::FuncOp function, unsigned index,
                                     const WeightInit &init) {
  Builder builder(function.getContext());
  if (init.rule != InitRule::Seeded)
    function.setArgAttr(index, kInitRuleAttrName,
                        builder.getStringAttr(getInitRuleName(init.rule)));
  if (init.scale != 1.0)
    function.setArgAttr(index, kInitScaleAttrName,
                        builder.getF64FloatAttr(init.scale));
}

FailureOr<SmallVector<WeightSpec>>
mlir::nl::models::collectWeights(ModuleOp module) {
  SmallVector<WeightSpec> weights;
  llvm::StringMap<Type> typesByName;
  for (func::FuncOp function : module.getOps<func::FuncOp>()) {
    for (unsigned index = 0; index < function.getNumArguments(); ++index) {
      auto name = function.getArgAttrOfType<StringAttr>(index, "nl.weight");
      if (!name)
        continue;
      Location loc = function.getArgument(index).getLoc();
      Type type = function.getArgument(index).getType();
      auto tensor = dyn_cast<RankedTensorType>(type);
      if (!tensor || !tensor.hasStaticShape() ||
          !(tensor.getElementType().isF32() || tensor.getElementType().isF64()))
        return emitError(loc)
               << "weight '" << name.getValue() << "' of @"
               << function.getSymName()
               << " must be a static f32 or f64 tensor, got " << type;
      auto [it, inserted] = typesByName.try_emplace(name.getValue(), type);
      if (!inserted) {
        if (it->second != type)
          return emitError(loc) << "weight '" << name.getValue() << "' is "
                                << it->second << " in one function and " << type
                                << " in @" << function.getSymName();
        continue;
      }
      weights.push_back({name.getValue().str(),
                         llvm::to_vector(tensor.getShape()),
                         tensor.getElementType().isF64(),
                         getWeightInit(function, index)});
    }
  }
  return weights;
}
