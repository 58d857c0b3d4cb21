//===- BuildContext.cpp ---------------------------------------------------===//

#include "BuildContext.h"

#include "nl/IR/NLDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace mlir;

static DialectRegistry builderDialects() {
  DialectRegistry registry;
  registry.insert<nl::NLDialect, func::FuncDialect, arith::ArithDialect>();
  return registry;
}

namespace hope::models {

BuildContext::BuildContext()
    : context_(builderDialects()),
      handler_(&context_, [this](Diagnostic &diag) {
        if (diag.getSeverity() == DiagnosticSeverity::Error &&
            firstError_.empty())
          firstError_ = diag.str();
        return success();
      }) {
  context_.loadAllAvailableDialects();
}

} // namespace hope::models
