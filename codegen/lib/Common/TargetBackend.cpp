//===- TargetBackend.cpp - the registry of target backends ----------------===//

#include "nl/Codegen/TargetBackend.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/ManagedStatic.h"

#include <vector>

using namespace mlir;
using namespace mlir::nl;

TargetBackend::~TargetBackend() = default;

static std::vector<std::unique_ptr<TargetBackend>> &getRegistry() {
  static llvm::ManagedStatic<std::vector<std::unique_ptr<TargetBackend>>>
      registry;
  return *registry;
}

void mlir::nl::registerTargetBackend(std::unique_ptr<TargetBackend> backend) {
  if (lookupTargetBackend(backend->getName()))
    llvm::report_fatal_error("target backend '" + backend->getName() +
                             "' registered twice");
  getRegistry().push_back(std::move(backend));
}

const TargetBackend *mlir::nl::lookupTargetBackend(StringRef name) {
  for (const std::unique_ptr<TargetBackend> &backend : getRegistry())
    if (backend->getName() == name)
      return backend.get();
  return nullptr;
}

SmallVector<StringRef> mlir::nl::getTargetBackendNames() {
  return llvm::map_to_vector(getRegistry(), [](const auto &backend) {
    return backend->getName();
  });
}
