//===- Models.h - nl IR builders of the shipped models ----------*- C++ -*-===//
//
// C++ builders that emit the nl IR of whole models from a configuration. The
// files in models/*.mlir are the output of these builders for their default
// configurations (test/unit/ModelBuilderTest.cpp checks that they agree).
//
//===----------------------------------------------------------------------===//

#ifndef NL_MODELS_MODELS_H
#define NL_MODELS_MODELS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/SmallVector.h"

namespace mlir::nl::models {

/// A HOPE block: self-modifying Titans (memories M_k, M_v, M_eta, M_alpha
/// every `chunkOther` tokens and M_mem every `chunkMemory` tokens, all
/// learning by DGD) followed by a sequential CMS chain.
struct HopeBlockConfig {
  int64_t width = 512;
  int64_t heads = 8;
  /// Hidden width of the per-head memory MLPs.
  int64_t memoryHidden = 64;
  int64_t chunkOther = 8;
  int64_t chunkMemory = 64;
  llvm::SmallVector<int64_t> cmsChunks = {1, 16, 256};
  int64_t cmsHidden = 2048;
  int64_t convWindow = 4;
  /// eta_t = etaScale * softplus(M_eta(x_t)).
  double etaScale = 1e-3;
};

/// A Titans neural memory in titans-pytorch's NeuralMemory form (the
/// chunk-aggregated variant).
struct TitansMemoryConfig {
  int64_t width = 384;
  int64_t heads = 4;
  /// Hidden width of the memory MLP = expansion * head width.
  int64_t expansion = 4;
  int64_t chunk = 64;
  /// Linearisation period B in tokens; 0 for the whole sequence.
  int64_t linearizationPeriod = 64;
  /// Learning rate max_lr * sigmoid(W_lr x).
  double maxLr = 1e-2;
};

/// Builds `func.func @<name>` at the builder's insertion point.
func::FuncOp buildHopeBlock(OpBuilder &builder, Location loc,
                            const HopeBlockConfig &config,
                            StringRef name = "hope_block");
func::FuncOp buildTitansMemory(OpBuilder &builder, Location loc,
                               const TitansMemoryConfig &config,
                               StringRef name = "titans_memory");

} // namespace mlir::nl::models

#endif // NL_MODELS_MODELS_H
