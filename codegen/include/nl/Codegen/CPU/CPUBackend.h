//===- CPUBackend.h - nl IR to a CPU shared library -------------*- C++ -*-===//
//
// The CPU target backend: after the common phases, contractions tiled and
// vectorised on tensors, bufferized, lowered to parallel loops and the LLVM
// dialect; then LLVM IR -> object -> shared library.
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_CPU_CPUBACKEND_H
#define NL_CODEGEN_CPU_CPUBACKEND_H

#include "nl/Codegen/Pipeline.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

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
  /// The target that facts made by toFacts describe.
  static CPUTarget fromFacts(DictionaryAttr facts);
  /// The manifest's target facts: kind ("cpu"), triple, cpu, features.
  DictionaryAttr toFacts(MLIRContext *context) const;
  /// Bytes of the widest vector registers the features give (x86: 64 with
  /// AVX-512, 32 with AVX, else 16 as SSE and NEON).
  int64_t vectorRegisterBytes() const;
  /// "+avx2,+fma,..." for LLVM's TargetMachine.
  std::string featureString() const;
};

/// Translates an LLVM-dialect module to LLVM IR optimised for the target and
/// level, and returns it as text (the `llvm-ir` phase).
FailureOr<std::string> translateToOptimizedLLVMIR(ModuleOp module,
                                                  const CPUTarget &target,
                                                  unsigned optLevel);

/// Compiles an LLVM-dialect module to an object file for the target and
/// links it into the shared library `outputPath`.
LogicalResult emitSharedLibrary(ModuleOp module, const CPUTarget &target,
                                unsigned optLevel, llvm::StringRef outputPath);

/// Registers the CPU backend as target 'cpu' (once; later calls do nothing).
void registerCPUBackend();

} // namespace mlir::nl

#endif // NL_CODEGEN_CPU_CPUBACKEND_H
