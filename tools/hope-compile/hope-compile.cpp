//===- hope-compile.cpp - nl IR -> artifact -------------------------------===//
//
// Compiles a model in the nl dialect into an artifact (docs/artifact-abi.md)
// for a registered target backend, through named phases (the common ones,
// then the target's) that can be stopped at (--compile-to) or all written
// out (--dump-phases-to) for inspection.
//
//===----------------------------------------------------------------------===//

#include "OptimizerFlags.h"
#include "ToolSupport.h"

#include "nl/Codegen/InitAllTargetBackends.h"
#include "nl/Codegen/Passes.h"
#include "nl/Codegen/Pipeline.h"
#include "nl/Codegen/TargetBackend.h"
#include "nl/Codegen/TrainStepOptions.h"
#include "nl/IR/NLDialect.h"
#include "nl/Transforms/Passes.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

#include <chrono>

using namespace mlir;
using namespace mlir::nl;
namespace cl = llvm::cl;

namespace {
cl::OptionCategory category("hope-compile options");

cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model.mlir>"),
                               cl::init("-"), cl::cat(category));
cl::opt<std::string> outputFile(
    "o", cl::desc("Output: the shared library, or the IR of --compile-to "
                  "(default: stdout for IR)"),
    cl::value_desc("file"), cl::init(""), cl::cat(category));
/// Filled in main() from the registry, before the options are parsed.
std::string targetHelp;
cl::opt<std::string> targetName("target", cl::desc(""), cl::init(""),
                                cl::cat(category));
cl::opt<std::string> compileTo(
    "compile-to",
    cl::desc("Stop after this phase and write its IR (see --list-phases)"),
    cl::value_desc("phase"), cl::init(""), cl::cat(category));
cl::opt<std::string> dumpPhasesTo(
    "dump-phases-to",
    cl::desc("Write the IR after every phase into this directory, as "
             "NN-<phase>.mlir (and the LLVM IR as NN-llvm-ir.ll)"),
    cl::value_desc("dir"), cl::init(""), cl::cat(category));
cl::opt<std::string> modelName(
    "model-name",
    cl::desc("Model name recorded in the manifest (default: the input file's "
             "stem)"),
    cl::init(""), cl::cat(category));
cl::opt<std::string> cpuName(
    "cpu",
    cl::desc("CPU to compile for: 'host' (default), or an LLVM CPU name of "
             "this architecture such as x86-64-v3 or znver4. The artifact "
             "records its features; the runtime refuses a CPU lacking one"),
    cl::init("host"), cl::cat(category));
cl::opt<std::string> gpuNames(
    "gpu",
    cl::desc("GPU chips to compile kernels for, for GPU targets (--target="
             "cuda): a comma-separated list such as sm_90 or sm_80,sm_90 "
             "(default sm_80,sm_90); the artifact holds a cubin and PTX per "
             "chip, and its host code is compiled for the baseline x86-64"),
    cl::value_desc("chips"), cl::init(""), cl::cat(category));
cl::opt<unsigned> optLevel(
    "O", cl::desc("LLVM optimisation level, 0 to 3 (default 3)"),
    cl::Prefix, cl::init(3), cl::cat(category));
cl::opt<unsigned> maxOpsPerFunction(
    "max-ops-per-function",
    cl::desc("Split functions with more operations than this into private "
             "functions of about this many before LLVM, which optimises "
             "small functions much faster than one huge one (default 2000; "
             "0: never split)"),
    cl::init(2000), cl::cat(category));
cl::opt<bool> listPhases("list-phases",
                         cl::desc("List the phases (the common ones, then "
                                  "--target's) and exit"),
                         cl::init(false), cl::cat(category));
// Training (docs/artifact-abi.md, "Training entry point").
cl::OptionCategory trainCategory("hope-compile --train options");
cl::opt<bool> train(
    "train",
    cl::desc("Add the entry point train_step (loss, gradients, optimizer "
             "step; parameters and optimizer states updated in place)"),
    cl::init(false), cl::cat(trainCategory));
cl::opt<std::string> trainForward(
    "train-forward",
    cl::desc("The entry point to train (default: the model's only one)"),
    cl::init(""), cl::cat(trainCategory));
/// AdamW, decoupled weight decay 0.01, clipping at 1; the cosine decay (if
/// any) ends at 0.1 of the rate.
OptimizerConfig getTrainDefaults() {
  OptimizerConfig defaults;
  defaults.weightDecay = 0.01;
  defaults.clipNorm = 1.0;
  defaults.minLrRatio = 0.1;
  return defaults;
}
hope::tools::OptimizerFlags optimizerFlags(trainCategory, getTrainDefaults());

