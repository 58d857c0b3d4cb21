//===- OutlinePreconditions.cpp - nl-outline-preconditions ----------------===//
//
// An entry point's preconditions become one function the artifact runs
// before the entry point's body, so that a call that breaks one fails with
// a message instead of reading out of bounds.
//
//===----------------------------------------------------------------------===//

#include "nl/Codegen/Passes.h"
#include "nl/IR/NLDialect.h"
#include "nl/IR/NLOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/JSON.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLOUTLINEPRECONDITIONS
#include "nl/Codegen/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;

namespace {

/// The ops computing `value` from the function's arguments, or the first op
/// a check cannot re-run (one with side effects). Side-effect-free ops with
/// regions (a reduction over an argument) are re-run in the check.
FailureOr<Operation *> collectSlice(Value value,
                                    llvm::SetVector<Operation *> &slice,
                                    SmallVectorImpl<unsigned> &arguments) {
  SmallVector<Value> work = {value};
  while (!work.empty()) {
    Value current = work.pop_back_val();
    if (auto argument = dyn_cast<BlockArgument>(current)) {
      if (!llvm::is_contained(arguments, argument.getArgNumber()))
        arguments.push_back(argument.getArgNumber());
      continue;
    }
    Operation *op = current.getDefiningOp();
    if (slice.contains(op))
      continue;
    if (!isMemoryEffectFree(op) || isa<PreconditionOp>(op))
      return op;
    slice.insert(op);
    llvm::append_range(work, op->getOperands());
    // Values a region uses from outside (a reduction's bounds).
    llvm::SetVector<Value> captured;
    getUsedValuesDefinedAbove(op->getRegions(), captured);
    llvm::append_range(work, captured);
  }
  return static_cast<Operation *>(nullptr);
}

struct OutlinePreconditionsPass
    : nl::impl::NLOutlinePreconditionsBase<OutlinePreconditionsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto manifestAttr =
        module->getAttrOfType<StringAttr>(NLDialect::getManifestAttrName());
    std::optional<llvm::json::Value> manifest;
    if (manifestAttr) {
      llvm::Expected<llvm::json::Value> parsed =
          llvm::json::parse(manifestAttr.getValue());
      if (!parsed) {
        llvm::consumeError(parsed.takeError());
        module.emitError("nl.manifest is not valid JSON");
        return signalPassFailure();
      }
      manifest = std::move(*parsed);
    }

    for (auto function :
         llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
      SmallVector<PreconditionOp> preconditions;
      function.walk([&](PreconditionOp op) { preconditions.push_back(op); });
      if (preconditions.empty())
        continue;
      llvm::json::Object *entry = findEntry(manifest, function.getName());
      if (!entry) {
        preconditions.front().emitOpError(
            "is in a function that is not an entry point of the manifest; "
            "only entry points check preconditions");
        return signalPassFailure();
      }
      const llvm::json::Array *inputs = entry->getArray("inputs");
      if (failed(outline(function, preconditions, inputs,
                         (*entry)["preconditions"])))
        return signalPassFailure();
    }
    if (manifest) {
      std::string text;
      llvm::raw_string_ostream os(text);
      os << *manifest;
      module->setAttr(NLDialect::getManifestAttrName(),
                      StringAttr::get(&getContext(), text));
    }
  }

  static llvm::json::Object *findEntry(std::optional<llvm::json::Value> &manifest,
                                       StringRef name) {
    if (!manifest || !manifest->getAsObject())
      return nullptr;
    llvm::json::Array *entries =
        manifest->getAsObject()->getArray("entry_points");
    if (!entries)
      return nullptr;
    for (llvm::json::Value &entry : *entries)
      if (llvm::json::Object *object = entry.getAsObject())
        if (object->getString("name") == name)
          return object;
    return nullptr;
  }

  /// Builds `E.preconditions` and erases the preconditions from `E`.
  LogicalResult outline(func::FuncOp function,
                        ArrayRef<PreconditionOp> preconditions,
                        const llvm::json::Array *inputs,
                        llvm::json::Value &described) {
    llvm::SetVector<Operation *> slice;
    llvm::json::Array list;
    for (PreconditionOp precondition : preconditions) {
      if (precondition->getParentOp() != function)
        return precondition.emitOpError(
            "must be at the top level of its entry point's body");
      SmallVector<unsigned> arguments;
      FailureOr<Operation *> blocker =
          collectSlice(precondition.getCondition(), slice, arguments);
      if (*blocker) {
        InFlightDiagnostic diag = precondition.emitOpError(
            "depends on a value computed by '")
            << (*blocker)->getName()
            << "'; a precondition may only read the entry point's arguments";
        diag.attachNote((*blocker)->getLoc()) << "computed here";
        return diag;
      }
      llvm::sort(arguments);
      llvm::json::Array names;
      for (unsigned index : arguments) {
        const llvm::json::Object *input =
            inputs && index < inputs->size() ? (*inputs)[index].getAsObject()
                                              : nullptr;
        std::optional<StringRef> name =
            input ? input->getString("name") : std::nullopt;
        names.push_back(name ? name->str() : "arg" + std::to_string(index));
      }
      list.push_back(llvm::json::Object{
          {"message", precondition.getMessage().str()},
          {"inputs", std::move(names)}});
    }
    described = std::move(list);

    OpBuilder builder(function);
    Location loc = function.getLoc();
    auto i32 = builder.getI32Type();
    auto check = func::FuncOp::create(
        builder, loc, getPreconditionCheckName(function.getName()),
        builder.getFunctionType(function.getArgumentTypes(), {i32}));
    check.setAllArgAttrs(function.getAllArgAttrs());
    for (StringRef name : {"llvm.emit_c_interface"})
      if (Attribute attr = function->getAttr(name))
        check->setAttr(name, attr);
    Block *body = check.addEntryBlock();
    builder.setInsertionPointToStart(body);
    IRMapping mapping;
    mapping.map(function.getArguments(), body->getArguments());
    // Clone in the entry point's order, so that operands come first.
    for (Operation &op : function.getBody().front())
      if (slice.contains(&op))
        builder.clone(op, mapping);
    // The first failed condition wins: fold from the last one.
    Value status = arith::ConstantIntOp::create(builder, loc, i32, 0);
    for (size_t index = preconditions.size(); index-- > 0;) {
      Value failedCode = arith::ConstantIntOp::create(
          builder, loc, i32, static_cast<int64_t>(index + 1));
      status = arith::SelectOp::create(
          builder, loc,
          mapping.lookup(PreconditionOp(preconditions[index]).getCondition()),
          status,
          failedCode);
    }
    func::ReturnOp::create(builder, loc, status);
    for (PreconditionOp precondition : preconditions)
      precondition.erase();
    return success();
  }
};

} // namespace
