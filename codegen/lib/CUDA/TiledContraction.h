//===- TiledContraction.h - contractions as 64x64-tiled kernels -*- C++ -*-===//
//
// The parts of nl-cuda-tile-contractions (Passes.td describes the kernel):
// which linalg.generic is a contraction it tiles and how its dimensions map
// onto the tiles (MatchContraction.cpp), which neighbouring ops fuse into
// the kernel (ContractionFusion.cpp), and the gpu.launch itself
// (ContractionKernel.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_LIB_CUDA_TILEDCONTRACTION_H
#define NL_CODEGEN_LIB_CUDA_TILEDCONTRACTION_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/AffineMap.h"

#include <string>

namespace mlir::nl::cuda {

/// The output tile of a block (kTile x kTile), the K step, and the block:
/// kThreadsPerSide x kThreadsPerSide threads, each a kRegs x kRegs tile of
/// rows ty + 16 i and columns tx + 16 j (strided, so that a warp's loads of
/// the B tile are consecutive and its stores keyed by the thread).
constexpr int64_t kTile = 64;
constexpr int64_t kStepK = 16;
constexpr int64_t kThreadsPerSide = 16;
constexpr int64_t kRegs = kTile / kThreadsPerSide;
constexpr int64_t kThreads = kThreadsPerSide * kThreadsPerSide;
/// A tile stored k-fastest gets one padding column, so that a warp reading
/// one k of 16 rows hits different banks.
constexpr int64_t kPad = 1;
/// What a kernel may declare of shared memory statically.
constexpr int64_t kStaticSharedBytes = 48 * 1024;

/// What a generic's iteration dimensions are to the tiled kernel.
struct ContractionShape {
  unsigned inputA = 0, inputB = 1;
  unsigned m = 0, n = 0, k = 0;
  /// The other parallel dimensions: one block of the grid's z each.
  SmallVector<unsigned> outer;
  /// Whether A's (B's) tile is stored with k the fastest dimension: the
  /// operand's own contiguous dimension is k.
  bool aKFastest = true, bKFastest = false;
};

/// The buffer a memref value views.
Value rootOf(Value value);

/// The dimension of result `position` of `map` (a projected permutation).
unsigned dimAt(AffineMap map, unsigned position);

/// Whether `block`'s ops, the terminator aside, are memory-effect free, hold
/// no regions and read no iteration indices: a payload that can be cloned
/// anywhere its block arguments have values.
bool isPlainPayload(Block *block);

/// The shape of `generic` as a tiled contraction, or failure with `why` set
/// to the reason it is not one this pass tiles (`minExtent`: the smallest
/// static n and k extents).
FailureOr<ContractionShape> matchContraction(linalg::GenericOp generic,
                                             int64_t minExtent,
                                             std::string &why);

} // namespace mlir::nl::cuda

#endif // NL_CODEGEN_LIB_CUDA_TILEDCONTRACTION_H
