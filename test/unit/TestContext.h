//===- TestContext.h - shared set-up of the unit tests ----------*- C++ -*-===//

#ifndef HOPE_TEST_UNIT_TESTCONTEXT_H
#define HOPE_TEST_UNIT_TESTCONTEXT_H

#include "nl/IR/NLDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Parser/Parser.h"

#include <string>

namespace hope::test {

/// A context with the dialects the models use.
inline std::unique_ptr<mlir::MLIRContext> makeContext() {
  mlir::DialectRegistry registry;
  registry.insert<mlir::nl::NLDialect, mlir::func::FuncDialect,
                  mlir::arith::ArithDialect>();
  auto context = std::make_unique<mlir::MLIRContext>(registry);
  context->loadAllAvailableDialects();
  return context;
}

inline mlir::OwningOpRef<mlir::ModuleOp> parse(mlir::MLIRContext &context,
                                               const std::string &source) {
  return mlir::parseSourceString<mlir::ModuleOp>(source, &context);
}

} // namespace hope::test

#endif // HOPE_TEST_UNIT_TESTCONTEXT_H
