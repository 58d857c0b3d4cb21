//===- Passes.h - CUDA code generation passes -------------------*- C++ -*-===//

#ifndef NL_CODEGEN_CUDA_PASSES_H
#define NL_CODEGEN_CUDA_PASSES_H

#include "nl/Codegen/Passes.h"
#include "nl/IR/NLDialect.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::nl {

#define GEN_PASS_DECL
#include "nl/Codegen/CUDA/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "nl/Codegen/CUDA/Passes.h.inc"

} // namespace mlir::nl

#endif // NL_CODEGEN_CUDA_PASSES_H
