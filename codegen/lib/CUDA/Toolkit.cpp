//===- Toolkit.cpp - where the CUDA toolkit is ------------------------===//

#include "Toolkit.h"

#include "llvm/Support/Process.h"

using namespace mlir;

std::string nl::cuda::toolkitRoot(StringRef option) {
  if (!option.empty())
    return option.str();
  for (const char *name : {"CUDA_ROOT", "CUDA_HOME"})
    if (std::optional<std::string> value = llvm::sys::Process::GetEnv(name))
      if (!value->empty())
        return *value;
  return "/usr/local/cuda";
}
