//===- TensorMap.h - tensors by name, in insertion order --------*- C++ -*-===//

#ifndef HOPE_RUNTIME_LIB_TENSORMAP_H
#define HOPE_RUNTIME_LIB_TENSORMAP_H

#include "Tensor.h"

#include "llvm/ADT/StringMap.h"

#include <string>
#include <utility>
#include <vector>

struct hope_tensor_map : llvm::ThreadSafeRefCountedBase<hope_tensor_map> {
  /// Adds or replaces (in place) the tensor called `name`.
  void set(llvm::StringRef name, hope::rt::TensorRef tensor) {
    auto [it, inserted] = index.try_emplace(name, entries.size());
    if (inserted)
      entries.emplace_back(name.str(), std::move(tensor));
    else
      entries[it->second].second = std::move(tensor);
  }

  /// The tensor called `name`, or null.
  hope_tensor *find(llvm::StringRef name) const {
    auto it = index.find(name);
    return it == index.end() ? nullptr : entries[it->second].second.get();
  }

  std::vector<std::pair<std::string, hope::rt::TensorRef>> entries;

private:
  llvm::StringMap<size_t> index;
};

namespace hope::rt {
using TensorMapRef = llvm::IntrusiveRefCntPtr<hope_tensor_map>;
} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_TENSORMAP_H