/// The train_step options; an error names a training flag given without
/// --train or a bad hyper-parameter.
FailureOr<std::optional<NLBuildTrainStepOptions>> getTrainOptions() {
  SmallVector<const cl::Option *> given = optimizerFlags.getGiven();
  if (trainForward.getNumOccurrences())
    given.push_back(&trainForward);
  if (!train) {
    for (const cl::Option *option : given)
      llvm::errs() << "hope-compile: --" << option->ArgStr
                   << " applies to --train only\n";
    if (!given.empty())
      return failure();
    return std::optional<NLBuildTrainStepOptions>();
  }
  llvm::Expected<OptimizerConfig> config = optimizerFlags.getConfig();
  if (!config) {
    llvm::errs() << "hope-compile: " << llvm::toString(config.takeError())
                 << "\n";
    return failure();
  }
  return std::optional<NLBuildTrainStepOptions>(
      getTrainStepOptions(*config, trainForward));
}

cl::opt<bool> verbose("v", cl::desc("Print each phase and its duration"),
                      cl::init(false), cl::cat(category));

LogicalResult writeText(StringRef path, llvm::function_ref<void(raw_ostream &)>
                                            write) {
  std::string error;
  auto file = openOutputFile(path, &error);
  if (!file) {
    llvm::errs() << "hope-compile: cannot write '" << path << "': " << error
                 << "\n";
    return failure();
  }
  write(file->os());
  file->keep();
  return success();
}

