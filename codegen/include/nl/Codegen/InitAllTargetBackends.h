//===- InitAllTargetBackends.h - every target backend -----------*- C++ -*-===//
//
// The one list of the target backends this build has; tools call
// registerAllTargetBackends() before looking one up (as MLIR's
// registerAllDialects).
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_INITALLTARGETBACKENDS_H
#define NL_CODEGEN_INITALLTARGETBACKENDS_H

#include "nl/Codegen/CPU/CPUBackend.h"
#include "nl/Codegen/CUDA/CUDABackend.h"

namespace mlir::nl {

/// Registers every backend; the first is hope-compile's default target.
inline void registerAllTargetBackends() {
  registerCPUBackend();
  registerCUDABackend();
  registerCUDAEmulatedBackend();
}

} // namespace mlir::nl

#endif // NL_CODEGEN_INITALLTARGETBACKENDS_H
