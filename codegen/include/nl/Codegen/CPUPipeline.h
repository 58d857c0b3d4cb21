//===- CPUPipeline.h - nl IR to a CPU shared library ------------*- C++ -*-===//
//
// The named phases of compiling nl IR for the host CPU, each a pass pipeline
// runnable alone (hope-compile --compile-to=PHASE, --dump-phases-to=DIR),
// and the last step: LLVM IR -> object -> shared library.
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_CPUPIPELINE_H
#define NL_CODEGEN_CPUPIPELINE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringRef.h"

#include <functional>
#include <string>

namespace mlir::nl {

/// What the code is compiled for.
struct CPUTarget {
  std::string triple;
  std::string cpu;
  /// Enabled features, without '+' (e.g. "avx2", "fma").
  llvm::SmallVector<std::string> features;

  /// The host this process runs on.
  static CPUTarget host();
  /// A named CPU of the host's architecture (e.g. "x86-64-v3", "znver4"),
  /// with every feature LLVM enables for it. Fails with a message naming the
  /// CPU if LLVM does not know it.
  static FailureOr<CPUTarget> named(llvm::StringRef cpu, std::string &error);
  /// Bytes of the widest vector registers the features give (x86: 64 with
  /// AVX-512, 32 with AVX, else 16 as SSE and NEON).
  int64_t vectorRegisterBytes() const;
  /// "+avx2,+fma,..." for LLVM's TargetMachine.
  std::string featureString() const;
};

struct CompileOptions {
  std::string modelName = "model";
  CPUTarget target;
  /// LLVM optimisation level, 0 to 3.
  unsigned optLevel = 3;
  /// Functions with more operations are split into functions of about this
  /// many before LLVM (nl-split-large-functions); 0 never splits.
  unsigned maxOpsPerFunction = 2000;
};

/// One named phase: the passes that take the IR from the previous phase to
/// this one.
struct CompilePhase {
  llvm::StringRef name;
  llvm::StringRef description;
  std::function<void(OpPassManager &, const CompileOptions &)> addPasses;
};

/// The phases, in order. The IR after the last one is in the LLVM dialect.
llvm::ArrayRef<CompilePhase> getCPUPhases();

/// Translates an LLVM-dialect module to LLVM IR optimised for the options'
/// target and level, and returns it as text (the `llvm-ir` phase).
FailureOr<std::string> translateToOptimizedLLVMIR(ModuleOp module,
                                                  const CompileOptions &options);

/// Compiles an LLVM-dialect module to an object file for the options' target
/// and links it into the shared library `outputPath`.
LogicalResult emitSharedLibrary(ModuleOp module, const CompileOptions &options,
                                llvm::StringRef outputPath);

} // namespace mlir::nl

#endif // NL_CODEGEN_CPUPIPELINE_H
