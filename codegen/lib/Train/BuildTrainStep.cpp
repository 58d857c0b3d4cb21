//===- BuildTrainStep.cpp - nl-build-train-step ---------------------------===//
//
// train_step = the forward's loss, its VJP (nl-differentiate), the optimizer
// levels (whose nl.clip_grad_norm also gives the gradients' norm, an output)
// and the in-place write of every updated weight
// (Passes.td describes the steps; docs/training.md, "The training step").
//
//===----------------------------------------------------------------------===//

#include "nl/Codegen/TrainLoss.h"
#include "nl/Codegen/TrainStepOptions.h"
#include "TrainManifest.h"
#include "nl/Codegen/Passes.h"
#include "nl/IR/NLDialect.h"
#include "nl/IR/OptimizerLevels.h"
#include "nl/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/BitVector.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLBUILDTRAINSTEP
#include "nl/Codegen/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;
using namespace mlir::nl::train;
namespace json = llvm::json;

namespace {

constexpr llvm::StringLiteral kTrainStepName = "train_step";

struct BuildTrainStepPass
    : nl::impl::NLBuildTrainStepBase<BuildTrainStepPass> {
  using Base::Base;
  // Reads the (protected) options into an OptimizerConfig.
  template <typename Config, typename Options, typename Visit>
  friend void nl::zipOptimizerHyperParameters(Config &, Options &, Visit &&);

  void runOnOperation() override {
    if (failed(build()))
      signalPassFailure();
  }

  LogicalResult build() {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    FailureOr<OptimizerConfig> config = optimizerConfig(module);
    if (failed(config))
      return failure();
    auto manifestText =
        module->getAttrOfType<StringAttr>(NLDialect::getManifestAttrName());
    if (!manifestText)
      return module.emitError("nl-build-train-step: the module has no "
                              "manifest; run nl-prepare-entry-points first");
    llvm::Expected<json::Value> parsed = json::parse(manifestText.getValue());
    json::Object *manifest = parsed ? parsed->getAsObject() : nullptr;
    json::Array *entries =
        manifest ? manifest->getArray("entry_points") : nullptr;
    if (!entries) {
      if (!parsed)
        llvm::consumeError(parsed.takeError());
      return module.emitError("nl-build-train-step: the manifest is not an "
                              "object with entry_points");
    }

    // The forward's manifest entry.
    json::Object *forwardEntry = nullptr;
    for (json::Value &value : *entries) {
      json::Object *entry = value.getAsObject();
      std::optional<StringRef> name = entry ? entry->getString("name")
                                            : std::nullopt;
      if (!name)
        continue;
      if (*name == kTrainStepName)
        return module.emitError("nl-build-train-step: the module has an "
                                "entry point named 'train_step' already");
      if (forward.empty() ? entries->size() == 1 : *name == forward)
        forwardEntry = entry;
    }
    if (!forwardEntry)
      return module.emitError("nl-build-train-step: ")
             << (forward.empty()
                     ? "the module has " + std::to_string(entries->size()) +
                           " entry points: name the one to train with "
                           "forward=NAME"
                     : "no entry point named '" + forward + "'");
    StringRef forwardName = *forwardEntry->getString("name");
    SymbolTable symbols(module);
    auto forwardFunction = symbols.lookup<func::FuncOp>(forwardName);
    if (!forwardFunction || forwardFunction.isExternal())
      return module.emitError("nl-build-train-step: no function with a body "
                              "named '")
             << forwardName << "'";

    TrainEntry entry;
    unsigned outputIndex = 0;
    if (failed(readForward(forwardFunction, *forwardEntry, entry, outputIndex)))
      return failure();
    Type element;
    for (const ForwardArgument &weight : entry.weights)
      element = getElementTypeOrSelf(
          forwardFunction.getArgument(weight.index).getType());
    if (!element || !isa<FloatType>(element))
      return forwardFunction.emitError("nl-build-train-step: '")
             << forwardName << "' has no float weight to train";
    entry.elementType = element.isF64() ? "f64" : "f32";
    for (const ForwardArgument &weight : entry.weights)
      if (getElementTypeOrSelf(
              forwardFunction.getArgument(weight.index).getType()) != element)
        return forwardFunction.emitError("nl-build-train-step: weight '")
               << weight.name << "' has another element type than the "
               << "others; one optimizer group takes one type";

    // The loss is cross-entropy when the forward reads token ids.
    Type resultType = forwardFunction.getResultTypes()[outputIndex];
    const ForwardArgument *tokens = nullptr;
    for (const ForwardArgument &input : entry.inputs)
      if (getElementTypeOrSelf(
              forwardFunction.getArgument(input.index).getType())
              .isInteger(64))
        tokens = &input;
    bool crossEntropy = tokens != nullptr;
    Type targetsType;
    if (crossEntropy) {
      auto tokenType = cast<RankedTensorType>(
          forwardFunction.getArgument(tokens->index).getType());
      auto logits = dyn_cast<RankedTensorType>(resultType);
      if (tokenType.getRank() != 2 || !logits || logits.getRank() != 3)
        return forwardFunction.emitError("nl-build-train-step: a forward "
                                         "reading token ids must take "
                                         "[B, T] tokens and return [B, T, V] "
                                         "logits for the cross-entropy loss");
      targetsType = tokenType;
      entry.targets = json::Object(tokens->spec);
    } else {
      targetsType = resultType;
      json::Array *outputs = forwardEntry->getArray("outputs");
      entry.targets = json::Object(*(*outputs)[outputIndex].getAsObject());
    }
    entry.targets["name"] = "targets";
    entry.targets["role"] = "input";

    for (auto [index, weight] : llvm::enumerate(entry.weights))
      for (const std::string &suffix : getOptimizerStateNames(
               *config, cast<RankedTensorType>(
                            forwardFunction.getArgument(weight.index)
                                .getType())))
        entry.states.push_back(
            {weight.name + "." + optimizer.getValue() + "_" + suffix,
             unsigned(index)});
    if (std::optional<std::string> clash = findClashingInputName(entry))
      return forwardFunction.emitError("nl-build-train-step: train_step's "
                                       "inputs are bound by name, and ")
             << *clash << "; rename the forward's argument";
    entry.options = describeOptimizerConfig(*config);
    entry.options["loss"] = crossEntropy ? "cross_entropy" : "mean_squared_error";

    // 1-2. The summed loss and its VJP.
    FailureOr<func::FuncOp> vjp = buildLossVJP(
        forwardFunction, outputIndex, targetsType, crossEntropy, symbols);
    if (failed(vjp))
      return failure();
    // 3-5. train_step.
    buildTrainStep(forwardFunction, *vjp, entry, targetsType, outputIndex,
                   crossEntropy, element, *config);
    (*vjp).erase();

    entries->push_back(describeTrainStep(entry));
    std::string text;
    llvm::raw_string_ostream os(text);
    os << json::Value(std::move(*manifest));
    module->setAttr(NLDialect::getManifestAttrName(),
                    StringAttr::get(context, text));
    return success();
  }

  /// The options as an OptimizerConfig (hope-compile fills the options from
  /// one: nl::getTrainStepOptions, the inverse), checked.
  FailureOr<OptimizerConfig> optimizerConfig(ModuleOp module) {
    std::optional<OptimizerKind> kind = parseOptimizerKind(optimizer);
    if (!kind)
      return module.emitError("nl-build-train-step: unknown optimizer '")
             << optimizer << "' (sgd, adamw, muon or m3)";
    OptimizerConfig config;
    config.kind = *kind;
    zipOptimizerHyperParameters(
        config, *this,
        [](auto &configField, const auto &option) { configField = option; });
    if (std::optional<std::string> error = checkOptimizerConfig(config))
      return module.emitError("nl-build-train-step: ") << *error;
    // Without a decay the schedule has no end rate.
    if (totalSteps == 0)
      config.minLrRatio = 0.0;
    return config;
  }

  /// Reads the forward's arguments (weights and the others) and its output
  /// from its manifest entry.
  static LogicalResult readForward(func::FuncOp function,
                                   json::Object &manifestEntry,
                                   TrainEntry &entry, unsigned &outputIndex) {
    json::Array *inputs = manifestEntry.getArray("inputs");
    json::Array *outputs = manifestEntry.getArray("outputs");
    if (!inputs || !outputs || inputs->size() != function.getNumArguments() ||
        outputs->size() != function.getNumResults())
      return function.emitError("nl-build-train-step: the manifest entry of '")
             << function.getName() << "' does not match its signature";
    for (auto [index, value] : llvm::enumerate(*inputs)) {
      json::Object *spec = value.getAsObject();
      ForwardArgument argument{unsigned(index),
                               spec->getString("name")->str(),
                               spec->getString("role")->str(), *spec};
      if (argument.role == "weight")
        entry.weights.push_back(std::move(argument));
      else if (argument.role == "input")
        entry.inputs.push_back(std::move(argument));
      else
        return function.emitError("nl-build-train-step: '")
               << function.getName() << "' takes the state '" << argument.name
               << "'; train_step trains a forward without carried states "
                  "(the one-shot form)";
    }
    std::optional<unsigned> output;
    for (auto [index, value] : llvm::enumerate(*outputs))
      if (value.getAsObject()->getString("role") == "output" && !output)
        output = index;
    if (!output)
      return function.emitError("nl-build-train-step: '")
             << function.getName() << "' has no output to take a loss of";
    outputIndex = *output;
    return success();
  }

  /// @<forward>_train_loss(forward arguments..., targets) -> summed loss,
  /// then its VJP (nl-differentiate); returns the VJP, private.
  FailureOr<func::FuncOp> buildLossVJP(func::FuncOp forwardFunction,
                                       unsigned outputIndex, Type targetsType,
                                       bool crossEntropy,
                                       SymbolTable &symbols) {
    func::FuncOp loss = forwardFunction.clone();
    std::string lossName = (forwardFunction.getName() + "_train_loss").str();
    loss.setName(lossName);
    loss->removeAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName());
    symbols.insert(loss);
    if (failed(replaceResultsWithLoss(
            loss, targetsType, outputIndex,
            crossEntropy ? buildSummedCrossEntropy : buildSummedSquaredError)))
      return failure();

    OpPassManager pm(ModuleOp::getOperationName());
    NLDifferentiateOptions differentiate;
    differentiate.functions = {lossName};
    pm.addPass(createNLDifferentiate(differentiate));
    if (failed(runPipeline(pm, getOperation())))
      return failure();
    auto vjp = symbols.lookup<func::FuncOp>(lossName + "_vjp");
    // nl-differentiate inserted it behind the symbol table's back.
    symbols.remove(loss);
    loss.erase();
    if (!vjp)
      vjp = getOperation().lookupSymbol<func::FuncOp>(lossName + "_vjp");
    return vjp;
  }

