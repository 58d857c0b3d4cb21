//===- Pipeline.h - the named phases of a compilation -----------*- C++ -*-===//
//
// A compilation is a list of named phases, each a pass pipeline runnable
// alone (hope-compile --compile-to=PHASE, --dump-phases-to=DIR): first the
// target-independent ones (getCommonPhases), ending at linalg on tensors,
// then those of the chosen target backend (TargetBackend.h).
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_PIPELINE_H
#define NL_CODEGEN_PIPELINE_H

#include "nl/Codegen/Passes.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringRef.h"

#include <functional>
#include <optional>
#include <string>

namespace mlir::nl {

/// What the driver asks of a compilation, for every target.
struct CompileOptions {
  std::string modelName = "model";
  /// The chip to compile for: "host" (the machine compiling) or a name the
  /// target backend knows.
  std::string chip = "host";
  /// Optimisation level, 0 to 3.
  unsigned optLevel = 3;
  /// Functions with more operations are split into functions of about this
  /// many before the backend's code generator; 0 never splits.
  unsigned maxOpsPerFunction = 2000;
  /// The facts of the target compiled for, as the backend resolved them from
  /// `chip` (TargetBackend::getTargetFacts); recorded on the module.
  DictionaryAttr target;
  /// hope-compile --train: add the train_step entry point
  /// (nl-build-train-step with these options) in the linalg phase.
  std::optional<NLBuildTrainStepOptions> train;
};

/// One named phase: the passes that take the IR from the previous phase to
/// this one.
struct CompilePhase {
  llvm::StringRef name;
  llvm::StringRef description;
  std::function<void(OpPassManager &, const CompileOptions &)> addPasses;
};

/// The target-independent phases, in order: levels, memories and linalg.
/// The IR after the last one is linalg, tensor and arith on tensors, with no
/// nl op left; every target's own phases start there.
llvm::ArrayRef<CompilePhase> getCommonPhases();

/// Adds an upstream textual pipeline, not wrapped in builtin.module(...)
/// (architecture.md). The pipelines are the compiler's own: a parse error is
/// a compiler bug.
void addPipeline(OpPassManager &pm, llvm::StringRef pipeline);

} // namespace mlir::nl

#endif // NL_CODEGEN_PIPELINE_H
