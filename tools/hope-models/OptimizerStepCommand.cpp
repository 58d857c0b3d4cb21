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

#include <cmath>

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
cl::opt<std::string> optimizerName(
    "optimizer", cl::desc("optimizer-step: sgd, adamw, muon or m3"),
    cl::value_desc("name"), cl::cat(hope::models::getOptimizerStepCategory()));
cl::opt<std::string> shapesList(
    "shapes",
    cl::desc("optimizer-step: the parameters' shapes, comma-separated "
             "(e.g. 8x4,4)"),
    cl::value_desc("AxB,..."),
    cl::cat(hope::models::getOptimizerStepCategory()));
cl::opt<double>
    momentum("momentum",
             cl::desc("optimizer-step: sgd/muon momentum (default 0.9)"),
             cl::init(0.9), cl::cat(hope::models::getOptimizerStepCategory()));
cl::opt<double> weightDecay(
    "weight-decay",
    cl::desc("optimizer-step: sgd: coupled (L2); adamw and the AdamW part "
             "of muon/m3: decoupled (default 0)"),
    cl::init(0.0), cl::cat(hope::models::getOptimizerStepCategory()));
cl::opt<double> beta1("beta1", cl::desc("optimizer-step: AdamW beta1"),
                      cl::init(0.9),
                      cl::cat(hope::models::getOptimizerStepCategory()));
cl::opt<double> beta2("beta2", cl::desc("optimizer-step: AdamW beta2"),
                      cl::init(0.999),
                      cl::cat(hope::models::getOptimizerStepCategory()));
cl::opt<double> eps("eps", cl::desc("optimizer-step: AdamW and M3 epsilon"),
                    cl::init(1e-8),
                    cl::cat(hope::models::getOptimizerStepCategory()));
cl::opt<double> m3Beta1("m3-beta1", cl::desc("optimizer-step: M1 += b1 g"),
                        cl::init(0.9),
                        cl::cat(hope::models::getOptimizerStepCategory()));
cl::opt<double> m3Beta2("m3-beta2", cl::desc("optimizer-step: V += b2 g^2"),
                        cl::init(0.999),
                        cl::cat(hope::models::getOptimizerStepCategory()));
cl::opt<double>
    m3Beta3("m3-beta3",
            cl::desc("optimizer-step: M2 += b3 (sum of g), every f steps"),
            cl::init(0.5), cl::cat(hope::models::getOptimizerStepCategory()));
cl::opt<double> m3Alpha("m3-alpha",
                        cl::desc("optimizer-step: weight of NS5(M2)"),
                        cl::init(0.5),
                        cl::cat(hope::models::getOptimizerStepCategory()));
cl::opt<int64_t> m3Every("m3-every",
                         cl::desc("optimizer-step: M2's period f in steps"),
                         cl::init(4),
                         cl::cat(hope::models::getOptimizerStepCategory()));
cl::opt<double>
    clip("clip",
         cl::desc("optimizer-step: clip the gradients to this global norm "
                  "(default 0: no clipping)"),
         cl::init(0.0), cl::cat(hope::models::getOptimizerStepCategory()));
cl::opt<int64_t>
    warmup("warmup",
           cl::desc("optimizer-step: linear warm-up steps (default 0)"),
           cl::init(0), cl::cat(hope::models::getOptimizerStepCategory()));
cl::opt<int64_t> totalSteps(
    "total-steps",
    cl::desc("optimizer-step: the cosine decay ends at this step (default 0: "
             "no decay)"),
    cl::init(0), cl::cat(hope::models::getOptimizerStepCategory()));
cl::opt<double> minLrRatio(
    "min-lr-ratio",
    cl::desc("optimizer-step: the rate at the end of the decay, over the base "
             "rate (default 0)"),
    cl::init(0.0), cl::cat(hope::models::getOptimizerStepCategory()));

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
  std::optional<OptimizerKind> kind = parseOptimizerKind(optimizerName);
  if (!kind)
    return fail("unknown --optimizer='" + optimizerName +
                "'; optimizers: sgd, adamw, muon, m3");
  SmallVector<SmallVector<int64_t>> shapes;
  if (std::optional<std::string> error = parseShapes(shapesList, shapes))
    return fail(*error);
  if (dtype.empty())
    dtype = "f32";
  if (dtype != "f32" && dtype != "f64")
    return fail("--dtype must be f32 or f64, got '" + dtype + "'");
  for (double value :
       {momentum.getValue(), weightDecay.getValue(), beta1.getValue(),
        beta2.getValue(), eps.getValue(), m3Beta1.getValue(),
        m3Beta2.getValue(), m3Beta3.getValue(), m3Alpha.getValue(),
        clip.getValue(), minLrRatio.getValue()})
    if (!std::isfinite(value) || value < 0.0)
      return fail("hyper-parameters must be finite and >= 0");
  if (m3Every < 1)
    return fail("--m3-every must be at least 1 step");
  OptimizerConfig config;
  config.kind = *kind;
  config.momentum = momentum;
  config.weightDecay = weightDecay;
  config.beta1 = beta1;
  config.beta2 = beta2;
  config.eps = eps;
  config.m3Beta1 = m3Beta1;
  config.m3Beta2 = m3Beta2;
  config.m3Beta3 = m3Beta3;
  config.m3Alpha = m3Alpha;
  config.m3Every = m3Every;
  config.clipNorm = clip;
  config.warmup = warmup;
  config.totalSteps = totalSteps;
  config.minLrRatio = minLrRatio;
  if (llvm::Error error = hope::tools::checkOutputPath(outputFile))
    return fail(llvm::toString(std::move(error)));

  hope::models::BuildContext build;
  MLIRContext &context = build.context();
  const std::string &diagnostics = build.firstError();
  OpBuilder builder(&context);
  Location loc = builder.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  builder.setInsertionPointToEnd(module->getBody());
  buildOptimizerStepFunction(builder, loc, config, shapes, dtype == "f64");
  // The ops' verifiers check what the flags did not (e.g. the schedule's
  // warm-up against its total).
  if (failed(verify(*module)))
    return fail("the step does not verify: " + diagnostics);

  std::string error;
  auto output = openOutputFile(outputFile, &error);
  if (!output)
    return fail("cannot write '" + outputFile + "': " + error);
  output->os() << "// hope-models optimizer-step --optimizer=" << optimizerName
               << " --shapes=" << shapesList << " --dtype=" << dtype << "\n";
  module->print(output->os());
  output->keep();
  return 0;
}
