//===- Trainer.cpp - steps, evaluations, curves, checkpoints --------------===//

#include "Trainer.h"

#include "AtomicFile.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"

#include <chrono>
#include <cmath>

using namespace llvm;

namespace hope::train {

Expected<Score> evaluate(TrainingSession &session, const Task &task,
                         int64_t batch, int64_t batches) {
  Score total;
  for (int64_t i = 0; i < batches; ++i) {
    Batch held = task.makeBatch(Split::Eval, uint64_t(i * batch), batch);
    Expected<std::vector<float>> logits = session.logits(held);
    if (!logits)
      return logits.takeError();
    int64_t vocabulary = session.vocabulary();
    if (int64_t(logits->size()) != held.batch * held.length * vocabulary)
      return createStringError("the forward pass returned " +
                               Twine(logits->size()) + " logits, expected " +
                               Twine(held.batch * held.length * vocabulary));
    total.add(scoreLogits(*logits, vocabulary, held.targets));
  }
  return total;
}

namespace {

/// "NaN", "inf" or "-inf" (the loop reports only non-finite values).
std::string describeNonFinite(double value) {
  return std::isnan(value) ? "NaN" : value > 0 ? "inf" : "-inf";
}

/// The first weight holding a NaN or an infinity, or null.
const WeightBuffer *findNonFinite(ArrayRef<WeightBuffer> weights) {
  for (const WeightBuffer &weight : weights) {
    if (weight.dtype == HOPE_DTYPE_F32) {
      const auto *values = reinterpret_cast<const float *>(weight.data);
      for (size_t i = 0; i < weight.bytes / sizeof(float); ++i)
        if (!std::isfinite(values[i]))
          return &weight;
    } else if (weight.dtype == HOPE_DTYPE_F64) {
      const auto *values = reinterpret_cast<const double *>(weight.data);
      for (size_t i = 0; i < weight.bytes / sizeof(double); ++i)
        if (!std::isfinite(values[i]))
          return &weight;
    }
  }
  return nullptr;
}

/// An error if the checkpoint's data options differ from this run's: the
/// batches after its data position would not be those it was trained on.
Error checkSameData(StringRef path, StringRef recorded, StringRef current) {
  Expected<json::Value> old = json::parse(recorded);
  Expected<json::Value> now = json::parse(current);
  if (!old || !now) {
    consumeError(old.takeError());
    consumeError(now.takeError());
    return createStringError(path + ": malformed metadata 'options'");
  }
  const json::Object *oldData =
      old->getAsObject() ? old->getAsObject()->getObject("data") : nullptr;
  const json::Object *newData = now->getAsObject();
  if (!oldData || !newData)
    return createStringError(path + ": malformed metadata 'options'");
  for (const auto &[key, value] : *newData) {
    const json::Value *was = oldData->get(key);
    if (!was || *was != value)
      return createStringError(
          path + ": was trained with --" + key.str() + "=" +
          (was ? formatv("{0}", *was).str() : std::string("(none)")) +
          ", not " + formatv("{0}", value).str() +
          ": resume with the same data options");
  }
  return Error::success();
}

class Loop {
public:
  Loop(TrainingSession &session, const Task &task,
       const TrainerOptions &options, ProgressBar &progress)
      : session(session), task(task), options(options), progress(progress) {}

  Expected<CheckpointState> run();

private:
  Error start();
  Error evaluateAndRecord(int64_t step);
  Error save();
  Error stopAt(int64_t step, const Twine &why);

