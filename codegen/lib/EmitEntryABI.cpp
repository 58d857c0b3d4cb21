//===- EmitEntryABI.cpp - nl-emit-entry-abi -------------------------------===//
//
// The exported symbols of an artifact (docs/artifact-abi.md), emitted in the
// LLVM dialect next to MLIR's C interface functions:
//
//   int32_t hope_entry_E(void **args, const hope_services *services) {
//     int32_t failed = _mlir_ciface_E.preconditions(args[0], ..., args[n-1],
//                                                   services);
//     if (failed) return failed;          // only if E has preconditions
//     Results r;                          // one descriptor or a struct of them
//     _mlir_ciface_E(&r, args[0], ..., args[n-1], services);
//     *(Desc_j *)args[n + j] = r.j;       // for every result j
//     return 0;
//   }
//
//===----------------------------------------------------------------------===//

#include "nl/Codegen/Passes.h"
#include "nl/IR/NLDialect.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "llvm/Support/JSON.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLEMITENTRYABI
#include "nl/Codegen/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;

namespace {

/// The JSON value of a target fact: a string, integer, float, boolean, or an
/// array or dictionary of them.
FailureOr<llvm::json::Value> toJSON(Attribute attr) {
  if (auto string = dyn_cast<StringAttr>(attr))
    return llvm::json::Value(string.str());
  if (auto boolean = dyn_cast<BoolAttr>(attr))
    return llvm::json::Value(boolean.getValue());
  if (auto integer = dyn_cast<IntegerAttr>(attr))
    return llvm::json::Value(integer.getInt());
  if (auto number = dyn_cast<FloatAttr>(attr))
    return llvm::json::Value(number.getValueAsDouble());
  if (auto array = dyn_cast<ArrayAttr>(attr)) {
    llvm::json::Array values;
    for (Attribute element : array) {
      FailureOr<llvm::json::Value> value = toJSON(element);
      if (failed(value))
        return failure();
      values.push_back(std::move(*value));
    }
    return llvm::json::Value(std::move(values));
  }
  if (auto dictionary = dyn_cast<DictionaryAttr>(attr)) {
    llvm::json::Object object;
    for (NamedAttribute entry : dictionary) {
      FailureOr<llvm::json::Value> value = toJSON(entry.getValue());
      if (failed(value))
        return failure();
      object[entry.getName().getValue()] = std::move(*value);
    }
    return llvm::json::Value(std::move(object));
  }
  return failure();
}

/// The manifest text: `manifest` (the entry points) with the target object
/// made from `target`, whose `kind`, if any, comes first (artifact-abi.md),
/// and the backend's own top-level `fields` (may be null).
FailureOr<std::string> writeManifest(ModuleOp module, StringAttr manifest,
                                     DictionaryAttr target,
                                     DictionaryAttr fields) {
  llvm::Expected<llvm::json::Value> parsed =
      llvm::json::parse(manifest.getValue());
  if (!parsed) {
    llvm::consumeError(parsed.takeError());
    return module.emitError("nl.manifest is not valid JSON");
  }
  llvm::json::Object *entries = parsed->getAsObject();
  if (!entries)
    return module.emitError("nl.manifest is not a JSON object");
  FailureOr<llvm::json::Value> facts = toJSON(target);
  if (failed(facts))
    return module.emitError("nl.target holds a value that JSON cannot "
                            "represent: ")
           << target;
  (*entries)["target"] = std::move(*facts);
  // The table version CPU code needs; a backend needing a later one (a GPU
  // target's launches) records it among its fields.
  (*entries)["services"] = kServicesVersion;
  if (fields)
    for (NamedAttribute field : fields) {
      FailureOr<llvm::json::Value> value = toJSON(field.getValue());
      if (failed(value))
        return module.emitError("nl.manifest_fields holds a value that JSON "
                                "cannot represent: ")
               << field.getValue();
      (*entries)[field.getName().getValue()] = std::move(*value);
    }

  std::string text;
  llvm::raw_string_ostream os(text);
  llvm::json::OStream json(os);
  json.object([&] {
    for (const auto *entry : llvm::json::sortedElements(*entries)) {
      const llvm::json::Object *object = entry->second.getAsObject();
      if (entry->first != "target" || !object || !object->get("kind")) {
        json.attribute(entry->first, entry->second);
        continue;
      }
      json.attributeObject("target", [&] {
        json.attribute("kind", *object->get("kind"));
        for (const auto *fact : llvm::json::sortedElements(*object))
          if (fact->first != "kind")
            json.attribute(fact->first, fact->second);
      });
    }
  });
  return text;
}

/// Whether nl-route-allocations gave `function` the service table.
bool takesServices(LLVM::LLVMFuncOp function) {
  unsigned count = function.getNumArguments();
  return count > 0 &&
         function.getArgAttr(count - 1, NLDialect::getServicesAttrName()) != nullptr;
}

struct EmitEntryABIPass : nl::impl::NLEmitEntryABIBase<EmitEntryABIPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    OpBuilder builder(module.getBodyRegion());
    builder.setInsertionPointToEnd(module.getBody());
    Location loc = module.getLoc();
    MLIRContext *ctx = &getContext();
    auto ptrType = LLVM::LLVMPointerType::get(ctx);
    auto i32Type = builder.getI32Type();
    constexpr StringLiteral kInterfacePrefix = "_mlir_ciface_";

