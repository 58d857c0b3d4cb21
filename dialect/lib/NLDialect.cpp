//===- NLDialect.cpp - the nl dialect -------------------------------------===//

#include "nl/IR/NLDialect.h"
#include "nl/IR/NLOps.h"

#include "nl/Models/SeededWeights.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

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
// component of a component op. `nl.manifest` is the artifact manifest that
// nl-prepare-entry-points records on the module, `nl.target` the facts of
// the target the backend compiles for, `nl.manifest_fields` the manifest
// fields a backend adds (a GPU target's kernels and images).
LogicalResult NLDialect::verifyOperationAttribute(Operation *op,
                                                  NamedAttribute attr) {
  if (attr.getName() == getManifestAttrName()) {
    if (!isa<ModuleOp>(op) || !isa<StringAttr>(attr.getValue()))
      return op->emitError() << "'" << getManifestAttrName()
                             << "' must be a string on a module";
    return success();
  }
  if (attr.getName() == getManifestFieldsAttrName()) {
    if (!isa<ModuleOp>(op) || !isa<DictionaryAttr>(attr.getValue()))
      return op->emitError() << "'" << getManifestFieldsAttrName()
                             << "' must be a dictionary on a module";
    return success();
  }
  if (attr.getName() == getTargetAttrName()) {
    if (!isa<ModuleOp>(op) || !isa<DictionaryAttr>(attr.getValue()))
      return op->emitError() << "'" << getTargetAttrName()
                             << "' must be a dictionary on a module";
    return success();
  }
  if (attr.getName() != getLevelAttrName())
    return op->emitError() << "unknown nl attribute '"
                           << attr.getName().getValue() << "'";
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
                           << component.getNumComponents() << " component"
                           << (component.getNumComponents() == 1 ? "" : "s");
  for (int64_t level : levels.asArrayRef())
    if (level < 1)
      return op->emitError() << "level numbers start at 1, got " << level;
  return success();
}

/// Checks an `nl.<role> = "name"` argument or result attribute.
static LogicalResult verifyRoleAttribute(Operation *op, NamedAttribute attr,
                                         ArrayRef<StringRef> roles,
                                         StringRef where, unsigned index) {
  StringRef role = attr.getName().getValue().drop_front(strlen("nl."));
  if (!llvm::is_contained(roles, role)) {
    auto diag = op->emitError() << "unknown nl attribute '"
                                << attr.getName().getValue() << "' on " << where
                                << " #" << index << " (expected one of ";
    llvm::interleaveComma(roles, diag,
                          [&](StringRef r) { diag << "nl." << r; });
    return diag << ")";
  }
  auto name = dyn_cast<StringAttr>(attr.getValue());
  if (!name || name.getValue().empty())
    return op->emitError() << "'" << attr.getName().getValue() << "' on "
                           << where << " #" << index
                           << " must be a non-empty string naming it";
  return success();
}

/// Checks `nl.init = "rule"` or `nl.init_scale = s` on a weight argument:
/// how hope-models and hope-train seed it (nl/Models/SeededWeights.h).
static LogicalResult verifyWeightInitAttribute(Operation *op, unsigned argIndex,
                                               NamedAttribute attr) {
  using namespace mlir::nl::models;
  StringRef attrName = attr.getName().getValue();
  auto function = dyn_cast<FunctionOpInterface>(op);
  if (!function || !function.getArgAttr(argIndex, "nl.weight"))
    return op->emitError() << "'" << attrName << "' on argument #" << argIndex
                           << " needs a weight argument (nl.weight)";
  WeightInit init;
  if (attrName == kInitRuleAttrName) {
    auto name = dyn_cast<StringAttr>(attr.getValue());
    std::optional<InitRule> rule =
        name ? parseInitRule(name.getValue()) : std::nullopt;
    if (!rule)
      return op->emitError()
             << "'" << attrName << "' on argument #" << argIndex
             << " must name an initialisation rule: \"seeded\" or "
                "\"token_shift\"";
    init.rule = *rule;
  } else {
    auto scale = dyn_cast<FloatAttr>(attr.getValue());
    if (!scale)
      return op->emitError() << "'" << attrName << "' on argument #"
                             << argIndex << " must be a float";
    init.scale = scale.getValueAsDouble();
  }
  auto type = dyn_cast<RankedTensorType>(function.getArgumentTypes()[argIndex]);
  if (!type || !type.hasStaticShape())
    return op->emitError() << "'" << attrName << "' on argument #" << argIndex
                           << " needs a tensor of static shape";
  if (std::optional<std::string> why = checkWeightInit(init, type.getShape()))
    return op->emitError() << "'" << attrName << "' on argument #" << argIndex
                           << " of type " << type << ": " << *why;
  return success();
}

LogicalResult NLDialect::verifyRegionArgAttribute(Operation *op, unsigned,
                                                  unsigned argIndex,
                                                  NamedAttribute attr) {
  if (attr.getName() == mlir::nl::models::kInitRuleAttrName ||
      attr.getName() == mlir::nl::models::kInitScaleAttrName)
    return verifyWeightInitAttribute(op, argIndex, attr);
  if (attr.getName() == getServicesAttrName()) {
    if (!isa<UnitAttr>(attr.getValue()))
      return op->emitError() << "'" << getServicesAttrName() << "' on argument #"
                             << argIndex << " must be a unit attribute";
    return success();
  }
  return verifyRoleAttribute(op, attr, {"input", "weight", "state"},
                             "argument", argIndex);
}

LogicalResult NLDialect::verifyRegionResultAttribute(Operation *op, unsigned,
                                                     unsigned resultIndex,
                                                     NamedAttribute attr) {
  return verifyRoleAttribute(op, attr, {"output", "state"}, "result",
                             resultIndex);
}