  /// Adds @train_step after the forward, the VJP's body inlined into it.
  void buildTrainStep(func::FuncOp forwardFunction, func::FuncOp vjp,
                      const TrainEntry &entry, Type targetsType,
                      unsigned outputIndex, bool crossEntropy, Type element,
                      const OptimizerConfig &config) {
    MLIRContext *context = &getContext();
    Location loc = forwardFunction.getLoc();
    auto scalarType = RankedTensorType::get({}, element);
    auto stepType = RankedTensorType::get({}, IntegerType::get(context, 64));
    SmallVector<Type> argumentTypes;
    for (const ForwardArgument &input : entry.inputs)
      argumentTypes.push_back(forwardFunction.getArgument(input.index).getType());
    argumentTypes.append({targetsType, scalarType, stepType});
    for (const ForwardArgument &weight : entry.weights)
      argumentTypes.push_back(
          forwardFunction.getArgument(weight.index).getType());
    for (const StateArgument &state : entry.states)
      argumentTypes.push_back(
          forwardFunction.getArgument(entry.weights[state.weight].index)
              .getType());
    OpBuilder builder(context);
    builder.setInsertionPointAfter(forwardFunction);
    auto function = func::FuncOp::create(
        builder, loc, kTrainStepName,
        FunctionType::get(context, argumentTypes, {scalarType, scalarType}));
    function->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                      UnitAttr::get(context));
    Block *body = function.addEntryBlock();
    builder.setInsertionPointToStart(body);
    unsigned numInputs = entry.inputs.size();
    Value targets = body->getArgument(numInputs);
    Value lr = body->getArgument(numInputs + 1);
    Value step = body->getArgument(numInputs + 2);
    auto weightArgument = [&](unsigned weight) {
      return body->getArgument(numInputs + 3 + weight);
    };
    // Only the weights are written (in place, at the end).
    for (unsigned index = 0; index < function.getNumArguments(); ++index)
      function.setArgAttr(index, "bufferization.writable",
                          BoolAttr::get(context, index >= numInputs + 3));

