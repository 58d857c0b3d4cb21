//===- OptimizerStepCommand.cpp - hope-models optimizer-step --------------===//
//
// hope-models optimizer-step --optimizer=sgd|adamw|muon|m3 --shapes=8x4,4
// [hyper-parameters] -o step.mlir: one training step of the optimizer
// levels alone, for the parity tests against torch.optim and for users who
// want to see what a rule compiles to.
//
//===----------------------------------------------------------------------===//

#include "OptimizerStepCommand.h"

#include "BuildContext.h"
#include "OptimizerFlags.h"
#include "ToolSupport.h"

#include "nl/IR/NLDialect.h"
#include "nl/Models/OptimizerStep.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/ToolOutputFile.h"


using namespace mlir;
using namespace mlir::nl;
using namespace mlir::nl::models;
namespace cl = llvm::cl;

llvm::cl::OptionCategory &hope::models::getOptimizerStepCategory() {
  static cl::OptionCategory category(
      "optimizer-step options (hope-models optimizer-step)");
  return category;
}

namespace {
cl::opt<std::string> shapesList(
    "shapes",
    cl::desc("optimizer-step: the parameters' shapes, comma-separated "
             "(e.g. 8x4,4)"),
    cl::value_desc("AxB,..."),
    cl::cat(hope::models::getOptimizerStepCategory()));
/// Every hyper-parameter at its usual value; no decay, clipping or
/// schedule unless asked.
hope::tools::OptimizerFlags
    optimizerFlags(hope::models::getOptimizerStepCategory(), OptimizerConfig());

int fail(const llvm::Twine &message) {
  llvm::errs() << "hope-models: optimizer-step: " << message << "\n";
  return 1;
}

/// "8x4,4" -> {{8, 4}, {4}}; an error message otherwise.
std::optional<std::string> parseShapes(StringRef text,
                                       SmallVector<SmallVector<int64_t>> &out) {
  if (text.empty())
    return std::string("give the parameters' shapes: --shapes=8x4,4");
  SmallVector<StringRef> shapes;
  text.split(shapes, ',');
  for (StringRef shape : shapes) {
    SmallVector<StringRef> dims;
    shape.split(dims, 'x');
    SmallVector<int64_t> sizes;
    for (StringRef dim : dims) {
      int64_t size;
      if (dim.getAsInteger(10, size) || size <= 0 || size > (1 << 20))
        return ("bad shape '" + shape +
                "': sizes are positive integers (at most 2^20) separated by "
                "'x'")
            .str();
      sizes.push_back(size);
    }
    out.push_back(std::move(sizes));
  }
  return std::nullopt;
}

} // namespace

llvm::StringRef hope::models::getOptimizerStepUsage() {
  return "  hope-models optimizer-step --optimizer=sgd|adamw|muon|m3 "
         "--shapes=8x4,4 [--dtype=f64] [-o step.mlir]\n"
         "              (one training step: params, grads, states, lr, step "
         "-> params, states)\n";
}

int hope::models::runOptimizerStep(StringRef outputFile, StringRef dtype) {
  SmallVector<SmallVector<int64_t>> shapes;
  if (std::optional<std::string> error = parseShapes(shapesList, shapes))
    return fail(*error);
  if (dtype.empty())
    dtype = "f32";
  if (dtype != "f32" && dtype != "f64")
    return fail("--dtype must be f32 or f64, got '" + dtype + "'");
  llvm::Expected<OptimizerConfig> config = optimizerFlags.getConfig();
  if (!config)
    return fail(llvm::toString(config.takeError()));
  if (llvm::Error error = hope::tools::checkOutputPath(outputFile))
    return fail(llvm::toString(std::move(error)));

  hope::models::BuildContext build;
  MLIRContext &context = build.context();
  const std::string &diagnostics = build.firstError();
  OpBuilder builder(&context);
  Location loc = builder.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  builder.setInsertionPointToEnd(module->getBody());
  buildOptimizerStepFunction(builder, loc, *config, shapes, dtype == "f64");
  // The ops' verifiers check what the flags did not (e.g. the schedule's
  // warm-up against its total).
  if (failed(verify(*module)))
    return fail("the step does not verify: " + diagnostics);

  std::string error;
  auto output = openOutputFile(outputFile, &error);
  if (!output)
    return fail("cannot write '" + outputFile + "': " + error);
  output->os() << "// hope-models optimizer-step --optimizer="
               << getOptimizerKindName(config->kind)
               << " --shapes=" << shapesList << " --dtype=" << dtype << "\n";
  module->print(output->os());
  output->keep();
  return 0;
}
