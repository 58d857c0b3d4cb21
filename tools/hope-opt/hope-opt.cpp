//===- hope-opt.cpp - the nl dialect's opt driver -------------------------===//
//
// mlir-opt with the nl dialect and passes, plus every upstream dialect,
// extension and pass: runs any pass or pipeline on nl IR alone.
//
//===----------------------------------------------------------------------===//

#include "nl/Codegen/CPU/Passes.h"
#include "nl/Codegen/InitAllTargetBackends.h"
#include "nl/Codegen/Passes.h"
#include "nl/Codegen/TargetBackend.h"
#include "nl/IR/NLDialect.h"
#include "nl/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::nl::registerNLPasses();
  mlir::nl::registerNLCodegenPasses();
  mlir::nl::registerNLCPUCodegenPasses();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<mlir::nl::NLDialect>();
  // The dialects of every backend's codegen marks.
  mlir::nl::registerAllTargetBackends();
  for (llvm::StringRef name : mlir::nl::getTargetBackendNames())
    mlir::nl::lookupTargetBackend(name)->registerDialects(registry);

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "HOPE compiler: nl dialect optimizer driver\n", registry));
}