    if (crossEntropy) {
      int64_t vocabulary = cast<RankedTensorType>(
                               forwardFunction.getResultTypes()[outputIndex])
                               .getDimSize(2);
      if (!ShapedType::isDynamic(vocabulary))
        buildTargetsPrecondition(builder, loc, targets, vocabulary);
    }
    // The mean: the VJP is seeded with 1 / count.
    Value count = crossEntropy
                      ? buildTargetCount(builder, loc, targets, element)
                      : buildElementCount(builder, loc, targets, element);
    Value seed = buildScalarReciprocal(builder, loc, count);

    // The VJP's body, inlined: (forward arguments, targets, seed) ->
    // (summed loss, the adjoint of every float argument in order).
    IRMapping mapping;
    Block &vjpBody = vjp.getBody().front();
    unsigned forwardArguments = forwardFunction.getNumArguments();
    for (auto [position, input] : llvm::enumerate(entry.inputs))
      mapping.map(vjpBody.getArgument(input.index),
                  body->getArgument(position));
    for (auto [position, weight] : llvm::enumerate(entry.weights))
      mapping.map(vjpBody.getArgument(weight.index), weightArgument(position));
    mapping.map(vjpBody.getArgument(forwardArguments), targets);
    mapping.map(vjpBody.getArgument(forwardArguments + 1), seed);
    for (Operation &op : vjpBody.without_terminator())
      builder.clone(op, mapping);
    auto vjpReturn = cast<func::ReturnOp>(vjpBody.getTerminator());
    // The adjoints follow the loss, one per float argument of the VJP's
    // forward part (targets included when they are floats).
    DenseMap<unsigned, Value> adjointOf;
    unsigned next = 1;
    for (unsigned index = 0; index <= forwardArguments; ++index)
      if (isa<FloatType>(
              getElementTypeOrSelf(vjpBody.getArgument(index).getType())))
        adjointOf[index] =
            mapping.lookup(vjpReturn.getOperand(next++));
    Value loss = buildScalarProduct(
        builder, loc, mapping.lookup(vjpReturn.getOperand(0)), seed);

