//===- NLDialect.cpp - the nl dialect -------------------------------------===//

#include "nl/IR/NLDialect.h"
#include "nl/IR/NLOps.h"

using namespace mlir;
using namespace mlir::nl;

#include "nl/IR/NLDialect.cpp.inc"

void NLDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "nl/IR/NLOps.cpp.inc"
      >();
  registerAttributes();
  registerTypes();
}

// `nl.level` is written by nl-assign-levels: one level number (>= 1) per
// component of a component op. Anything else carrying it is a mistake.
LogicalResult NLDialect::verifyOperationAttribute(Operation *op,
                                                  NamedAttribute attr) {
  if (attr.getName() != getLevelAttrName())
    return op->emitError() << "unknown nl attribute '" << attr.getName()
                           << "'";
  auto component = dyn_cast<ComponentOpInterface>(op);
  if (!component)
    return op->emitError() << "'" << getLevelAttrName()
                           << "' is only valid on ops that declare components";
  auto levels = dyn_cast<DenseI64ArrayAttr>(attr.getValue());
  if (!levels)
    return op->emitError() << "'" << getLevelAttrName()
                           << "' must be an array<i64> of level numbers";
  if (levels.size() != static_cast<int64_t>(component.getNumComponents()))
    return op->emitError() << "'" << getLevelAttrName() << "' has "
                           << levels.size() << " entries but the op declares "
                           << component.getNumComponents() << " components";
  for (int64_t level : levels.asArrayRef())
    if (level < 1)
      return op->emitError() << "level numbers start at 1, got " << level;
  return success();
}
