//===- Shapes.cpp - matching shapes against a manifest's ------------------===//

#include "Shapes.h"

using namespace hope;
using namespace hope::rt;

bool rt::matchesStatically(const TensorSpec &spec, Shape shape) {
  if (shape.size() != spec.shape.size())
    return false;
  for (size_t i = 0; i < shape.size(); ++i)
    if (!spec.dimNames[i] && shape[i] != spec.shape[i])
      return false;
  return true;
}

std::optional<std::string> DimBindings::match(const TensorSpec &spec,
                                              Shape shape,
                                              const std::string &source) {
  if (!matchesStatically(spec, shape))
    return std::string();
  std::map<std::string, Binding> added;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (!spec.dimNames[i])
      continue;
    std::string name = spec.dimNames[i];
    auto it = bindings.find(name);
    const Binding *bound = it != bindings.end() ? &it->second : nullptr;
    if (!bound) {
      auto local = added.find(name);
      bound = local != added.end() ? &local->second : nullptr;
    }
    if (!bound) {
      added[name] = {shape[i], source};
      continue;
    }
    if (bound->size != shape[i])
      return " (" + name + " = " + std::to_string(bound->size) +
             " from " + bound->source + ")";
  }
  for (auto &entry : added)
    bindings[entry.first] = std::move(entry.second);
  return std::nullopt;
}
