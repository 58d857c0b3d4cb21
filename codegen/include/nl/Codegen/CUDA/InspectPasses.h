//===- InspectPasses.h - what a CUDA kernel costs ---------------*- C++ -*-===//

#ifndef NL_CODEGEN_CUDA_INSPECTPASSES_H
#define NL_CODEGEN_CUDA_INSPECTPASSES_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Pass/Pass.h"

namespace mlir::nl {

#define GEN_PASS_DECL
#include "nl/Codegen/CUDA/InspectPasses.h.inc"

#define GEN_PASS_REGISTRATION
#include "nl/Codegen/CUDA/InspectPasses.h.inc"

} // namespace mlir::nl

#endif // NL_CODEGEN_CUDA_INSPECTPASSES_H
