//===- PrepareEntryPoints.cpp - nl-prepare-entry-points -------------------===//
//
// Records, while the IR still speaks of the model, what the runtime must know
// of every entry point: the manifest of docs/artifact-abi.md.
//
//===----------------------------------------------------------------------===//

#include "DimensionClasses.h"
#include "nl/Codegen/Passes.h"
#include "nl/IR/NLDialect.h"
#include "nl/Models/SeededWeights.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/JSON.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLPREPAREENTRYPOINTS
#include "nl/Codegen/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;

namespace {

constexpr llvm::StringLiteral kInputRoles[] = {"input", "weight", "state"};
constexpr llvm::StringLiteral kResultRoles[] = {"output", "state"};
constexpr llvm::StringLiteral kInitAttrNames[] = {
    models::kInitRuleAttrName, models::kInitScaleAttrName};

/// A weight's initialisation (`nl.init`, `nl.init_scale`, verified by the
/// dialect) into its manifest entry, as `init` and `init_scale`: hope-train
/// seeds the weight the way hope-models --weights-out does.
void recordWeightInit(DictionaryAttr attrs, llvm::json::Object &entry) {
  if (!attrs)
    return;
  if (auto rule = attrs.getAs<StringAttr>(models::kInitRuleAttrName))
    entry["init"] = rule.str();
  if (auto scale = attrs.getAs<FloatAttr>(models::kInitScaleAttrName))
    entry["init_scale"] = scale.getValueAsDouble();
}

std::optional<std::string> dtypeOf(Type type) {
  if (type.isF32())
    return "f32";
  if (type.isF64())
    return "f64";
  if (type.isInteger(64))
    return "i64";
  return std::nullopt;
}

/// The role and name an argument or result declares with `nl.<role>`.
FailureOr<std::pair<std::string, std::string>>
roleAndName(DictionaryAttr attrs, ArrayRef<llvm::StringLiteral> roles,
            StringRef fallbackRole, std::string fallbackName) {
  std::optional<std::pair<std::string, std::string>> found;
  for (StringRef role : roles) {
    auto name = attrs ? attrs.getAs<StringAttr>(("nl." + role).str())
                      : StringAttr();
    if (!name)
      continue;
    if (found)
      return failure();
    found = {role.str(), name.str()};
  }
  return found ? *found : std::make_pair(fallbackRole.str(), fallbackName);
}

struct PrepareEntryPointsPass
    : nl::impl::NLPrepareEntryPointsBase<PrepareEntryPointsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    llvm::json::Array entryPoints;
    for (auto function : module.getOps<func::FuncOp>()) {
      if (function.isPrivate() || function.isExternal())
        continue;
      FailureOr<llvm::json::Object> entry = describe(function);
      if (failed(entry))
        return signalPassFailure();
      entryPoints.push_back(std::move(*entry));
      stripRoleAttributes(function);
      // The ABI promises inputs are only read: bufferization must not write
      // into the caller's buffers.
      for (unsigned index = 0; index < function.getNumArguments(); ++index)
        function.setArgAttr(index, "bufferization.writable",
                            BoolAttr::get(&getContext(), false));
      function->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                        UnitAttr::get(&getContext()));
    }
    if (entryPoints.empty()) {
      module.emitError("the module has no entry point: an artifact needs at "
                       "least one public function with a body");
      return signalPassFailure();
    }
    llvm::json::Object manifest{{"format", "hope-artifact"},
                                {"version", 4},
                                {"model", modelName},
                                {"entry_points", std::move(entryPoints)}};
    std::string text;
    llvm::raw_string_ostream os(text);
    os << llvm::json::Value(std::move(manifest));
    module->setAttr(NLDialect::getManifestAttrName(), StringAttr::get(&getContext(), text));
  }

  /// Names, roles and initialisations now live in the manifest; LLVM has no
  /// use for them.
  static void stripRoleAttributes(func::FuncOp function) {
    for (unsigned index = 0; index < function.getNumArguments(); ++index) {
      for (StringRef role : kInputRoles)
        function.removeArgAttr(index, ("nl." + role).str());
      for (StringRef init : kInitAttrNames)
        function.removeArgAttr(index, init);
    }
    for (unsigned index = 0; index < function.getNumResults(); ++index)
      for (StringRef role : kResultRoles)
        function.removeResultAttr(
            index, StringAttr::get(function.getContext(), "nl." + role));
  }

  FailureOr<llvm::json::Object> describe(func::FuncOp function) {
    // The artifact exports hope_entry_<name>; the runtime refuses other names.
    StringRef entryName = function.getName();
    if (entryName.empty() || llvm::isDigit(entryName.front()) ||
        !llvm::all_of(entryName,
                      [](char c) { return llvm::isAlnum(c) || c == '_'; }))
      return function.emitError("entry point name '")
             << entryName
             << "' is not a C identifier (letters, digits and '_', not "
                "starting with a digit): the artifact exports it as "
                "hope_entry_<name>";
    DimensionClasses classes(function);
    // Dynamic sizes are named after the first argument dimension of their
    // class, e.g. "x[0]" for the batch of input x.
    DenseMap<std::pair<Value, unsigned>, std::string> dimNames;
    llvm::StringSet<> usedNames;
    auto describeTensor = [&](Value value, Type type, StringRef role,
                              StringRef name,
                              Location loc) -> FailureOr<llvm::json::Object> {
      auto tensor = dyn_cast<RankedTensorType>(type);
      std::optional<std::string> dtype =
          tensor ? dtypeOf(tensor.getElementType()) : std::nullopt;
      if (!dtype)
        return emitError(loc) << "entry point '" << function.getName()
                              << "': '" << name << "' has type " << type
                              << "; entry points take and return ranked "
                                 "tensors of f32, f64 or i64";
      llvm::json::Array shape;
      for (auto [dim, size] : llvm::enumerate(tensor.getShape())) {
        if (!ShapedType::isDynamic(size)) {
          shape.push_back(size);
          continue;
        }
        std::string &dimName = dimNames[classes.find(value, dim)];
        if (dimName.empty())
          dimName = llvm::formatv("{0}[{1}]", name, dim).str();
        shape.push_back(dimName);
      }
      return llvm::json::Object{{"name", name.str()},
                                {"role", role.str()},
                                {"dtype", *dtype},
                                {"shape", std::move(shape)}};
    };

    llvm::json::Array inputs, outputs;
    for (auto [index, argument] : llvm::enumerate(function.getArguments())) {
      auto named = roleAndName(function.getArgAttrDict(index), kInputRoles,
                               "input", llvm::formatv("arg{0}", index).str());
      if (failed(named))
        return function.emitError("argument #")
               << index << " declares more than one role (nl.input, "
                           "nl.weight, nl.state)";
      if (!usedNames.insert(named->second).second)
        return function.emitError("argument #")
               << index << " reuses the name '" << named->second << "'";
      auto described = describeTensor(argument, argument.getType(),
                                      named->first, named->second,
                                      argument.getLoc());
      if (failed(described))
        return failure();
      recordWeightInit(function.getArgAttrDict(index), *described);
      inputs.push_back(std::move(*described));
    }
    auto returnOp = cast<func::ReturnOp>(function.getBody().back().back());
    for (auto [index, result] : llvm::enumerate(returnOp.getOperands())) {
      auto named =
          roleAndName(function.getResultAttrDict(index), kResultRoles, "output",
                      llvm::formatv("result{0}", index).str());
      if (failed(named))
        return function.emitError("result #")
               << index << " declares more than one role (nl.output, "
                           "nl.state)";
      auto described = describeTensor(result, result.getType(), named->first,
                                      named->second, returnOp.getLoc());
      if (failed(described))
        return failure();
      outputs.push_back(std::move(*described));
    }
    return llvm::json::Object{{"name", function.getName().str()},
                              {"inputs", std::move(inputs)},
                              {"outputs", std::move(outputs)}};
  }
};

} // namespace
