//===- OptimizerFlags.cpp - an optimizer from the command line ------------===//

#include "OptimizerFlags.h"

#include "llvm/Support/FormatVariadic.h"

using namespace llvm;
using mlir::nl::OptimizerConfig;

namespace hope::tools {

namespace {
/// "<what> (default <value>)".
std::string describe(StringRef what, double value) {
  return formatv("{0} (default {1})", what, value).str();
}
} // namespace

OptimizerFlags::OptimizerFlags(cl::OptionCategory &category,
                               const OptimizerConfig &defaults)
    : config(defaults),
      optimizer("optimizer",
                cl::desc(formatv("sgd, adamw, muon or m3 (default {0})",
                                 mlir::nl::getOptimizerKindName(defaults.kind))
                             .str()),
                cl::init(mlir::nl::getOptimizerKindName(defaults.kind).str()),
                cl::value_desc("name"), cl::cat(category)),
      momentum("momentum",
               cl::desc(describe("SGD's and Muon's momentum",
                                 defaults.momentum)),
               cl::location(config.momentum), cl::cat(category)),
      weightDecay("weight-decay",
                  cl::desc(describe("Weight decay: decoupled for AdamW and "
                                    "the AdamW part of Muon and M3, L2 for "
                                    "SGD",
                                    defaults.weightDecay)),
                  cl::location(config.weightDecay), cl::cat(category)),
      beta1("beta1",
            cl::desc(describe("AdamW's first-moment decay", defaults.beta1)),
            cl::location(config.beta1), cl::cat(category)),
      beta2("beta2",
            cl::desc(describe("AdamW's second-moment decay", defaults.beta2)),
            cl::location(config.beta2), cl::cat(category)),
      eps("eps",
          cl::desc(describe("AdamW's and M3's denominator epsilon",
                            defaults.eps)),
          cl::location(config.eps), cl::cat(category)),
      m3Beta1("m3-beta1",
              cl::desc(describe("M3: M1 <- M1 + b1 g", defaults.m3Beta1)),
              cl::location(config.m3Beta1), cl::cat(category)),
      m3Beta2("m3-beta2",
              cl::desc(describe("M3: V <- V + b2 g^2", defaults.m3Beta2)),
              cl::location(config.m3Beta2), cl::cat(category)),
      m3Beta3("m3-beta3",
              cl::desc(describe("M3: M2 <- M2 + b3 (sum of g), every "
                                "--m3-every steps",
                                defaults.m3Beta3)),
              cl::location(config.m3Beta3), cl::cat(category)),
      m3Alpha("m3-alpha",
              cl::desc(describe("M3: the weight of NS5(M2)", defaults.m3Alpha)),
              cl::location(config.m3Alpha), cl::cat(category)),
      clip("clip",
           cl::desc(describe("Clip the gradients to this global L2 norm (0: "
                             "off)",
                             defaults.clipNorm)),
           cl::location(config.clipNorm), cl::cat(category)),
      m3Every("m3-every",
              cl::desc(describe("M3: M2's period in steps",
                                double(defaults.m3Every))),
              cl::location(config.m3Every), cl::cat(category)),
      warmup("warmup",
             cl::desc(describe("Steps of linear learning-rate warm-up",
                               double(defaults.warmup))),
             cl::location(config.warmup), cl::cat(category)),
      totalSteps("total-steps",
                 cl::desc(describe("The step at which the cosine decay ends "
                                   "(0: a constant rate after the warm-up)",
                                   double(defaults.totalSteps))),
                 cl::location(config.totalSteps), cl::cat(category)),
      minLrRatio("min-lr-ratio",
                 cl::desc(describe("The rate at --total-steps, as a fraction "
                                   "of the base rate",
                                   defaults.minLrRatio)),
                 cl::location(config.minLrRatio), cl::cat(category)) {}

Expected<OptimizerConfig> OptimizerFlags::getConfig() const {
  std::optional<mlir::nl::OptimizerKind> kind =
      mlir::nl::parseOptimizerKind(optimizer);
  if (!kind)
    return createStringError("--optimizer=" + optimizer.getValue() +
                             ": unknown optimizer (sgd, adamw, muon or m3)");
  OptimizerConfig checked = config;
  checked.kind = *kind;
  if (std::optional<std::string> error =
          mlir::nl::checkOptimizerConfig(checked))
    return createStringError("--" + *error);
  return checked;
}

SmallVector<const cl::Option *> OptimizerFlags::getGiven() const {
  SmallVector<const cl::Option *> given;
  for (const cl::Option *flag : std::initializer_list<const cl::Option *>{
           &optimizer, &momentum, &weightDecay, &beta1, &beta2, &eps,
           &m3Beta1, &m3Beta2, &m3Beta3, &m3Alpha, &clip, &m3Every, &warmup,
           &totalSteps, &minLrRatio})
    if (flag->getNumOccurrences())
      given.push_back(flag);
  return given;
}

} // namespace hope::tools
