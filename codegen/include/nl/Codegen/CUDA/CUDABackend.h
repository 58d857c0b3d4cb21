//===- CUDABackend.h - nl IR to a CUDA artifact -----------------*- C++ -*-===//
//
// The CUDA target backend: after the common phases, bufferized and lowered
// to loops; one kernel per memory stage (the chunk loop inside) and per loop
// nest outside them; kernels to NVVM, cubins per chip and PTX; host code for
// a baseline x86-64 CPU launching through the runtime's service table.
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_CUDA_CUDABACKEND_H
#define NL_CODEGEN_CUDA_CUDABACKEND_H

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace mlir::nl {

/// What the kernels are compiled for.
struct CUDATarget {
  /// Chips, e.g. "sm_80", "sm_90", in the order given.
  llvm::SmallVector<std::string> chips;

  /// Parses a comma-separated list of chips ("sm_80,sm_90"). Fails with a
  /// message naming an unknown or repeated chip.
  static FailureOr<CUDATarget> parse(llvm::StringRef list, std::string &error);
  /// The target that facts made by toFacts describe.
  static CUDATarget fromFacts(DictionaryAttr facts);
  /// The manifest's target facts: kind, chips, ptx_version, host.
  DictionaryAttr toFacts(MLIRContext *context) const;
  /// The smallest per-block shared memory limit of the chips, in bytes.
  int64_t sharedMemoryPerBlock() const;
};

/// The PTX ISA version every chip is compiled with (the manifest's
/// ptx_version, and the NVPTX feature +ptx80).
inline constexpr llvm::StringLiteral kCUDAPTXVersion = "8.0";

/// Registers the CUDA backend as target 'cuda' (once; later calls do nothing).
void registerCUDABackend();

/// Registers target 'cuda-emulated' (codegen/lib/CUDA/EmulatedBackend.cpp):
/// the cuda target's kernels compiled for the CPU. Registers 'cuda' first,
/// whose phases it shares.
void registerCUDAEmulatedBackend();

} // namespace mlir::nl

#endif // NL_CODEGEN_CUDA_CUDABACKEND_H
