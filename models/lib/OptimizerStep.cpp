//===- OptimizerStep.cpp - an optimizer step alone in a function ----------===//

#include "nl/Models/OptimizerStep.h"

using namespace mlir;
using namespace mlir::nl;
using namespace mlir::nl::models;

func::FuncOp mlir::nl::models::buildOptimizerStepFunction(
    OpBuilder &builder, Location loc, const OptimizerConfig &config,
    ArrayRef<SmallVector<int64_t>> shapes, bool f64) {
  MLIRContext *context = builder.getContext();
  Type element = f64 ? builder.getF64Type() : builder.getF32Type();
  SmallVector<RankedTensorType> types;
  SmallVector<std::string> names;
  for (auto [index, shape] : llvm::enumerate(shapes)) {
    types.push_back(RankedTensorType::get(shape, element));
    names.push_back("p" + std::to_string(index));
  }
  // Arguments: parameters, gradients, states, lr, step (with their roles).
  SmallVector<Type> argumentTypes;
  SmallVector<std::pair<StringRef, std::string>> argumentRoles;
  for (auto [type, name] : llvm::zip(types, names)) {
    argumentTypes.push_back(type);
    argumentRoles.push_back({"nl.state", name});
  }
  for (auto [type, name] : llvm::zip(types, names)) {
    argumentTypes.push_back(type);
    argumentRoles.push_back({"nl.input", "grad." + name});
  }
  SmallVector<std::pair<StringRef, std::string>> stateRoles;
  for (auto [type, name] : llvm::zip(types, names))
    for (const std::string &suffix : getOptimizerStateNames(config, type)) {
      argumentTypes.push_back(type);
      stateRoles.push_back({"nl.state", name + "." + suffix});
    }
  llvm::append_range(argumentRoles, stateRoles);
  argumentTypes.push_back(RankedTensorType::get({}, element));
  argumentRoles.push_back({"nl.input", "lr"});
  argumentTypes.push_back(RankedTensorType::get({}, builder.getI64Type()));
  argumentRoles.push_back({"nl.input", "step"});

  SmallVector<Type> resultTypes(types.begin(), types.end());
  for (auto [type, name] : llvm::zip(types, names))
    for (size_t i = 0, e = getOptimizerStateNames(config, type).size(); i < e;
         ++i)
      resultTypes.push_back(type);

  auto function = func::FuncOp::create(
      builder, loc, "optimizer_step",
      FunctionType::get(context, argumentTypes, resultTypes));
  for (auto [index, role] : llvm::enumerate(argumentRoles))
    function.setArgAttr(index, role.first, builder.getStringAttr(role.second));
  for (size_t index = 0; index < types.size(); ++index)
    function.setResultAttr(index, "nl.state",
                           builder.getStringAttr(names[index]));
  for (auto [offset, role] : llvm::enumerate(stateRoles))
    function.setResultAttr(types.size() + offset, role.first,
                           builder.getStringAttr(role.second));

  OpBuilder::InsertionGuard guard(builder);
  Block *body = function.addEntryBlock();
  builder.setInsertionPointToStart(body);
  size_t count = types.size();
  ValueRange arguments = body->getArguments();
  SmallVector<SmallVector<Value>> states;
  size_t next = 2 * count;
  for (RankedTensorType type : types) {
    size_t n = getOptimizerStateNames(config, type).size();
    states.emplace_back(arguments.slice(next, n));
    next += n;
  }
  OptimizerStepResult step = buildOptimizerLevels(
      builder, loc, config, names, arguments.take_front(count),
      arguments.slice(count, count), states, arguments[next],
      arguments[next + 1]);
  SmallVector<Value> results(step.params);
  for (const SmallVector<Value> &newStates : step.states)
    llvm::append_range(results, newStates);
  func::ReturnOp::create(builder, loc, results);
  return function;
}
