//===- ArtifactSession.cpp - train_step and forward through the C API -----===//

#include "ArtifactSession.h"

#include "hope/runtime.hpp"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/xxhash.h"

using namespace llvm;

namespace hope::train {

// hope::Error and hope::Expected are the runtime's C++ API's; this file
// returns LLVM's.
using llvm::Error;
using llvm::Expected;

TrainingSession::~TrainingSession() = default;

namespace {

Error lift(hope::Error error) {
  if (!error)
    return Error::success();
  return createStringError(error.message());
}
template <typename T> Expected<T> lift(hope::Expected<T> value) {
  if (!value)
    return lift(value.takeError());
  return std::move(*value);
}

/// A scalar output (f32 or f64) as a double.
Expected<double> readScalar(const hope::Tensor &tensor, StringRef name) {
  if (tensor.numel() != 1)
    return createStringError("train_step: output '" + name +
                             "' is not a scalar");
  Expected<hope::Tensor> host = lift(tensor.toHost());
  if (!host)
    return host.takeError();
  if (host->dtype() == HOPE_DTYPE_F32)
    return double(*static_cast<const float *>(host->data()));
  if (host->dtype() == HOPE_DTYPE_F64)
    return *static_cast<const double *>(host->data());
  return createStringError("train_step: output '" + name +
                           "' is neither f32 nor f64");
}

std::string describe(const hope_param &param) {
  std::string text = std::string(hope::dtypeName(param.dtype)) + "[";
  for (size_t i = 0; i < param.rank; ++i)
    text += (i ? "," : "") + std::to_string(param.shape[i]);
  return text + "]";
}

class ArtifactSession : public TrainingSession {
public:
  static Expected<std::unique_ptr<TrainingSession>> open(StringRef path,
                                                         int32_t threads);

  ArrayRef<WeightBuffer> weights() const override { return buffers; }
  int64_t vocabulary() const override { return vocab; }
  std::string fingerprint() const override { return modelFingerprint; }
  std::string describeTraining() const override { return trainingOptions; }

  Expected<StepResult> step(const Batch &batch, float lr,
                            int64_t step) override {
    std::vector<hope::Tensor> inputs;
    for (const std::vector<int64_t> *values : {&batch.tokens, &batch.targets}) {
      Expected<hope::Tensor> tensor =
          lift(hope::Tensor::wrap(HOPE_DTYPE_I64, {batch.batch, batch.length},
                                  values->data()));
      if (!tensor)
        return tensor.takeError();
      inputs.push_back(std::move(*tensor));
    }
    Expected<hope::Tensor> rate =
        lift(hope::Tensor::create(HOPE_DTYPE_F32, {}, &lr, sizeof(lr)));
    if (!rate)
      return rate.takeError();
    inputs.push_back(std::move(*rate));
    Expected<hope::Tensor> count =
        lift(hope::Tensor::create(HOPE_DTYPE_I64, {}, &step, sizeof(step)));
    if (!count)
      return count.takeError();
    inputs.push_back(std::move(*count));
    Expected<std::vector<hope::Tensor>> outputs =
        lift(session.invoke(kTrainStepName, inputs));
    if (!outputs)
      return outputs.takeError();
    Expected<double> loss = readScalar((*outputs)[0], "loss");
    if (!loss)
      return loss.takeError();
    Expected<double> norm = readScalar((*outputs)[1], "grad_norm");
    if (!norm)
      return norm.takeError();
    return StepResult{*loss, *norm};
  }

  Expected<std::vector<float>> logits(const Batch &batch) override {
    Expected<hope::Tensor> tokens =
        lift(hope::Tensor::wrap(HOPE_DTYPE_I64, {batch.batch, batch.length},
                                batch.tokens.data()));
    if (!tokens)
      return tokens.takeError();
    Expected<std::vector<hope::Tensor>> outputs =
        lift(session.invoke(forwardName, std::vector<hope::Tensor>{*tokens}));
    if (!outputs)
      return outputs.takeError();
    Expected<hope::Tensor> host = lift((*outputs)[0].toHost());
    if (!host)
      return host.takeError();
    if (host->dtype() == HOPE_DTYPE_F32)
      return lift(host->toVector<float>());
    Expected<std::vector<double>> wide = lift(host->toVector<double>());
    if (!wide)
      return wide.takeError();
    return std::vector<float>(wide->begin(), wide->end());
  }

private:
  Error checkSignatures(StringRef path);
  /// The manifest's `init` and `init_scale` of the forward's weights.
  Error readWeightInits(const json::Object &forwardEntry, StringRef path);
  Error bindWeights();

