//===- Checkpoint.h - hope-train's checkpoints ------------------*- C++ -*-===//
//
// A checkpoint is one safetensors file (TensorFile.h) holding every weight
// of the training session -- parameters and optimizer states -- and, in its
// metadata, what else a run needs to continue bit-identically: the steps
// done, the data position (training sequences consumed; with the seed, the
// generator's counter and key), the running training-loss sum, the curves,
// the options, and the model's fingerprint. It is replaced atomically
// (AtomicFile.h).
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_TOOLS_HOPETRAIN_CHECKPOINT_H
#define HOPE_TOOLS_HOPETRAIN_CHECKPOINT_H

#include "Curves.h"
#include "TrainingSession.h"

namespace hope::train {

/// The file a checkpoint folder holds.
inline constexpr llvm::StringLiteral kCheckpointFileName =
    "checkpoint.safetensors";

struct CheckpointState {
  /// Steps completed.
  int64_t step = 0;
  /// Training sequences consumed: the next batch starts at this sequence.
  uint64_t dataPosition = 0;
  /// The generator's key (its counter is the sequence index).
  uint64_t seed = 0;
  /// The training losses since the last evaluation (for the next curve
  /// point), as exact doubles.
  double trainLossSum = 0;
  int64_t trainLossCount = 0;
  /// The options of the run, a JSON object.
  std::string options = "{}";
  /// TrainingSession::fingerprint() of the model.
  std::string fingerprint;
  std::vector<CurvePoint> curves;
};

/// Writes `weights` and `state` to `path` atomically; `beforeRename` as in
/// writeFileAtomically.
llvm::Error saveCheckpoint(
    llvm::StringRef path, llvm::ArrayRef<WeightBuffer> weights,
    const CheckpointState &state,
    llvm::function_ref<llvm::Error()> beforeRename = nullptr);

/// Reads `path`, checks that it is an intact checkpoint of the model whose
/// fingerprint is `fingerprint` holding exactly `weights` (names, dtypes,
/// shapes), and only then copies its tensors into them. Every error names
/// the file; on error no weight is changed.
llvm::Expected<CheckpointState>
loadCheckpoint(llvm::StringRef path, llvm::StringRef fingerprint,
               llvm::ArrayRef<WeightBuffer> weights);

} // namespace hope::train

#endif // HOPE_TOOLS_HOPETRAIN_CHECKPOINT_H
