//===- OptimizerFlags.h - an optimizer from the command line ---*- C++ -*-===//
//
// The flags that choose an optimizer and its hyper-parameters, the same in
// every tool that builds optimizer levels (hope-compile --train, hope-models
// optimizer-step): one spelling, one check (nl::checkOptimizerConfig).
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_TOOLS_SUPPORT_OPTIMIZERFLAGS_H
#define HOPE_TOOLS_SUPPORT_OPTIMIZERFLAGS_H

#include "nl/IR/OptimizerLevels.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"

namespace hope::tools {

/// --optimizer, --momentum, --weight-decay, --beta1, --beta2, --eps,
/// --m3-beta1, --m3-beta2, --m3-beta3, --m3-alpha, --m3-every, --clip,
/// --warmup, --total-steps and --min-lr-ratio. Construct one, as a global,
/// before the command line is parsed.
class OptimizerFlags {
public:
  /// The flags, in `category`, default to `defaults`' values.
  OptimizerFlags(llvm::cl::OptionCategory &category,
                 const mlir::nl::OptimizerConfig &defaults);

  /// The optimizer the flags describe, or an error naming the flag at fault.
  llvm::Expected<mlir::nl::OptimizerConfig> getConfig() const;

  /// The flags given on the command line.
  llvm::SmallVector<const llvm::cl::Option *> getGiven() const;

private:
  /// The flags' values (cl::location), all but the optimizer's kind.
  mlir::nl::OptimizerConfig config;
  llvm::cl::opt<std::string> optimizer;
  llvm::cl::opt<double, true> momentum, weightDecay, beta1, beta2, eps,
      m3Beta1, m3Beta2, m3Beta3, m3Alpha, clip;
  llvm::cl::opt<int64_t, true> m3Every, warmup, totalSteps;
  llvm::cl::opt<double, true> minLrRatio;
};

} // namespace hope::tools

#endif // HOPE_TOOLS_SUPPORT_OPTIMIZERFLAGS_H
