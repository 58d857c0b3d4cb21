//===- Session.h - a module with its weights bound --------------*- C++ -*-===//

#ifndef HOPE_RUNTIME_LIB_SESSION_H
#define HOPE_RUNTIME_LIB_SESSION_H

#include "Module.h"
#include "TensorMap.h"

struct hope_session : llvm::ThreadSafeRefCountedBase<hope_session> {
  hope::rt::ModuleRef module;
  /// Bound weights by name (one binding serves every entry point).
  llvm::StringMap<hope::rt::TensorRef> weights;
};

namespace hope::rt {

/// Binds every weight of the module from the safetensors file at `path`,
/// checking dtypes and static sizes before copying; all or nothing.
llvm::Error loadWeights(hope_session &session, llvm::StringRef path);

/// Binds the weight `name` to `tensor`, checking its dtype and static sizes.
llvm::Error setWeight(hope_session &session, llvm::StringRef name,
                      TensorRef tensor);

/// Runs entry point `entry` on the caller's inputs and states (manifest
/// order, weights left out); returns every output in manifest order.
llvm::Expected<std::vector<TensorRef>>
invoke(const hope_session &session, size_t entry,
       llvm::ArrayRef<hope_tensor *> inputs);

/// The same with inputs and outputs by name.
llvm::Expected<TensorMapRef> invokeByName(const hope_session &session,
                                          size_t entry,
                                          const hope_tensor_map &inputs);

} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_SESSION_H
