//===- NLCPUDialect.cpp - marks of the CPU code generation ----------------===//

#include "nl/Codegen/CPU/NLCPUDialect.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Operation.h"

using namespace mlir;
using namespace mlir::nl;

#include "nl/Codegen/CPU/NLCPUDialect.cpp.inc"

void NLCPUDialect::initialize() {}

LogicalResult NLCPUDialect::verifyOperationAttribute(Operation *op,
                                                     NamedAttribute attr) {
  if (attr.getName() != getRegisterTileAttrName())
    return op->emitError() << "unknown nlcpu attribute '"
                           << attr.getName().getValue() << "'";
  if (!isa<UnitAttr>(attr.getValue()))
    return op->emitError() << "'" << getRegisterTileAttrName()
                           << "' must be a unit attribute";
  return success();
}
