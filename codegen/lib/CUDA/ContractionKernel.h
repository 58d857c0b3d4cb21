//===- ContractionKernel.h - a contraction's tiled gpu.launch ---*- C++ -*-===//

#ifndef NL_CODEGEN_LIB_CUDA_CONTRACTIONKERNEL_H
#define NL_CODEGEN_LIB_CUDA_CONTRACTIONKERNEL_H

#include "TiledContraction.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

namespace mlir::nl::cuda {

/// What the kernel of a contraction computes besides the contraction.
struct ContractionFusions {
  /// The accumulators' start; null: the output's own elements.
  Value initScalar;
  /// The elementwise consumer whose result the kernel stores instead of
  /// the contraction's (ContractionFusion.h); null: none.
  linalg::GenericOp epilogue;
  /// By input of the contraction: the elementwise producer whose payload
  /// the kernel applies while staging that input's tiles, reading the
  /// producer's inputs instead (ContractionFusion.h); null: none.
  linalg::GenericOp prologues[2];
};

/// Builds, right before `generic`, the gpu.launch (function `kernelName` of
/// module `hope_kernels`) computing it as `shape` says, with `fusions`.
/// Erases nothing: `generic` and the fused ops are the caller's to erase.
gpu::LaunchOp buildTiledContraction(linalg::GenericOp generic,
                                    const ContractionShape &shape,
                                    const ContractionFusions &fusions,
                                    StringRef kernelName);

} // namespace mlir::nl::cuda

#endif // NL_CODEGEN_LIB_CUDA_CONTRACTIONKERNEL_H
