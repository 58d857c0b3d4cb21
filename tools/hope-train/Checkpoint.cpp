//===- Checkpoint.cpp - save and load a training session's state ----------===//

#include "Checkpoint.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstring>

using namespace llvm;

namespace hope::train {

static constexpr StringLiteral kFormat = "hope-train checkpoint 1";

static std::string exactDouble(double value) {
  return formatv("{0}", format("%.17g", value)).str();
}

Error saveCheckpoint(StringRef path, ArrayRef<WeightBuffer> weights,
                     const CheckpointState &state,
                     function_ref<Error()> beforeRename) {
  std::vector<TensorView> views;
  for (const WeightBuffer &weight : weights)
    views.push_back(weight.view());
  Metadata metadata = {
      {"format", kFormat.str()},
      {"step", std::to_string(state.step)},
      {"data_position", std::to_string(state.dataPosition)},
      {"rng", formatv("philox4x32-10 key={0} counter={1}", state.seed,
                      state.dataPosition)},
      {"seed", std::to_string(state.seed)},
      {"train_loss_sum", exactDouble(state.trainLossSum)},
      {"train_loss_count", std::to_string(state.trainLossCount)},
      {"options", state.options},
      {"model_fingerprint", state.fingerprint},
      {"curves", formatCurvesJson(state.curves)},
  };
  return writeTensorFile(path, views, metadata, beforeRename);
}

Expected<CheckpointState> loadCheckpoint(StringRef path, StringRef fingerprint,
                                         ArrayRef<WeightBuffer> weights) {
  Expected<TensorFile> file = readTensorFile(path, /*requireChecksum=*/true);
  if (!file)
    return file.takeError();
  const Metadata &meta = file->metadata;
  auto field = [&](StringRef key) -> StringRef {
    auto found = meta.find(key.str());
    return found == meta.end() ? StringRef() : StringRef(found->second);
  };
  if (field("format") != kFormat)
    return createStringError(path + ": not a hope-train checkpoint (format '" +
                             field("format") + "')");
  if (field("model_fingerprint") != fingerprint)
    return createStringError(
        path + ": a checkpoint of another model (fingerprint " +
        field("model_fingerprint") + "; this model's is " + fingerprint + ")");

  CheckpointState state;
  auto bad = [&](StringRef key) {
    return createStringError(path + ": malformed metadata '" + key + "'");
  };
  if (field("step").getAsInteger(10, state.step) || state.step < 0)
    return bad("step");
  if (field("data_position").getAsInteger(10, state.dataPosition))
    return bad("data_position");
  if (field("seed").getAsInteger(10, state.seed))
    return bad("seed");
  if (field("train_loss_sum").getAsDouble(state.trainLossSum))
    return bad("train_loss_sum");
  if (field("train_loss_count").getAsInteger(10, state.trainLossCount))
    return bad("train_loss_count");
  state.options = field("options").str();
  state.fingerprint = fingerprint.str();
  Expected<std::vector<CurvePoint>> curves = parseCurvesJson(field("curves"));
  if (!curves) {
    consumeError(curves.takeError());
    return bad("curves");
  }
  state.curves = std::move(*curves);

  // Every weight, as the session declares it, and nothing else.
  StringSet<> known;
  for (const WeightBuffer &weight : weights) {
    known.insert(weight.name);
    const TensorData *tensor = file->find(weight.name);
    if (!tensor)
      return createStringError(path + ": has no tensor '" + weight.name + "'");
    if (tensor->dtype != weight.dtype || tensor->shape != weight.shape ||
        tensor->bytes.size() != weight.bytes)
      return createStringError(path + ": tensor '" + weight.name +
                               "' has another dtype or shape than the model's");
  }
  for (const TensorData &tensor : file->tensors)
    if (!known.contains(tensor.name))
      return createStringError(path + ": tensor '" + tensor.name +
                               "' is no weight of the model");
  for (const WeightBuffer &weight : weights)
    std::memcpy(weight.data, file->find(weight.name)->bytes.data(),
                weight.bytes);
  return state;
}

} // namespace hope::train
