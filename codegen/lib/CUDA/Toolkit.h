//===- Toolkit.h - where the CUDA toolkit is ------------------*- C++ -*-===//
//
// The passes that run ptxas (serialisation, resource reports) find the
// toolkit the same way.
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_CUDA_TOOLKIT_H
#define NL_CODEGEN_CUDA_TOOLKIT_H

#include "mlir/Support/LLVM.h"

#include <string>

namespace mlir::nl::cuda {

/// The toolkit root: `option` if given, else $CUDA_ROOT, $CUDA_HOME,
/// /usr/local/cuda.
std::string toolkitRoot(StringRef option);

} // namespace mlir::nl::cuda

#endif // NL_CODEGEN_CUDA_TOOLKIT_H
