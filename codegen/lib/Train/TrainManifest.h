//===- TrainManifest.h - train_step's entry in the manifest -----*- C++ -*-===//
//
// nl-build-train-step runs after nl-prepare-entry-points has recorded the
// manifest (and stripped the role attributes): the forward's names, roles
// and shapes are read back from the manifest, and train_step's entry is
// made from them (docs/artifact-abi.md, "Training entry point").
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_TRAIN_TRAINMANIFEST_H
#define NL_CODEGEN_TRAIN_TRAINMANIFEST_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/JSON.h"

#include <optional>
#include <string>

namespace mlir::nl::train {

/// One argument of the forward, as its manifest entry describes it.
struct ForwardArgument {
  unsigned index;
  std::string name, role;
  /// Its manifest object (name, role, dtype, shape).
  llvm::json::Object spec;
};

/// An optimizer state argument of train_step.
struct StateArgument {
  std::string name;
  /// The index of its parameter among the forward's weights.
  unsigned weight;
};

/// The parts of train_step's manifest entry.
struct TrainEntry {
  llvm::SmallVector<ForwardArgument> inputs;  // non-weight, forward order
  llvm::SmallVector<ForwardArgument> weights; // forward order
  llvm::SmallVector<StateArgument> states;
  /// targets: i64 [shape of the first input] (cross-entropy) or the dtype
  /// and shape of the output (squared error).
  llvm::json::Object targets;
  std::string elementType; // "f32" or "f64": learning_rate, loss, grad_norm
  llvm::json::Object options; // the "train" object
};

/// The manifest entry of train_step.
llvm::json::Object describeTrainStep(const TrainEntry &entry);

/// The first name that two of train_step's inputs would share (a forward
/// input named `learning_rate`, `step` or `targets`, or a weight named like another
/// weight's optimizer state), with what each of the two is; none when every
/// input name is distinct. Runtimes bind arguments by name, so a clash
/// would make one of them unreachable.
std::optional<std::string> findClashingInputName(const TrainEntry &entry);

} // namespace mlir::nl::train

#endif // NL_CODEGEN_TRAIN_TRAINMANIFEST_H
