//===- Toolkit.h - where the CUDA toolkit is ------------------*- C++ -*-===//
//
// The passes that run ptxas (serialisation, resource reports) find the
// toolkit and run ptxas the same way.
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

/// What ptxas made of one PTX image.
struct PtxasOutput {
  std::string cubin;
  /// `-v`'s report: per kernel its registers, spills, shared memory.
  std::string report;
};

/// Runs `ptxas -v -O3 -arch=<chip>` (the optimisation level the NVVM target
/// asks for) from `root`/bin, else PATH, on `ptx`; sets `error` on failure.
FailureOr<PtxasOutput> runPtxas(StringRef root, StringRef ptx, StringRef chip,
                                std::string &error);

} // namespace mlir::nl::cuda

#endif // NL_CODEGEN_CUDA_TOOLKIT_H