    SmallVector<LLVM::LLVMFuncOp> interfaces;
    for (auto function : module.getOps<LLVM::LLVMFuncOp>())
      if (function.getName().starts_with(kInterfacePrefix) &&
          !function.isExternal() &&
          !function.getName().ends_with(getPreconditionCheckName("")))
        interfaces.push_back(function);
    if (interfaces.empty()) {
      module.emitError("no entry point with a C interface: run "
                       "nl-prepare-entry-points before lowering to LLVM");
      return signalPassFailure();
    }

    for (LLVM::LLVMFuncOp interface : interfaces) {
      StringRef name = interface.getName().drop_front(kInterfacePrefix.size());
      auto callee = module.lookupSymbol<LLVM::LLVMFuncOp>(name);
      if (!callee) {
        interface.emitError("no function '") << name << "' behind it";
        return signalPassFailure();
      }
      // nl-route-allocations appended the service table to both.
      if (!takesServices(interface) || !takesServices(callee)) {
        interface.emitError("takes no service table: run "
                            "nl-route-allocations first");
        return signalPassFailure();
      }
      Type resultType = callee.getFunctionType().getReturnType();
      bool hasResults = !isa<LLVM::LLVMVoidType>(resultType);
      unsigned numInputs =
          interface.getNumArguments() - 1 - (hasResults ? 1 : 0);
      SmallVector<Type> resultTypes;
      if (auto results = dyn_cast<LLVM::LLVMStructType>(resultType);
          results && !results.getBody().empty() &&
          isa<LLVM::LLVMStructType>(results.getBody().front()))
        llvm::append_range(resultTypes, results.getBody());
      else if (hasResults)
        resultTypes.push_back(resultType);

      auto entry = LLVM::LLVMFuncOp::create(
          builder, loc, ("hope_entry_" + name).str(),
          LLVM::LLVMFunctionType::get(i32Type, {ptrType, ptrType}));
      OpBuilder::InsertionGuard guard(builder);
      Block *body = entry.addEntryBlock(builder);
      builder.setInsertionPointToStart(body);
      Value args = body->getArgument(0);
      Value services = body->getArgument(1);
      auto slot = [&](unsigned index) -> Value {
        Value address = LLVM::GEPOp::create(
            builder, loc, ptrType, ptrType, args,
            ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(index)});
        return LLVM::LoadOp::create(builder, loc, ptrType, address);
      };
      auto constant = [&](int32_t value) -> Value {
        return LLVM::ConstantOp::create(builder, loc, i32Type,
                                        builder.getI32IntegerAttr(value));
      };
      if (auto check = module.lookupSymbol<LLVM::LLVMFuncOp>(
              (kInterfacePrefix + getPreconditionCheckName(name)).str())) {
        if (!takesServices(check)) {
          check.emitError("takes no service table: run "
                          "nl-route-allocations first");
          return signalPassFailure();
        }
        SmallVector<Value> checkArgs;
        for (unsigned input = 0; input + 1 < check.getNumArguments(); ++input)
          checkArgs.push_back(slot(input));
        checkArgs.push_back(services);
        Value failed = LLVM::CallOp::create(builder, loc, check, checkArgs)
                           .getResult();
        Value broken = LLVM::ICmpOp::create(builder, loc,
                                            LLVM::ICmpPredicate::ne, failed,
                                            constant(0));
        Block *fail = entry.addBlock();
        Block *run = entry.addBlock();
        LLVM::CondBrOp::create(builder, loc, broken, fail, run);
        builder.setInsertionPointToStart(fail);
        LLVM::ReturnOp::create(builder, loc, failed);
        builder.setInsertionPointToStart(run);
      }
      SmallVector<Value> callArgs;
      Value resultBuffer;
      if (hasResults) {
        Value one = LLVM::ConstantOp::create(builder, loc, builder.getI64Type(),
                                             builder.getI64IntegerAttr(1));
        resultBuffer =
            LLVM::AllocaOp::create(builder, loc, ptrType, resultType, one);
        callArgs.push_back(resultBuffer);
      }
      for (unsigned input = 0; input < numInputs; ++input)
        callArgs.push_back(slot(input));
      callArgs.push_back(services);
      LLVM::CallOp::create(builder, loc, TypeRange{},
                           SymbolRefAttr::get(interface), callArgs);
      if (hasResults) {
        Value results =
            LLVM::LoadOp::create(builder, loc, resultType, resultBuffer);
        for (auto [index, type] : llvm::enumerate(resultTypes)) {
          Value descriptor =
              resultTypes.size() == 1 && type == resultType
                  ? results
                  : LLVM::ExtractValueOp::create(builder, loc, results,
                                                 ArrayRef<int64_t>{
                                                     static_cast<int64_t>(
                                                         index)});
          LLVM::StoreOp::create(builder, loc, descriptor,
                                slot(numInputs + index));
        }
      }
      LLVM::ReturnOp::create(builder, loc, constant(0));
    }

    // hope_manifest: the JSON recorded by nl-prepare-entry-points, with the
    // target the backend recorded.
    auto manifest = module->getAttrOfType<StringAttr>(NLDialect::getManifestAttrName());
    if (!manifest) {
      module.emitError("no nl.manifest: run nl-prepare-entry-points first");
      return signalPassFailure();
    }
    auto target =
        module->getAttrOfType<DictionaryAttr>(NLDialect::getTargetAttrName());
    if (!target) {
      module.emitError("no nl.target: the target backend records the "
                       "target's facts on the module");
      return signalPassFailure();
    }
    auto fields = module->getAttrOfType<DictionaryAttr>(
        NLDialect::getManifestFieldsAttrName());
    FailureOr<std::string> written =
        writeManifest(module, manifest, target, fields);
    if (failed(written))
      return signalPassFailure();
    std::string text = std::move(*written);
    text.push_back('\0');
    auto arrayType = LLVM::LLVMArrayType::get(builder.getI8Type(), text.size());
    LLVM::GlobalOp::create(builder, loc, arrayType, /*isConstant=*/true,
                           LLVM::Linkage::External, "hope_manifest",
                           builder.getStringAttr(text));
    module->removeAttr(NLDialect::getManifestAttrName());
    module->removeAttr(NLDialect::getTargetAttrName());
    module->removeAttr(NLDialect::getManifestFieldsAttrName());

    // The marker has served: LLVM would warn about an unknown parameter
    // attribute when translating.
    for (auto function : module.getOps<LLVM::LLVMFuncOp>())
      for (unsigned i = 0, e = function.getNumArguments(); i < e; ++i)
        function.removeArgAttr(i, NLDialect::getServicesAttrName());
  }
};

} // namespace
