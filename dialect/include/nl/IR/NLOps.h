//===- NLOps.h - operations of the nl dialect -------------------*- C++ -*-===//

#ifndef NL_IR_NLOPS_H
#define NL_IR_NLOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "nl/IR/NLAttrs.h"
#include "nl/IR/NLDialect.h"
#include "nl/IR/NLInterfaces.h"
#include "nl/IR/NLTraits.h"
#include "nl/IR/NLTypes.h"

namespace mlir::nl {
/// One parameter of a memory's state: its name in diagnostics and weight
/// files, and its shape per head (without the batch and head dimensions).
struct MemoryStateParam {
  std::string name;
  llvm::SmallVector<int64_t> shape;
};

/// The state layout a memory model defines (see #nl.linear, #nl.mlp) for
/// input width `in` and output width `out`.
llvm::SmallVector<MemoryStateParam>
getMemoryStateLayout(Attribute model, int64_t in, int64_t out);

/// True if two dimension sizes can describe the same tensor.
inline bool areDimsCompatible(int64_t a, int64_t b) {
  return a == b || ShapedType::isDynamic(a) || ShapedType::isDynamic(b);
}

/// Formats a shape as `[2, ?, 64]` for diagnostics.
std::string formatShape(llvm::ArrayRef<int64_t> shape);
} // namespace mlir::nl

#define GET_OP_CLASSES
#include "nl/IR/NLOps.h.inc"

#endif // NL_IR_NLOPS_H
