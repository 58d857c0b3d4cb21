//===- WeightsFile.cpp - seeded weights of a model, to a file -------------===//

#include "WeightsFile.h"

#include "RuntimeErrors.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InterleavedRange.h"

using namespace mlir::nl::models;

llvm::Error hope::models::writeWeights(llvm::StringRef path,
                                       llvm::ArrayRef<WeightSpec> weights,
                                       const SeededWeights &generator) {
  hope::Expected<hope::TensorMap> map = hope::TensorMap::create();
  if (!map)
    return toLLVMError(map.takeError());
  for (const WeightSpec &weight : weights) {
    hope::Expected<hope::Tensor> tensor =
        weight.isF64 ? hope::Tensor::fromValues<double>(
                           weight.shape,
                           generator.generateF64(weight.name, weight.shape,
                                                 weight.init))
                     : hope::Tensor::fromValues<float>(
                           weight.shape,
                           generator.generateF32(weight.name, weight.shape,
                                                 weight.init));
    if (!tensor)
      return toLLVMError(tensor.takeError());
    if (hope::Error error = map->set(weight.name, *tensor))
      return toLLVMError(std::move(error));
  }
  return toLLVMError(hope::writeSafetensors(path, *map));
}

void hope::models::listWeights(llvm::raw_ostream &os,
                               llvm::ArrayRef<WeightSpec> weights) {
  std::vector<std::string> shapes;
  size_t nameWidth = 0, shapeWidth = 0;
  for (const WeightSpec &weight : weights) {
    shapes.emplace_back();
    llvm::raw_string_ostream(shapes.back())
        << llvm::interleaved_array(weight.shape);
    nameWidth = std::max(nameWidth, weight.name.size());
    shapeWidth = std::max(shapeWidth, shapes.back().size());
  }
  for (auto [weight, shape] : llvm::zip(weights, shapes)) {
    WeightKind kind = classifyWeight(weight.name, weight.shape);
    os << llvm::left_justify(weight.name, nameWidth) << "  "
       << (weight.isF64 ? "f64" : "f32") << "  "
       << llvm::left_justify(shape, shapeWidth) << "  "
       << llvm::left_justify(getWeightKindName(kind), 10) << "  "
       << describeWeightInit(kind, weight.shape, weight.init) << "\n";
  }
}

int64_t hope::models::countParameters(llvm::ArrayRef<WeightSpec> weights) {
  int64_t count = 0;
  for (const WeightSpec &weight : weights)
    count += weight.getNumElements();
  return count;
}
