//===- TensorMap.h - tensors by name, in insertion order --------*- C++ -*-===//

#ifndef HOPE_RUNTIME_LIB_TENSORMAP_H
#define HOPE_RUNTIME_LIB_TENSORMAP_H

#include "Tensor.h"

#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

struct hope_tensor_map : hope::rt::RefCounted<hope_tensor_map> {
  /// Adds or replaces (in place) the tensor called `name`.
  void set(std::string_view name, hope::rt::TensorRef tensor) {
    auto [it, inserted] = index.try_emplace(std::string(name), entries.size());
    if (inserted)
      entries.emplace_back(std::string(name), std::move(tensor));
    else
      entries[it->second].second = std::move(tensor);
  }

  /// The tensor called `name`, or null.
  hope_tensor *find(std::string_view name) const {
    auto it = index.find(std::string(name));
    return it == index.end() ? nullptr : entries[it->second].second.get();
  }

  std::vector<std::pair<std::string, hope::rt::TensorRef>> entries;

private:
  std::unordered_map<std::string, size_t> index;
};

namespace hope::rt {
using TensorMapRef = Ref<hope_tensor_map>;
} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_TENSORMAP_H
