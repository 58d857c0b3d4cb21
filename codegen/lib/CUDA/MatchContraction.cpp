//===- MatchContraction.cpp - which generics nl-cuda-tile-contractions tiles ===//
//
// A linalg.generic on buffers with two inputs A and B, one output, one
// reduction dimension k indexed by both inputs, projected-permutation maps
// and a plain payload; M dimensions index A and the output, N dimensions B
// and the output, and the output's innermost of each is tiled.
//
//===----------------------------------------------------------------------===//

#include "TiledContraction.h"

#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

using namespace mlir;
using namespace mlir::nl::cuda;

Value mlir::nl::cuda::rootOf(Value value) {
  while (auto view = value.getDefiningOp<ViewLikeOpInterface>())
    value = view.getViewSource();
  return value;
}

unsigned mlir::nl::cuda::dimAt(AffineMap map, unsigned position) {
  return cast<AffineDimExpr>(map.getResult(position)).getPosition();
}

bool mlir::nl::cuda::isPlainPayload(Block *block) {
  for (Operation &op : block->without_terminator())
    if (isa<linalg::IndexOp>(op) || op.getNumRegions() ||
        !isMemoryEffectFree(&op))
      return false;
  return true;
}

FailureOr<ContractionShape>
mlir::nl::cuda::matchContraction(linalg::GenericOp generic, int64_t minExtent,
                                 std::string &why) {
  auto fail = [&](const Twine &reason) -> FailureOr<ContractionShape> {
    why = reason.str();
    return failure();
  };
  if (!generic.hasPureBufferSemantics() || generic.getNumDpsInputs() != 2 ||
      generic.getNumDpsInits() != 1)
    return fail("not two input buffers and one output buffer");
  SmallVector<unsigned> reductions;
  generic.getReductionDims(reductions);
  if (reductions.size() != 1)
    return fail("not exactly one reduction dimension");
  for (AffineMap map : generic.getIndexingMapsArray())
    if (!map.isProjectedPermutation(/*allowZeroInResults=*/false))
      return fail("an indexing map that is not a projected permutation");
  if (!isPlainPayload(generic.getBody()))
    return fail("a payload that reads indices or memory");
  Value c = generic.getDpsInits()[0];
  for (Value input : generic.getDpsInputs())
    if (rootOf(input) == rootOf(c))
      return fail("an input that views the output's buffer");

  ContractionShape shape;
  shape.k = reductions.front();
  SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
  AffineMap outMap = maps[2];
  unsigned numDims = generic.getNumLoops();
  if (outMap.getNumResults() != numDims - 1)
    return fail("an output that does not index every parallel dimension");
  auto uses = [&](unsigned input, unsigned dim) {
    return maps[input].getResultPosition(getAffineDimExpr(
               dim, generic.getContext())) .has_value();
  };
  if (!uses(0, shape.k) || !uses(1, shape.k))
    return fail("a reduction dimension that an input does not index");
  // M dimensions index one input (A) and the output, N dimensions the other
  // input (B); the innermost of each in the output is tiled.
  std::optional<unsigned> mPos, nPos;
  for (unsigned position = 0; position < outMap.getNumResults(); ++position) {
    unsigned dim = dimAt(outMap, position);
    bool in0 = uses(0, dim), in1 = uses(1, dim);
    if (in0 && !in1)
      mPos = position;
    else if (in1 && !in0)
      nPos = position;
  }
  if (!mPos || !nPos)
    return fail("no dimension that only one input indexes on each side (a "
                "matrix-vector product)");
  // A is the input of the output's innermost tiled dimension's rows: the
  // one whose tiled dimension comes first in the output.
  if (*mPos > *nPos) {
    std::swap(mPos, nPos);
    std::swap(shape.inputA, shape.inputB);
  }
  shape.m = dimAt(outMap, *mPos);
  shape.n = dimAt(outMap, *nPos);
  for (unsigned position = 0; position < outMap.getNumResults(); ++position) {
    unsigned dim = dimAt(outMap, position);
    if (dim != shape.m && dim != shape.n)
      shape.outer.push_back(dim);
  }
  SmallVector<int64_t> ranges = generic.getStaticLoopRanges();
  for (unsigned dim : {shape.n, shape.k})
    if (ShapedType::isDynamic(ranges[dim]) || ranges[dim] < minExtent)
      return fail("a column or reduction extent that is dynamic or below "
                  "min-extent");
  // Static shared memory (workgroup attributions) is limited to 48 KiB.
  auto bytesOf = [&](Value operand) {
    return static_cast<int64_t>(
        cast<MemRefType>(operand.getType()).getElementTypeBitWidth() / 8);
  };
  int64_t shared =
      kTile * (kStepK + kPad) *
          (bytesOf(generic.getDpsInputs()[0]) +
           bytesOf(generic.getDpsInputs()[1])) +
      kRegs * kRegs * kThreads * bytesOf(c);
  if (shared > kStaticSharedBytes)
    return fail("tiles beyond the 48 KiB of static shared memory (64-bit "
                "elements)");
  AffineMap mapA = maps[shape.inputA], mapB = maps[shape.inputB];
  shape.aKFastest = dimAt(mapA, mapA.getNumResults() - 1) != shape.m;
  shape.bKFastest = dimAt(mapB, mapB.getNumResults() - 1) != shape.n;
  return shape;
}
