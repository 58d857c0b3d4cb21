//===- TrainManifest.cpp - train_step's entry in the manifest -------------===//

#include "TrainManifest.h"

#include "llvm/ADT/StringMap.h"

using namespace mlir::nl;
using llvm::json::Array;
using llvm::json::Object;

namespace {
Object scalar(llvm::StringRef name, llvm::StringRef role,
              llvm::StringRef dtype) {
  return Object{{"name", name.str()},
                {"role", role.str()},
                {"dtype", dtype.str()},
                {"shape", Array{}}};
}

Object updated(Object spec) {
  spec["updated"] = true;
  return spec;
}
} // namespace

Object train::describeTrainStep(const TrainEntry &entry) {
  Array inputs;
  for (const ForwardArgument &input : entry.inputs) {
    Object spec = input.spec;
    inputs.push_back(std::move(spec));
  }
  inputs.push_back(Object(entry.targets));
  inputs.push_back(scalar("learning_rate", "input", entry.elementType));
  inputs.push_back(scalar("step", "input", "i64"));
  for (const ForwardArgument &weight : entry.weights)
    inputs.push_back(updated(Object(weight.spec)));
  for (const StateArgument &state : entry.states) {
    Object spec = entry.weights[state.weight].spec;
    spec["name"] = state.name;
    // Optimizer states start at zero, not as their parameter.
    spec.erase("init");
    spec.erase("init_scale");
    inputs.push_back(updated(std::move(spec)));
  }
  Array outputs;
  outputs.push_back(scalar("loss", "output", entry.elementType));
  outputs.push_back(scalar("grad_norm", "output", entry.elementType));
  return Object{{"name", "train_step"},
                {"inputs", std::move(inputs)},
                {"outputs", std::move(outputs)},
                {"train", Object(entry.options)}};
}

std::optional<std::string>
train::findClashingInputName(const TrainEntry &entry) {
  llvm::StringMap<std::string> owners;
  std::optional<std::string> clash;
  auto claim = [&](llvm::StringRef name, std::string owner) {
    auto [it, inserted] = owners.try_emplace(name, owner);
    if (!inserted && !clash)
      clash = "'" + name.str() + "' names both " + it->second + " and " + owner;
  };
  for (const ForwardArgument &input : entry.inputs)
    claim(input.name, "the forward's input '" + input.name + "'");
  claim("targets", "train_step's targets");
  claim("learning_rate", "train_step's learning rate");
  claim("step", "train_step's step number");
  for (const ForwardArgument &weight : entry.weights)
    claim(weight.name, "the weight '" + weight.name + "'");
  for (const StateArgument &state : entry.states)
    claim(state.name, "an optimizer state of '" +
                          entry.weights[state.weight].name + "'");
  return clash;
}