  TrainingSession &session;
  const Task &task;
  const TrainerOptions &options;
  ProgressBar &progress;
  CheckpointState state;
  /// The step the checkpoint file holds (-1: none written or found).
  int64_t savedStep = -1;
  double stepSeconds = 0;
  int64_t stepsThisRun = 0;
};

Error Loop::start() {
  if (task.vocabulary() > session.vocabulary())
    return createStringError("the task's vocabulary (" +
                             Twine(task.vocabulary()) +
                             ") exceeds the model's (" +
                             Twine(session.vocabulary()) + ")");
  state.seed = options.seed;
  state.options = options.options;
  state.fingerprint = session.fingerprint();
  StringRef path = options.checkpointPath;
  if (path.empty() || !sys::fs::exists(path)) {
    if (options.resume)
      progress.evaluation("note: --resume: no checkpoint at " +
                          (path.empty() ? std::string("(no --checkpoint-dir)")
                                        : path.str()) +
                          ", starting at step 0");
    return Error::success();
  }
  if (!options.resume)
    return createStringError(path + " already holds a checkpoint: pass "
                                    "--resume to continue it, or choose "
                                    "another --checkpoint-dir");
  Expected<CheckpointState> loaded =
      loadCheckpoint(path, session.fingerprint(), session.weights());
  if (!loaded)
    return loaded.takeError();
  if (Error error = checkSameData(path, loaded->options, options.dataOptions))
    return error;
  state = std::move(*loaded);
  state.options = options.options;
  savedStep = state.step;
  progress.evaluation("resumed from " + path.str() + " at step " +
                      std::to_string(state.step));
  return Error::success();
}

Error Loop::save() {
  if (options.checkpointPath.empty())
    return Error::success();
  if (Error error =
          saveCheckpoint(options.checkpointPath, session.weights(), state))
    return error;
  savedStep = state.step;
  return Error::success();
}

Error Loop::evaluateAndRecord(int64_t step) {
  Expected<Score> score =
      evaluate(session, task, options.batch, options.evalBatches);
  if (!score)
    return score.takeError();
  double throughput =
      stepSeconds > 0 ? double(stepsThisRun * options.batch * task.length()) /
                            stepSeconds
                      : 0.0;
  CurvePoint point{step,
                   state.trainLossCount
                       ? state.trainLossSum / double(state.trainLossCount)
                       : NAN,
                   score->loss(), score->accuracy(), throughput};
  state.curves.push_back(point);
  state.trainLossSum = 0;
  state.trainLossCount = 0;
  progress.evaluation(formatEvaluationLine(step, options.steps, point.evalLoss,
                                           point.evalAccuracy, point.trainLoss,
                                           throughput));
  if (options.curvesPrefix.empty())
    return Error::success();
  if (Error error = writeFileAtomically(options.curvesPrefix + ".csv",
                                        formatCurvesCsv(state.curves)))
    return error;
  return writeFileAtomically(options.curvesPrefix + ".svg",
                             renderCurvesSvg(state.curves, options.title));
}

Error Loop::stopAt(int64_t step, const Twine &why) {
  std::string kept =
      options.checkpointPath.empty()
          ? std::string("no checkpoint was written after step ") +
                std::to_string(step - 1)
      : savedStep >= 0
          ? options.checkpointPath + " still holds step " +
                std::to_string(savedStep)
          : std::string("no checkpoint was written");
  return createStringError("step " + Twine(step) + ": " + why +
                           "; training stopped (" + kept + ")");
}

Expected<CheckpointState> Loop::run() {
  if (Error error = start())
    return std::move(error);
  for (int64_t step = state.step + 1; step <= options.steps; ++step) {
    Batch batch = task.makeBatch(Split::Train, state.dataPosition, options.batch);
    auto begin = std::chrono::steady_clock::now();
    Expected<StepResult> result = session.step(batch, options.lr, step);
    stepSeconds += std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - begin)
                       .count();
    if (!result)
      return stopAt(step, toString(result.takeError()));
    if (!std::isfinite(result->loss))
      return stopAt(step, "the loss is " + describeNonFinite(result->loss));
    if (!std::isfinite(result->gradNorm))
      return stopAt(step, "the gradients' norm (grad_norm) is " +
                              describeNonFinite(result->gradNorm));
    if (const WeightBuffer *bad = findNonFinite(session.weights()))
      return stopAt(step, "the updated weight '" + bad->name +
                              "' holds a NaN or an infinity");
    ++stepsThisRun;
    state.step = step;
    state.dataPosition += uint64_t(options.batch);
    state.trainLossSum += result->loss;
    ++state.trainLossCount;
    if (options.onStep)
      options.onStep(step, *result);
    double secondsPerStep = stepSeconds / double(stepsThisRun);
    progress.step(step, options.steps, result->loss,
                  double(options.batch * task.length()) / secondsPerStep,
                  secondsPerStep * double(options.steps - step));

    bool last = step == options.steps;
    bool evaluation = last || (options.evalEvery > 0 && step % options.evalEvery == 0);
    if (evaluation)
      if (Error error = evaluateAndRecord(step))
        return std::move(error);
    bool checkpoint = last || (options.checkpointEvery > 0
                                   ? step % options.checkpointEvery == 0
                                   : evaluation);
    if (checkpoint)
      if (Error error = save())
        return std::move(error);
  }
  progress.finish();
  return state;
}

} // namespace

Expected<CheckpointState> runTraining(TrainingSession &session,
                                      const Task &task,
                                      const TrainerOptions &options,
                                      ProgressBar &progress) {
  if (options.batch < 1)
    return createStringError("--batch must be at least 1");
  if (options.steps < 0)
    return createStringError("--steps must not be negative");
  Loop loop(session, task, options, progress);
  Expected<CheckpointState> state = loop.run();
  if (!state)
    progress.finish();
  return state;
}

} // namespace hope::train
