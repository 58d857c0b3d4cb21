//===- NLTypes.cpp - types of the nl dialect ------------------------------===//

#include "nl/IR/NLTypes.h"
#include "nl/IR/NLDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::nl;

#define GET_TYPEDEF_CLASSES
#include "nl/IR/NLTypes.cpp.inc"

void NLDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "nl/IR/NLTypes.cpp.inc"
      >();
}

LogicalResult MemoryType::verify(function_ref<InFlightDiagnostic()> emitError,
                                 int64_t heads, int64_t inputWidth,
                                 int64_t outputWidth, Type elementType) {
  if (heads <= 0 || inputWidth <= 0 || outputWidth <= 0)
    return emitError() << "memory heads and widths must be positive, got "
                       << heads << " heads, " << inputWidth << " -> "
                       << outputWidth;
  if (!isa<FloatType>(elementType))
    return emitError() << "memory state must have a float element type, got "
                       << elementType;
  return success();
}
