//===- hope-opt.cpp - the nl dialect's opt driver -------------------------===//
//
// mlir-opt with the nl dialect and passes, plus every upstream dialect,
// extension and pass: runs any pass or pipeline on nl IR alone. Unlike
// mlir-opt it refuses inputs that are not regular files or are too large or
// too deeply nested (ToolSupport.h), and runs on a large stack.
//
//===----------------------------------------------------------------------===//

#include "ToolSupport.h"

#include "nl/Codegen/CPU/Passes.h"
#include "nl/Codegen/CUDA/InspectPasses.h"
#include "nl/Codegen/CUDA/Passes.h"
#include "nl/Codegen/InitAllTargetBackends.h"
#include "nl/Codegen/Passes.h"
#include "nl/Codegen/TargetBackend.h"
#include "nl/IR/NLDialect.h"
#include "nl/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;

/// "hope-opt: <error>" on stderr; the exit code 1.
static int fail(llvm::Error error) {
  llvm::errs() << "hope-opt: " << llvm::toString(std::move(error)) << "\n";
  return 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  hope::tools::setBugReportMessage();
  registerAllPasses();
  nl::registerNLPasses();
  nl::registerNLCodegenPasses();
  nl::registerNLCPUCodegenPasses();
  nl::registerNLCUDACodegenPasses();
  nl::registerNLCUDAInspectPasses();

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<nl::NLDialect>();
  // The dialects of every backend's codegen marks.
  nl::registerAllTargetBackends();
  for (llvm::StringRef name : nl::getTargetBackendNames())
    nl::lookupTargetBackend(name)->registerDialects(registry);

  auto [inputFile, outputFile] = registerAndParseCLIOptions(
      argc, argv, "HOPE compiler: nl dialect optimizer driver\n", registry);
  MlirOptMainConfig config = MlirOptMainConfig::createFromCLOptions();
  // Listings read no input: mlir-opt's own driver prints them.
  if (config.shouldShowDialects() || config.shouldListPasses())
    return asMainReturnCode(
        MlirOptMain(argc, argv, inputFile, outputFile, registry));

  llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> input =
      hope::tools::readInput(inputFile);
  if (!input)
    return fail(input.takeError());
  if (llvm::Error error = hope::tools::checkOutputPath(outputFile))
    return fail(std::move(error));
  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> output =
      openOutputFile(outputFile, &error);
  if (!output)
    return fail(llvm::createStringError("cannot write '" + outputFile +
                                        "': " + error));
  return hope::tools::runOnLargeStack([&] {
    if (failed(MlirOptMain(output->os(), std::move(*input), registry, config)))
      return 1;
    output->keep();
    return 0;
  });
}
