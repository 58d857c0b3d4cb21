//===- Passes.h - passes of the nl dialect ----------------------*- C++ -*-===//

#ifndef NL_TRANSFORMS_PASSES_H
#define NL_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Pass/Pass.h"
#include "nl/IR/NLDialect.h"

#include <string>

namespace mlir::nl {

#define GEN_PASS_DECL
#include "nl/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "nl/Transforms/Passes.h.inc"

} // namespace mlir::nl

#endif // NL_TRANSFORMS_PASSES_H
