//===- Trainer.h - the training loop ----------------------------*- C++ -*-===//
//
// Runs steps on a TrainingSession with the task's batches, evaluates on the
// held-out stream, writes the curves and checkpoints, and stops at the first
// non-finite loss, gradient norm or weight (naming the step and the tensor)
// without writing anything after that step: the last checkpoint stays the
// last good one.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_TOOLS_HOPETRAIN_TRAINER_H
#define HOPE_TOOLS_HOPETRAIN_TRAINER_H

#include "Checkpoint.h"
#include "Evaluation.h"
#include "Progress.h"

#include <functional>

namespace hope::train {

struct TrainerOptions {
  int64_t steps = 100;
  int64_t batch = 8;
  float lr = 1e-3f;
  /// Evaluate every this many steps (0: only after the last).
  int64_t evalEvery = 50;
  /// Held-out batches per evaluation.
  int64_t evalBatches = 4;
  /// Save every this many steps (0: at each evaluation); always after the
  /// last step.
  int64_t checkpointEvery = 0;
  /// The checkpoint file ("": none).
  std::string checkpointPath;
  /// Continue from checkpointPath if it exists.
  bool resume = false;
  /// Writes <prefix>.csv and <prefix>.svg at every evaluation ("": none).
  std::string curvesPrefix;
  /// The title of the SVG.
  std::string title = "hope-train";
  uint64_t seed = 0;
  /// Every option of the run (a JSON object, recorded in checkpoints), and
  /// those that decide the data (a JSON object: a checkpoint of other data
  /// cannot be resumed).
  std::string options = "{}";
  std::string dataOptions = "{}";
  /// Called after every step that succeeded (tests record the losses).
  std::function<void(int64_t step, const StepResult &)> onStep;
};

/// Runs the loop from the initial weights the session holds (or the
/// checkpoint, with `resume`) to `options.steps`; returns the state after
/// the last step.
llvm::Expected<CheckpointState> runTraining(TrainingSession &session,
                                            const Task &task,
                                            const TrainerOptions &options,
                                            ProgressBar &progress);

/// Evaluates on `batches` held-out batches of `batch` sequences.
llvm::Expected<Score> evaluate(TrainingSession &session,
                                      const Task &task, int64_t batch,
                                      int64_t batches);

} // namespace hope::train

#endif // HOPE_TOOLS_HOPETRAIN_TRAINER_H