    SmallVector<Value> params, grads;
    SmallVector<std::string> names;
    for (auto [position, weight] : llvm::enumerate(entry.weights)) {
      params.push_back(weightArgument(position));
      grads.push_back(adjointOf.lookup(weight.index));
      names.push_back(weight.name);
    }
    SmallVector<SmallVector<Value>> states(entry.weights.size());
    unsigned stateBase = numInputs + 3 + entry.weights.size();
    for (auto [position, state] : llvm::enumerate(entry.states))
      states[state.weight].push_back(body->getArgument(stateBase + position));
    OptimizerStepResult updated = buildOptimizerLevels(
        builder, loc, config, names, params, grads, states, lr, step);

    // Every new value into its argument's buffer.
    auto writeBack = [&](Value value, Value argument) {
      auto type = cast<RankedTensorType>(argument.getType());
      auto buffer = bufferization::ToBufferOp::create(
          builder, loc, MemRefType::get(type.getShape(), type.getElementType()),
          argument);
      auto write = bufferization::MaterializeInDestinationOp::create(
          builder, loc, value, buffer);
      write.setWritable(true);
      write.setRestrict(true);
    };
    for (auto [position, param] : llvm::enumerate(updated.params))
      writeBack(param, weightArgument(position));
    for (auto [weight, newStates] : llvm::enumerate(updated.states))
      for (auto [value, old] : llvm::zip(newStates, states[weight]))
        writeBack(value, old);
    func::ReturnOp::create(builder, loc, ValueRange{loss, updated.gradNorm});
  }
};

} // namespace
