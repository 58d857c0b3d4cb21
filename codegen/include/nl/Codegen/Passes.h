//===- Passes.h - code generation passes ------------------------*- C++ -*-===//

#ifndef NL_CODEGEN_PASSES_H
#define NL_CODEGEN_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "nl/IR/NLDialect.h"

#include <string>

namespace mlir::nl {

/// The function nl-outline-preconditions makes for entry point `entry`.
inline std::string getPreconditionCheckName(llvm::StringRef entry) {
  return (entry + ".preconditions").str();
}

/// The service table version the artifacts of this compiler need.
constexpr int64_t kServicesVersion = 1;

#define GEN_PASS_DECL
#include "nl/Codegen/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "nl/Codegen/Passes.h.inc"

} // namespace mlir::nl

#endif // NL_CODEGEN_PASSES_H
