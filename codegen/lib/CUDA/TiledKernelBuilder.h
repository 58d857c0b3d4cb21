//===- TiledKernelBuilder.h - builds a contraction's tiled kernel -*- C++
//-*-===//
//
// The builder behind buildTiledContraction (ContractionKernel.h): the grid,
// accumulators, k loop and store in ContractionKernel.cpp; the fused
// producers' parts (staging through a producer, its per-row values) in
// ContractionPrologue.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_LIB_CUDA_TILEDKERNELBUILDER_H
#define NL_CODEGEN_LIB_CUDA_TILEDKERNELBUILDER_H

#include "ContractionKernel.h"
#include "RowInvariantPrologue.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::nl::cuda {

/// Iteration indices of the contraction, by dimension.
using DimIndices = DenseMap<unsigned, Value>;

/// Builds one kernel: the host's grid, then inside the launch the
/// accumulators' start, the fused producers' per-row values, the k loop and
/// the store, in that order.
class TiledKernelBuilder {
public:
  TiledKernelBuilder(linalg::GenericOp generic, const ContractionShape &shape,
                     const ContractionFusions &fusions)
      : generic(generic), shape(shape), fusions(fusions), loc(generic.getLoc()),
        a(generic.getDpsInputs()[shape.inputA]),
        bIn(generic.getDpsInputs()[shape.inputB]), c(generic.getDpsInits()[0]),
        mapC(generic.getIndexingMapsArray()[2]) {}

  gpu::LaunchOp build(StringRef kernelName);

private:
  linalg::GenericOp generic;
  const ContractionShape &shape;
  const ContractionFusions &fusions;
  Location loc;
  Value a, bIn, c;
  AffineMap mapC;

  gpu::LaunchOp launch;
  /// Builds inside the launch's non-empty guard.
  OpBuilder kb{generic};
  /// Builds the kernel's constants at its start, where every nested
  /// builder's ops see them.
  OpBuilder cb{generic};
  Value extentM, extentN, extentK, threadCount;
  Value zero, thread, tileRow, tileCol, m0, n0;
  Value tileA, tileB, acc;
  /// The outer dimensions' indices (the block's z delinearised).
  DimIndices index;
  /// By input: its producer's k-invariant part, and the workgroup buffers
  /// (one per kept value, kTile rows) that hold it.
  RowInvariantPart rowParts[2];
  SmallVector<Value> rowBuffers[2];

  Value cst(int64_t v) { return arith::ConstantIndexOp::create(cb, loc, v); }
  Value clampTo(OpBuilder &ob, Value v, Value extent) {
    Value last = arith::SubIOp::create(ob, loc, extent, cst(1));
    return arith::MinUIOp::create(ob, loc, v, last).getResult();
  }
  static SmallVector<Value> indicesOf(AffineMap map, const DimIndices &at) {
    SmallVector<Value> indices;
    for (unsigned p = 0; p < map.getNumResults(); ++p)
      indices.push_back(at.lookup(dimAt(map, p)));
    return indices;
  }
  Value accIndex(int64_t i, int64_t j) { return cst(i * kRegs + j); }
  Value threadRow(OpBuilder &ob, int64_t i) {
    return arith::AddIOp::create(ob, loc, cst(i * kThreadsPerSide), tileRow)
        .getResult();
  }
  Value threadCol(OpBuilder &ob, int64_t j) {
    return arith::AddIOp::create(ob, loc, cst(j * kThreadsPerSide), tileCol)
        .getResult();
  }

  /// Host: extents and the grid; the launch with its workgroup tiles; in it
  /// the thread's and block's coordinates, under a guard against an empty
  /// output.
  void createLaunch(StringRef kernelName);

  /// Each thread's accumulators start at the init value.
  void startAccumulators();

  /// The K loop: stage the tiles, then each thread's register tile.
  void emitKLoop();

  /// Input `input`'s tile of this k step into workgroup memory, the
  /// threads striding over it (indices clamped into bounds).
  void stage(OpBuilder &lb, Value k0, unsigned input, Value tile, bool kFastest,
             unsigned dim, Value base, Value extent);

  /// Each thread's kRegs x kRegs accumulators over the step's `count` k,
  /// held in registers for the step.
  void updateRegisterTile(OpBuilder &lb, Value count);

  /// The block's tile to the output, consecutive threads on consecutive
  /// columns, where in bounds; through the epilogue when there is one.
  void emitStore();

  /// The consumer's payload on this element, its other inputs read at the
  /// same indices, stored to its output.
  void storeThroughEpilogue(OpBuilder &gb, Value v, ArrayRef<Value> indices);

  // ContractionPrologue.cpp
  /// Each fused producer's k-invariant values, once per row of the block's
  /// tile (the threads striding over the rows), into workgroup memory; a
  /// barrier before the k loop reads them.
  void keepRowInvariants();

  /// The element at `indices` of input `input`'s producer's output,
  /// computed: its payload on its inputs read where its maps say, the
  /// k-invariant values read from row `stagedRow` of their buffers.
  Value produce(OpBuilder &sb, unsigned input, ArrayRef<Value> indices,
                Value stagedRow);

  /// Clones the ops of `producer`'s payload that `include` selects, their
  /// inputs (those they read) loaded at the element `indices` of its
  /// output.
  void cloneProducer(OpBuilder &ob, linalg::GenericOp producer,
                     ArrayRef<Value> indices,
                     function_ref<bool(Operation *)> include,
                     IRMapping &mapping);
};

} // namespace mlir::nl::cuda

#endif // NL_CODEGEN_LIB_CUDA_TILEDKERNELBUILDER_H