int run() {
  const TargetBackend *backend = lookupTargetBackend(targetName);
  if (!backend) {
    llvm::errs() << "hope-compile: unknown --target='" << targetName
                 << "'; this build compiles for: ";
    llvm::interleaveComma(getTargetBackendNames(), llvm::errs());
    llvm::errs() << "\n";
    return 1;
  }
  SmallVector<const CompilePhase *> phases;
  for (const CompilePhase &phase : getCommonPhases())
    phases.push_back(&phase);
  for (const CompilePhase &phase : backend->getPhases())
    phases.push_back(&phase);
  StringRef translationPhase = backend->getTranslationName();
  if (listPhases) {
    llvm::outs() << "input        the parsed and verified nl IR\n";
    for (const CompilePhase *phase : phases)
      llvm::outs() << llvm::formatv("{0,-12} {1}\n", phase->name,
                                    phase->description);
    llvm::outs() << llvm::formatv("{0,-12} {1}\n", translationPhase,
                                  backend->getTranslationDescription());
    return 0;
  }
  bool knownPhase = compileTo.empty() || compileTo == "input" ||
                    compileTo == translationPhase ||
                    llvm::any_of(phases, [](const CompilePhase *phase) {
                      return phase->name == compileTo;
                    });
  if (!knownPhase) {
    llvm::errs() << "hope-compile: unknown phase '" << compileTo
                 << "' (see --list-phases)\n";
    return 1;
  }
  if (compileTo.empty() && outputFile.empty()) {
    llvm::errs() << "hope-compile: give the output library with -o "
                    "(or --compile-to=PHASE to print IR)\n";
    return 1;
  }

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<NLDialect>();
  backend->registerDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  // Devices, huge or too deeply nested inputs and a missing output folder
  // fail here, not after minutes of compiling.
  auto input = hope::tools::readInput(inputFile);
  llvm::Error unusable =
      input ? hope::tools::checkOutputPath(
                  outputFile.empty() ? "-" : outputFile.getValue())
            : input.takeError();
  if (unusable) {
    llvm::errs() << "hope-compile: " << llvm::toString(std::move(unusable))
                 << "\n";
    return 1;
  }
  sourceMgr.AddNewSourceBuffer(std::move(*input), SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1;

  CompileOptions options;
  options.modelName = modelName.empty()
                          ? llvm::sys::path::stem(inputFile).str()
                          : modelName.getValue();
  if (options.modelName == "-")
    options.modelName = "model";
  // The chip comes from --cpu or --gpu, whichever the target reads; the
  // other one does not apply to it.
  bool gpuTarget = backend->getChipOptionName() == "gpu";
  cl::opt<std::string> &chipOption = gpuTarget ? gpuNames : cpuName;
  cl::opt<std::string> &otherOption = gpuTarget ? cpuName : gpuNames;
  if (otherOption.getNumOccurrences()) {
    llvm::errs() << "hope-compile: --" << otherOption.ArgStr
                 << " does not apply to --target=" << backend->getName()
                 << " (it takes --" << chipOption.ArgStr << ")\n";
    return 1;
  }
  options.chip = chipOption.getNumOccurrences()
                     ? chipOption.getValue()
                     : backend->getDefaultChip().str();
  std::string targetError;
  FailureOr<DictionaryAttr> facts =
      backend->getTargetFacts(&context, options, targetError);
  if (failed(facts)) {
    llvm::errs() << "hope-compile: --" << chipOption.ArgStr << "="
                 << options.chip << ": " << targetError << "\n";
    return 1;
  }
  options.target = *facts;
  if (optLevel > 3) {
    llvm::errs() << "hope-compile: -O" << optLevel
                 << " is not a level: use -O0 to -O3\n";
    return 1;
  }
  options.optLevel = optLevel;
  FailureOr<std::optional<NLBuildTrainStepOptions>> trainStep =
      getTrainOptions();
  if (failed(trainStep))
    return 1;
  options.train = *trainStep;
  options.maxOpsPerFunction = maxOpsPerFunction;

  if (!dumpPhasesTo.empty())
    if (std::error_code ec = llvm::sys::fs::create_directories(dumpPhasesTo)) {
      llvm::errs() << "hope-compile: cannot create '" << dumpPhasesTo
                   << "': " << ec.message() << "\n";
      return 1;
    }
  unsigned phaseIndex = 0;
  auto dump = [&](StringRef phase) -> LogicalResult {
    if (dumpPhasesTo.empty())
      return success();
    llvm::SmallString<128> path(dumpPhasesTo);
    llvm::sys::path::append(path,
                            llvm::formatv("{0:2}-{1}.mlir", phaseIndex, phase)
                                .str());
    return writeText(path, [&](raw_ostream &os) { module->print(os); });
  };
  auto emitIR = [&]() {
    return writeText(outputFile.empty() ? "-" : outputFile.getValue(),
                     [&](raw_ostream &os) { module->print(os); });
  };

  if (failed(dump("input")))
    return 1;
  if (compileTo == "input")
    return failed(emitIR());
  module->getOperation()->setAttr(NLDialect::getTargetAttrName(),
                                  options.target);
  for (const CompilePhase *phasePtr : phases) {
    const CompilePhase &phase = *phasePtr;
    ++phaseIndex;
    auto start = std::chrono::steady_clock::now();
    PassManager pm(&context);
    phase.addPasses(pm, options);
    if (failed(pm.run(*module))) {
      llvm::errs() << "hope-compile: phase '" << phase.name << "' failed\n";
      return 1;
    }
    if (verbose)
      llvm::errs() << llvm::formatv(
          "hope-compile: {0,-12} {1,8:f1} ms\n", phase.name,
          std::chrono::duration<double, std::milli>(
              std::chrono::steady_clock::now() - start)
              .count());
    if (failed(dump(phase.name)))
      return 1;
    if (compileTo == phase.name)
      return failed(emitIR());
  }

  ++phaseIndex;
  if (compileTo == translationPhase || !dumpPhasesTo.empty()) {
    FailureOr<std::string> llvmIR = backend->translate(*module, options);
    if (failed(llvmIR))
      return 1;
    if (!dumpPhasesTo.empty()) {
      llvm::SmallString<128> path(dumpPhasesTo);
      llvm::sys::path::append(
          path,
          llvm::formatv("{0:2}-{1}.ll", phaseIndex, translationPhase).str());
      if (failed(writeText(path, [&](raw_ostream &os) { os << *llvmIR; })))
        return 1;
    }
    if (compileTo == translationPhase)
      return failed(writeText(outputFile.empty() ? "-" : outputFile.getValue(),
                              [&](raw_ostream &os) { os << *llvmIR; }));
  }
  auto start = std::chrono::steady_clock::now();
  if (failed(backend->serialize(*module, options, outputFile)))
    return 1;
  if (verbose)
    llvm::errs() << llvm::formatv(
        "hope-compile: {0,-12} {1,8:f1} ms -> {2}\n", "artifact",
        std::chrono::duration<double, std::milli>(
            std::chrono::steady_clock::now() - start)
            .count(),
        outputFile);
  return 0;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  hope::tools::setBugReportMessage();
  registerAllTargetBackends();
  SmallVector<StringRef> targets = getTargetBackendNames();
  targetHelp = "What to compile for (default '" + targets.front().str() +
               "'):";
  for (StringRef name : targets)
    targetHelp += " '" + name.str() + "': " +
                  lookupTargetBackend(name)->getDescription().str() + ";";
  targetHelp.pop_back();
  targetName.setDescription(targetHelp);
  targetName.setInitialValue(targets.front().str());
  registerAllPasses();
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  cl::HideUnrelatedOptions(
      {&category, &trainCategory, &hope::tools::getInputLimitsCategory()});
  cl::ParseCommandLineOptions(
      argc, argv,
      "hope-compile: compile an nl model into an artifact for a target\n\n"
      "  hope-compile model.mlir -o model.so\n"
      "  hope-compile model.mlir --compile-to=linalg      (print one phase)\n"
      "  hope-compile model.mlir -o model.so --dump-phases-to=phases/\n"
      "  hope-compile model.mlir -o model.so --train --optimizer=adamw\n");
  return hope::tools::runOnLargeStack(run);
}
