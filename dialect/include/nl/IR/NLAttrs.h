//===- NLAttrs.h - attributes and enums of the nl dialect -------*- C++ -*-===//

#ifndef NL_IR_NLATTRS_H
#define NL_IR_NLATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/Support/FormatVariadic.h"

#include "nl/IR/NLEnums.h.inc"

namespace mlir::nl {
/// Parses `true` or `false` (flag parameters of nl attributes).
FailureOr<bool> parseBoolKeyword(AsmParser &parser);
/// Parses a float literal (real-valued parameters of nl attributes).
FailureOr<llvm::APFloat> parseF64(AsmParser &parser);
} // namespace mlir::nl

#define GET_ATTRDEF_CLASSES
#include "nl/IR/NLAttrs.h.inc"

#endif // NL_IR_NLATTRS_H