  hope::Module module;
  hope::Session session;
  std::string forwardName;
  hope::Signature forward, trainStep;
  int64_t vocab = 0;
  std::string modelFingerprint, trainingOptions;
  std::vector<hope::Tensor> tensors;
  std::vector<WeightBuffer> buffers;
  StringMap<mlir::nl::models::WeightInit> weightInits;
};

Expected<std::unique_ptr<TrainingSession>>
ArtifactSession::open(StringRef path, int32_t threads) {
  auto result = std::make_unique<ArtifactSession>();
  Expected<hope::Module> module = lift(hope::Module::load(path.str()));
  if (!module)
    return module.takeError();
  result->module = std::move(*module);
  if (Error error = result->checkSignatures(path))
    return std::move(error);
  hope_session_options options{};
  options.struct_size = sizeof(options);
  options.threads = threads;
  Expected<hope::Session> session =
      lift(hope::Session::create(result->module, &options));
  if (!session)
    return session.takeError();
  result->session = std::move(*session);
  // A device session copies host weights to the device when they are bound:
  // the steps would update the copies, and checkpoints would read stale
  // host tensors.
  if (result->session.device() != HOPE_DEVICE_HOST)
    return createStringError(path + " runs on a device: hope-train trains "
                                    "host (cpu) artifacts only, for now");
  if (Error error = result->bindWeights())
    return std::move(error);
  return std::unique_ptr<TrainingSession>(std::move(result));
}

Error ArtifactSession::checkSignatures(StringRef path) {
  std::vector<std::string> others;
  bool hasTrainStep = false;
  for (std::string_view name : module.entryPoints()) {
    if (StringRef(name.data(), name.size()) == kTrainStepName)
      hasTrainStep = true;
    else
      others.emplace_back(name);
  }
  if (!hasTrainStep)
    return createStringError(path + " has no train_step entry point: compile "
                                    "the model with hope-compile --train");
  if (others.size() != 1)
    return createStringError(
        path + ": expected one forward entry point beside train_step, found " +
        Twine(others.size()) + (others.empty() ? "" : " (" + join(others, ", ") + ")"));
  forwardName = others.front();
  Expected<hope::Signature> fwd = lift(module.signature(forwardName));
  if (!fwd)
    return fwd.takeError();
  Expected<hope::Signature> step = lift(module.signature(kTrainStepName));
  if (!step)
    return step.takeError();
  forward = std::move(*fwd);
  trainStep = std::move(*step);
  auto fail = [&](const Twine &why) {
    return createStringError(path + ": " + why +
                             " (the train_step ABI, docs/training.md)");
  };

  // The forward: tokens i64 [B, T] -> logits [B, T, V].
  StringSet<> forwardWeights;
  std::vector<const hope_param *> forwardInputs;
  for (const hope_param &param : forward.inputs) {
    if (param.role == HOPE_ROLE_WEIGHT)
      forwardWeights.insert(param.name);
    else if (param.role == HOPE_ROLE_STATE)
      return fail(forwardName + " has state '" + param.name +
                  "': hope-train trains models without streaming states");
    else
      forwardInputs.push_back(&param);
  }
  if (forwardInputs.size() != 1 || forwardInputs[0]->dtype != HOPE_DTYPE_I64 ||
      forwardInputs[0]->rank != 2)
    return fail(forwardName + " must take one input, tokens i64 [B, T]");
  if (forward.outputs.empty() || forward.outputs[0].rank != 3 ||
      forward.outputs[0].shape[2] < 1)
    return fail(forwardName +
                " must return logits [B, T, V] with a static vocabulary V");
  vocab = forward.outputs[0].shape[2];

  // train_step: tokens, targets, learning_rate, step, then the weights.
  const char *expected[] = {forwardInputs[0]->name, "targets", "learning_rate",
                            "step"};
  const hope_dtype dtypes[] = {HOPE_DTYPE_I64, HOPE_DTYPE_I64, HOPE_DTYPE_F32,
                               HOPE_DTYPE_I64};
  const size_t ranks[] = {2, 2, 0, 0};
  if (trainStep.inputs.size() < 4)
    return fail("train_step has " + Twine(trainStep.inputs.size()) +
                " inputs, fewer than 4");
  for (size_t i = 0; i < 4; ++i) {
    const hope_param &param = trainStep.inputs[i];
    if (StringRef(param.name) != expected[i] || param.role != HOPE_ROLE_INPUT ||
        param.dtype != dtypes[i] || param.rank != ranks[i])
      return fail("train_step input " + Twine(i) + " is '" + param.name +
                  "' " + describe(param) + ", expected '" + expected[i] + "'");
  }
  StringSet<> trained;
  for (const hope_param &param : ArrayRef(trainStep.inputs).drop_front(4)) {
    if (param.role != HOPE_ROLE_WEIGHT)
      return fail("train_step input '" + Twine(param.name) +
                  "' after 'step' is not a weight");
    for (size_t i = 0; i < param.rank; ++i)
      if (param.shape[i] < 0)
        return fail("train_step weight '" + Twine(param.name) +
                    "' has a symbolic size");
    if (!getElementSize(param.dtype))
      return fail("train_step weight '" + Twine(param.name) + "' has dtype " +
                  hope::dtypeName(param.dtype));
    trained.insert(param.name);
  }
  for (const auto &entry : forwardWeights)
    if (!trained.contains(entry.getKey()))
      return fail("the parameter '" + entry.getKey() + "' of " + forwardName +
                  " is not a weight of train_step");
  if (trainStep.outputs.size() != 2 ||
      StringRef(trainStep.outputs[0].name) != "loss" ||
      StringRef(trainStep.outputs[1].name) != "grad_norm")
    return fail("train_step must return loss and grad_norm");

  // The fingerprint: the forward's name and every weight's name, dtype and
  // shape (the optimizer's states name the optimizer). Not the manifest's
  // model name (hope-compile takes it from the file name) nor its target:
  // a checkpoint resumes on the same model compiled elsewhere or renamed.
  std::string identity = forwardName;
  for (const hope_param &param : ArrayRef(trainStep.inputs).drop_front(4))
    identity += "\n" + std::string(param.name) + " " + describe(param);
  modelFingerprint = "xxh3-64:" + utohexstr(xxh3_64bits(identity), true, 16);

  // The optimizer options train_step was compiled with, for the record, and
  // the forward's weights' initialisations (the runtime validated the rest of
  // the manifest when it loaded the artifact).
  Expected<json::Value> manifest = json::parse(module.manifest());
  if (!manifest)
    return fail("its manifest is not JSON: " + toString(manifest.takeError()));
  const json::Object *root = manifest->getAsObject();
  const json::Array *entries = root ? root->getArray("entry_points") : nullptr;
  for (const json::Value &entry : entries ? *entries : json::Array()) {
    const json::Object *object = entry.getAsObject();
    if (!object)
      continue;
    if (object->getString("name") == kTrainStepName)
      if (const json::Value *train = object->get("train"))
        trainingOptions = formatv("{0}", *train).str();
    if (object->getString("name") == forwardName)
      if (Error error = readWeightInits(*object, path))
        return error;
  }
  return Error::success();
}

Error ArtifactSession::readWeightInits(const json::Object &forwardEntry,
                                       StringRef path) {
  using namespace mlir::nl::models;
  const json::Array *inputs = forwardEntry.getArray("inputs");
  for (const json::Value &input : inputs ? *inputs : json::Array()) {
    const json::Object *spec = input.getAsObject();
    if (!spec || spec->getString("role") != "weight")
      continue;
    std::string name = spec->getString("name").value_or("").str();
    auto fail = [&](const Twine &why) {
      return createStringError(path + ": the weight '" + name + "' " + why +
                               " (docs/artifact-abi.md, \"Manifest\")");
    };
    WeightInit init;
    if (const json::Value *rule = spec->get("init")) {
      std::optional<InitRule> parsed =
          rule->getAsString() ? parseInitRule(*rule->getAsString())
                              : std::nullopt;
      if (!parsed)
        return fail("has an unknown init " + formatv("{0}", *rule).str());
      init.rule = *parsed;
    }
    if (const json::Value *scale = spec->get("init_scale")) {
      if (!scale->getAsNumber())
        return fail("has an init_scale that is not a number");
      init.scale = *scale->getAsNumber();
    }
    std::vector<int64_t> shape;
    if (const json::Array *sizes = spec->getArray("shape"))
      for (const json::Value &size : *sizes)
        shape.push_back(size.getAsInteger().value_or(-1));
    if (std::optional<std::string> why = checkWeightInit(init, shape))
      return fail("cannot be initialised so: " + *why);
    weightInits[name] = init;
  }
  return Error::success();
}

Error ArtifactSession::bindWeights() {
  StringSet<> forwardWeights;
  for (const hope_param &param : forward.inputs)
    if (param.role == HOPE_ROLE_WEIGHT)
      forwardWeights.insert(param.name);
  for (const hope_param &param : ArrayRef(trainStep.inputs).drop_front(4)) {
    std::vector<int64_t> shape(param.shape, param.shape + param.rank);
    Expected<hope::Tensor> tensor =
        lift(hope::Tensor::create(param.dtype, shape));
    if (!tensor)
      return tensor.takeError();
    if (Error error = lift(session.setWeight(param.name, *tensor,
                                             HOPE_WEIGHT_MUTABLE)))
      return error;
    buffers.push_back({param.name, param.dtype, shape,
                       forwardWeights.contains(param.name),
                       static_cast<char *>(tensor->data()),
                       size_t(tensor->numel()) * getElementSize(param.dtype),
                       weightInits.lookup(param.name)});
    tensors.push_back(std::move(*tensor));
  }
  return Error::success();
}

} // namespace

Expected<std::unique_ptr<TrainingSession>>
openArtifactSession(StringRef path, int32_t threads) {
  return ArtifactSession::open(path, threads);
}

} // namespace hope::train
