//===- TrainingSession.h - what the training loop drives --------*- C++ -*-===//
//
// The loop (Trainer.h) sees a model only through this interface: a training
// step on a batch, a forward pass for evaluation, and the weights, which the
// session owns and updates in place. ArtifactSession implements it with a
// compiled artifact's train_step and forward entry points (the train_step ABI,
// docs/training.md); the unit tests implement it with a small deterministic
// model in the test code.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_TOOLS_HOPETRAIN_TRAININGSESSION_H
#define HOPE_TOOLS_HOPETRAIN_TRAININGSESSION_H

#include "Tasks.h"
#include "TensorFile.h"

#include "nl/Models/SeededWeights.h"

#include <string>
#include <vector>

namespace hope::train {

/// One weight the session owns: a parameter of the forward entry point, or
/// an optimizer state ("<param>.<optimizer>_<state>").
struct WeightBuffer {
  std::string name;
  hope_dtype dtype;
  std::vector<int64_t> shape;
  /// A weight of the forward entry point (what --export writes).
  bool isParameter;
  /// The elements, dense and row-major, which a step updates in place.
  char *data;
  size_t bytes;
  /// How a seeded start initialises a parameter (the manifest's `init` and
  /// `init_scale`).
  mlir::nl::models::WeightInit init = {};

  llvm::MutableArrayRef<char> span() const { return {data, bytes}; }
  TensorView view() const { return {name, dtype, shape, {data, bytes}}; }
};

struct StepResult {
  double loss;
  /// The global L2 norm of the gradients before clipping.
  double gradNorm;
};

class TrainingSession {
public:
  virtual ~TrainingSession();

  /// Every weight, parameters and optimizer states, in the step's order.
  virtual llvm::ArrayRef<WeightBuffer> weights() const = 0;
  /// The size of the logits' last dimension.
  virtual int64_t vocabulary() const = 0;
  /// Identifies the model: the same for every artifact of one model and
  /// training configuration, different for another (checkpoints record it).
  virtual std::string fingerprint() const = 0;

  /// What the training step was compiled with (the manifest's "train"
  /// object, JSON text), or "" when unknown.
  virtual std::string describeTraining() const { return ""; }

  /// One training step (1-based `step`): updates the weights in place and
  /// returns the loss before the update.
  virtual llvm::Expected<StepResult> step(const Batch &batch, float lr,
                                          int64_t step) = 0;
  /// The forward pass's logits, [batch, length, vocabulary()] row-major.
  virtual llvm::Expected<std::vector<float>> logits(const Batch &batch) = 0;
};

} // namespace hope::train

#endif // HOPE_TOOLS_HOPETRAIN_TRAININGSESSION_H
