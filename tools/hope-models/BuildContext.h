//===- BuildContext.h - The MLIR context hope-models builds in ------------===//
//
// Every hope-models command builds IR in a context holding the dialects the
// model builders use, and reports the first error diagnostic as its message
// (later ones usually follow from it).
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_TOOLS_HOPE_MODELS_BUILDCONTEXT_H
#define HOPE_TOOLS_HOPE_MODELS_BUILDCONTEXT_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <string>

namespace hope::models {

class BuildContext {
public:
  BuildContext();
  BuildContext(const BuildContext &) = delete;
  BuildContext &operator=(const BuildContext &) = delete;

  mlir::MLIRContext &context() { return context_; }
  /// The first error reported in the context; empty while there is none.
  const std::string &firstError() const { return firstError_; }

private:
  mlir::MLIRContext context_;
  std::string firstError_;
  mlir::ScopedDiagnosticHandler handler_;
};

} // namespace hope::models

#endif // HOPE_TOOLS_HOPE_MODELS_BUILDCONTEXT_H
