//===- InitialWeights.cpp - seeded, loaded and exported parameters --------===//

#include "InitialWeights.h"

#include "nl/Models/SeededWeights.h"

#include "llvm/ADT/StringSet.h"

#include <cstring>

using namespace llvm;

namespace hope::train {

Error seedWeights(ArrayRef<WeightBuffer> weights, uint64_t seed) {
  mlir::nl::models::SeededWeights generator(seed);
  for (const WeightBuffer &weight : weights) {
    std::memset(weight.data, 0, weight.bytes);
    if (!weight.isParameter)
      continue;
    if (std::optional<std::string> why =
            mlir::nl::models::checkWeightInit(weight.init, weight.shape))
      return createStringError("cannot seed the parameter '" + weight.name +
                               "': " + *why);
    if (weight.dtype == HOPE_DTYPE_F32) {
      std::vector<float> values =
          generator.generateF32(weight.name, weight.shape, weight.init);
      std::memcpy(weight.data, values.data(), weight.bytes);
    } else if (weight.dtype == HOPE_DTYPE_F64) {
      std::vector<double> values =
          generator.generateF64(weight.name, weight.shape, weight.init);
      std::memcpy(weight.data, values.data(), weight.bytes);
    } else {
      return createStringError("cannot seed the parameter '" + weight.name +
                               "': it is not f32 or f64 (pass --init)");
    }
  }
  return Error::success();
}

Error loadInitialWeights(ArrayRef<WeightBuffer> weights, StringRef path) {
  Expected<TensorFile> file = readTensorFile(path, /*requireChecksum=*/false);
  if (!file)
    return file.takeError();
  StringSet<> parameters;
  for (const WeightBuffer &weight : weights) {
    if (!weight.isParameter)
      continue;
    parameters.insert(weight.name);
    const TensorData *tensor = file->find(weight.name);
    if (!tensor)
      return createStringError("--init=" + path + ": has no tensor '" +
                               weight.name + "'");
    if (tensor->dtype != weight.dtype || tensor->shape != weight.shape)
      return createStringError("--init=" + path + ": tensor '" + weight.name +
                               "' has another dtype or shape than the model's");
  }
  for (const TensorData &tensor : file->tensors)
    if (!parameters.contains(tensor.name))
      return createStringError("--init=" + path + ": tensor '" + tensor.name +
                               "' is no parameter of the model");
  for (const WeightBuffer &weight : weights) {
    if (weight.isParameter)
      std::memcpy(weight.data, file->find(weight.name)->bytes.data(),
                  weight.bytes);
    else
      std::memset(weight.data, 0, weight.bytes);
  }
  return Error::success();
}

Error exportParameters(ArrayRef<WeightBuffer> weights, StringRef path,
                       int64_t step) {
  std::vector<TensorView> views;
  for (const WeightBuffer &weight : weights)
    if (weight.isParameter)
      views.push_back(weight.view());
  return writeTensorFile(path, views,
                         {{"producer", "hope-train"},
                          {"step", std::to_string(step)}});
}

} // namespace hope::train
