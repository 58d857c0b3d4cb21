//===- TargetBackend.h - what a target adds to a compilation ----*- C++ -*-===//
//
// A target backend owns everything after the common phases (Pipeline.h):
// bufferization (a GPU chooses workgroup memory there), its own lowering,
// and the serialisation of the artifact. Backends register themselves in a
// process-wide registry (registerAllTargetBackends in InitAllTargetBackends.h)
// that hope-compile --target picks from.
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_TARGETBACKEND_H
#define NL_CODEGEN_TARGETBACKEND_H

#include "nl/Codegen/Pipeline.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "llvm/ADT/SmallVector.h"

#include <memory>
#include <string>

namespace mlir::nl {

class TargetBackend {
public:
  virtual ~TargetBackend();

  /// The name --target selects it by, and the artifact's target kind.
  virtual llvm::StringRef getName() const = 0;
  /// One line for --help and --list-phases.
  virtual llvm::StringRef getDescription() const = 0;

  /// Adds the dialects the backend's phases create or mark IR with, so that
  /// tools load them before parsing (and verify their attributes).
  virtual void registerDialects(DialectRegistry &registry) const {}

  /// The hope-compile option that names the chip (`options.chip`): "cpu"
  /// for CPU targets, "gpu" for GPU targets; and its value when not given.
  virtual llvm::StringRef getChipOptionName() const { return "cpu"; }
  virtual llvm::StringRef getDefaultChip() const { return "host"; }

  /// The facts of the target `options.chip` names, as the manifest's target
  /// object records them. Fails with a message naming what is wrong.
  virtual FailureOr<DictionaryAttr>
  getTargetFacts(MLIRContext *context, const CompileOptions &options,
                 std::string &error) const = 0;

  /// The phases after the common ones, in order, bufferization included.
  virtual llvm::ArrayRef<CompilePhase> getPhases() const = 0;

  /// The text form after the last phase (e.g. LLVM IR): its phase name,
  /// description, and the translation writing it.
  virtual llvm::StringRef getTranslationName() const = 0;
  virtual llvm::StringRef getTranslationDescription() const = 0;
  virtual FailureOr<std::string>
  translate(ModuleOp module, const CompileOptions &options) const = 0;

  /// Writes the artifact (docs/artifact-abi.md) to `outputPath`.
  virtual LogicalResult serialize(ModuleOp module,
                                  const CompileOptions &options,
                                  llvm::StringRef outputPath) const = 0;
};

/// Adds a backend; a second one of the same name is a compiler bug.
void registerTargetBackend(std::unique_ptr<TargetBackend> backend);
/// The backend registered as `name`, or null.
const TargetBackend *lookupTargetBackend(llvm::StringRef name);
/// The registered names, in registration order (the first is the default).
llvm::SmallVector<llvm::StringRef> getTargetBackendNames();

} // namespace mlir::nl

#endif // NL_CODEGEN_TARGETBACKEND_H
