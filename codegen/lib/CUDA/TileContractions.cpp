//===- TileContractions.cpp - nl-cuda-tile-contractions -------------------===//
//
// A top-level contraction (linalg.generic on buffers: parallel dimensions,
// one reduction dimension k, two inputs A and B) -> one gpu.launch of
// workgroup tiles (Passes.td says which generics and why):
//
//   gpu.launch blocks(ceil(N / 64), ceil(M / 64), outer) threads(256)
//              workgroup(As: 64x16 tile of A, Bs: 16x64 tile of B,
//                        Cs: 16 accumulators x 256 threads) {
//     if (M * N * outer > 0) {
//       Cs[4i + j][t] = init(m0 + 16i + t / 16, n0 + 16j + t mod 16)
//       for k0 in steps of 16 {
//         As, Bs <- A, B (thread-strided, the operand's contiguous
//                         dimension fastest, rows clamped into bounds)
//         barrier
//         acc = Cs[.][t]; for kk: acc[i][j] = payload(As[.][kk], Bs[kk][.],
//                                                     acc[i][j]); Cs[.][t] = acc
//         barrier
//       }
//       barrier
//       C[m0 + r][n0 + c] = Cs[..][..] where in bounds (thread-strided), or
//         the elementwise consumer that follows the contraction applied to
//         it, stored to the consumer's output (the epilogue)
//     }
//   }
//
// init: a constant when the output was filled (directly or through a copy
// of a filled buffer), else the output's own elements.
//
//===----------------------------------------------------------------------===//

#include "nl/Codegen/CUDA/Passes.h"

#include "StridedLoop.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLCUDATILECONTRACTIONS
#include "nl/Codegen/CUDA/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;

namespace {

constexpr StringLiteral kKernelModule = "hope_kernels";
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

Value constantIndex(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

/// The buffer a memref value views.
Value rootOf(Value value) {
  while (auto view = value.getDefiningOp<ViewLikeOpInterface>())
    value = view.getViewSource();
  return value;
}

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

/// The dimension of result `position` of `map` (a projected permutation).
unsigned dimAt(AffineMap map, unsigned position) {
  return cast<AffineDimExpr>(map.getResult(position)).getPosition();
}

/// Why `generic` is not a contraction this pass tiles, or its shape.
FailureOr<ContractionShape> matchContraction(linalg::GenericOp generic,
                                             int64_t minExtent,
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
  for (Operation &op : generic.getBody()->without_terminator())
    if (isa<linalg::IndexOp>(op) || op.getNumRegions() ||
        !isMemoryEffectFree(&op))
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

/// The extent of iteration dimension `dim` of `generic`, on the host.
Value extentOf(OpBuilder &b, linalg::GenericOp generic, unsigned dim) {
  Location loc = generic.getLoc();
  for (OpOperand &operand : generic->getOpOperands()) {
    AffineMap map = generic.getMatchingIndexingMap(&operand);
    for (unsigned position = 0; position < map.getNumResults(); ++position)
      if (dimAt(map, position) == dim)
        return memref::DimOp::create(b, loc, operand.get(), position);
  }
  llvm_unreachable("a projected permutation indexes every dimension");
}

/// The init value of output `c` of `generic`: a scalar when the op that
/// last wrote it, right before in the same block, is a linalg.fill of it or
/// a linalg.copy into it of a buffer filled with a scalar (what
/// bufferization leaves for an accumulator that starts at zero); the copy
/// is then dead and erased.
struct InitSource {
  Value scalar;
  linalg::CopyOp deadCopy;
};

/// Whether `op` touches `buffer` or a view of it.
bool touches(Operation *op, Value buffer) {
  bool found = false;
  op->walk([&](Operation *inner) {
    for (Value operand : inner->getOperands())
      if (isa<MemRefType>(operand.getType()) && rootOf(operand) == buffer)
        found = true;
  });
  return found;
}

/// The last op before `before` in its block that may write `buffer` (a
/// linalg.copy out of it only reads it).
Operation *lastToucher(Operation *before, Value buffer) {
  for (Operation *op = before->getPrevNode(); op; op = op->getPrevNode()) {
    auto copy = dyn_cast<linalg::CopyOp>(op);
    if (copy && copy.getDpsInputs()[0] == buffer &&
        rootOf(copy.getDpsInits()[0]) != buffer)
      continue;
    if (touches(op, buffer))
      return op;
  }
  return nullptr;
}

/// An elementwise consumer right after `generic` that reads its output `c`
/// (what a contraction's activation or residual add is after
/// nl-fuse-elementwise): identity maps of the output's rank, `c` one of its
/// inputs, and nothing else using `c`. The tiled kernel then stores the
/// consumer's result instead of `c`.
linalg::GenericOp findEpilogue(linalg::GenericOp generic, Value c) {
  // Allocations in between (the consumer's output) move before the
  // contraction when their sizes are known there.
  SmallVector<memref::AllocOp> between;
  Operation *next = generic->getNextNode();
  for (; auto alloc = dyn_cast_or_null<memref::AllocOp>(next);
       next = next->getNextNode()) {
    for (Value size : alloc->getOperands())
      if (Operation *def = size.getDefiningOp();
          def && def->getBlock() == generic->getBlock() &&
          !def->isBeforeInBlock(generic))
        return nullptr;
    between.push_back(alloc);
  }
  auto consumer = dyn_cast_or_null<linalg::GenericOp>(next);
  if (!consumer || !consumer.hasPureBufferSemantics() ||
      consumer.getNumDpsInits() != 1 ||
      consumer.getNumLoops() != consumer.getNumParallelLoops() ||
      !c.getDefiningOp<memref::AllocOp>())
    return nullptr;
  auto type = cast<MemRefType>(c.getType());
  for (AffineMap map : consumer.getIndexingMapsArray())
    if (!map.isIdentity() || map.getNumDims() != type.getRank())
      return nullptr;
  for (Operation &op : consumer.getBody()->without_terminator())
    if (isa<linalg::IndexOp>(op) || op.getNumRegions() ||
        !isMemoryEffectFree(&op))
      return nullptr;
  if (!llvm::is_contained(consumer.getDpsInputs(), c) ||
      rootOf(consumer.getDpsInits()[0]) == c)
    return nullptr;
  for (Operation *user : c.getUsers())
    if (user != generic && user != consumer && !isa<linalg::FillOp>(user))
      return nullptr;
  for (memref::AllocOp alloc : between)
    alloc->moveBefore(generic);
  return consumer;
}

Value fillScalarOf(Operation *op, Value buffer) {
  auto fill = dyn_cast_or_null<linalg::FillOp>(op);
  if (!fill || fill.getDpsInits()[0] != buffer ||
      !fill.getDpsInputs()[0].getDefiningOp<arith::ConstantOp>())
    return Value();
  return fill.getDpsInputs()[0];
}

InitSource findInit(linalg::GenericOp generic, Value c) {
  InitSource source;
  if (c.getDefiningOp<ViewLikeOpInterface>())
    return source;
  Operation *last = lastToucher(generic, c);
  if (Value scalar = fillScalarOf(last, c)) {
    source.scalar = scalar;
    return source;
  }
  auto copy = dyn_cast_or_null<linalg::CopyOp>(last);
  if (!copy || copy.getDpsInits()[0] != c)
    return source;
  Value from = copy.getDpsInputs()[0];
  if (from.getDefiningOp<ViewLikeOpInterface>())
    return source;
  if (Value scalar = fillScalarOf(lastToucher(copy, from), from)) {
    source.scalar = scalar;
    source.deadCopy = copy;
  }
  return source;
}

struct TileContractionsPass
    : nl::impl::NLCUDATileContractionsBase<TileContractionsPass> {
  using Base::Base;

  unsigned tiled = 0;
  /// Consumers fused into a tiled kernel's epilogue (erased).
  DenseSet<Operation *> fusedConsumers;

  void runOnOperation() override {
    SmallVector<linalg::GenericOp> generics;
    for (auto function : getOperation().getOps<func::FuncOp>())
      if (!function.isExternal())
        for (auto generic :
             function.getBody().front().getOps<linalg::GenericOp>())
          generics.push_back(generic);
    for (linalg::GenericOp generic : generics) {
      if (fusedConsumers.contains(generic))
        continue;
      std::string why;
      FailureOr<ContractionShape> shape =
          matchContraction(generic, minExtent, why);
      if (failed(shape))
        continue;
      tile(generic, *shape);
    }
    eraseUnreadFills();
  }

  /// Fills whose buffer nothing reads any more (each reader now starts from
  /// the scalar): only the fill, deallocations and launches that only
  /// write it use it.
  DenseSet<std::pair<Operation *, Value>> writeOnly;
  void eraseUnreadFills() {
    SmallVector<linalg::FillOp> dead;
    getOperation().walk([&](linalg::FillOp fill) {
      if (!fill.hasPureBufferSemantics())
        return;
      Value buffer = fill.getDpsInits()[0];
      if (!buffer.getDefiningOp<memref::AllocOp>())
        return;
      for (Operation *user : buffer.getUsers())
        if (user != fill && !isa<memref::DeallocOp>(user) &&
            !writeOnly.contains(
                {user->getParentOfType<gpu::LaunchOp>(), buffer}))
          return;
      dead.push_back(fill);
    });
    for (linalg::FillOp fill : dead)
      fill.erase();
  }

  void tile(linalg::GenericOp generic, const ContractionShape &shape) {
    Location loc = generic.getLoc();
    MLIRContext *ctx = generic.getContext();
    OpBuilder b(generic);
    Value a = generic.getDpsInputs()[shape.inputA];
    Value bIn = generic.getDpsInputs()[shape.inputB];
    Value c = generic.getDpsInits()[0];
    AffineMap mapA = generic.getIndexingMapsArray()[shape.inputA];
    AffineMap mapB = generic.getIndexingMapsArray()[shape.inputB];
    AffineMap mapC = generic.getIndexingMapsArray()[2];
    Type elemA = cast<MemRefType>(a.getType()).getElementType();
    Type elemB = cast<MemRefType>(bIn.getType()).getElementType();
    Type elemC = cast<MemRefType>(c.getType()).getElementType();
    InitSource init = findInit(generic, c);
    if (init.deadCopy) {
      init.deadCopy.erase();
      init.deadCopy = nullptr;
    }
    linalg::GenericOp epilogue = findEpilogue(generic, c);

    // Host: extents and the grid.
    Value extentM = extentOf(b, generic, shape.m);
    Value extentN = extentOf(b, generic, shape.n);
    Value extentK = extentOf(b, generic, shape.k);
    SmallVector<Value> outerExtents;
    Value outerCount = constantIndex(b, loc, 1);
    for (unsigned dim : shape.outer) {
      outerExtents.push_back(extentOf(b, generic, dim));
      outerCount = arith::MulIOp::create(b, loc, outerCount,
                                         outerExtents.back());
    }
    Value one = constantIndex(b, loc, 1);
    Value tileSize = constantIndex(b, loc, kTile);
    auto atLeastOne = [&](Value v) {
      return arith::MaxUIOp::create(b, loc, v, one).getResult();
    };
    Value gridX =
        atLeastOne(arith::CeilDivUIOp::create(b, loc, extentN, tileSize));
    Value gridY =
        atLeastOne(arith::CeilDivUIOp::create(b, loc, extentM, tileSize));
    Value gridZ = atLeastOne(outerCount);
    Attribute workgroup =
        gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
    auto tileType = [&](bool kFastest, Type elem) {
      SmallVector<int64_t> shapeOf =
          kFastest ? SmallVector<int64_t>{kTile, kStepK + kPad}
                   : SmallVector<int64_t>{kStepK, kTile};
      return MemRefType::get(shapeOf, elem, MemRefLayoutAttrInterface(),
                             workgroup);
    };
    MemRefType typeAs = tileType(shape.aKFastest, elemA);
    MemRefType typeBs = tileType(shape.bKFastest, elemB);
    MemRefType typeCs = MemRefType::get({kRegs * kRegs, kThreads}, elemC,
                                        MemRefLayoutAttrInterface(), workgroup);
    Value threadCount = constantIndex(b, loc, kThreads);
    auto launch = gpu::LaunchOp::create(
        b, loc, gridX, gridY, gridZ, threadCount, one, one, nullptr, nullptr,
        {}, TypeRange{typeAs, typeBs, typeCs}, {}, nullptr, nullptr, nullptr,
        SymbolRefAttr::get(ctx, kKernelModule),
        SymbolRefAttr::get(ctx, "contraction_" + std::to_string(tiled++)));
    if (init.scalar)
      writeOnly.insert({launch, c});
    Value tileA = launch.getWorkgroupAttributions()[0];
    Value tileB = launch.getWorkgroupAttributions()[1];
    Value acc = launch.getWorkgroupAttributions()[2];

    OpBuilder kb = OpBuilder::atBlockBegin(&launch.getBody().front());
    gpu::TerminatorOp::create(kb, loc);
    kb.setInsertionPointToStart(&launch.getBody().front());
    // Constants at the kernel's start, where every nested builder's ops
    // see them.
    Value zero = constantIndex(kb, loc, 0);
    OpBuilder cb(zero.getDefiningOp());
    auto cst = [&](int64_t v) { return constantIndex(cb, loc, v); };
    Value work = arith::MulIOp::create(
        kb, loc, arith::MulIOp::create(kb, loc, extentM, extentN),
        outerCount);
    Value nonEmpty = arith::CmpIOp::create(kb, loc, arith::CmpIPredicate::ugt,
                                           work, zero);
    auto body = scf::IfOp::create(kb, loc, nonEmpty, /*withElse=*/false);
    kb.setInsertionPoint(body.thenBlock()->getTerminator());

    Value thread = launch.getThreadIds().x;
    Value tileCol = arith::RemUIOp::create(kb, loc, thread, cst(kThreadsPerSide));
    Value tileRow = arith::DivUIOp::create(kb, loc, thread, cst(kThreadsPerSide));
    Value m0 = arith::MulIOp::create(kb, loc, launch.getBlockIds().y, cst(kTile));
    Value n0 = arith::MulIOp::create(kb, loc, launch.getBlockIds().x, cst(kTile));
    // The outer dimensions: the block's z delinearised.
    DenseMap<unsigned, Value> index;
    Value rest = launch.getBlockIds().z;
    for (int64_t i = static_cast<int64_t>(shape.outer.size()) - 1; i >= 0;
         --i) {
      index[shape.outer[i]] =
          arith::RemUIOp::create(kb, loc, rest, outerExtents[i]);
      rest = arith::DivUIOp::create(kb, loc, rest, outerExtents[i]);
    }
    auto clampTo = [&](OpBuilder &ob, Value v, Value extent) {
      Value last = arith::SubIOp::create(ob, loc, extent, cst(1));
      return arith::MinUIOp::create(ob, loc, v, last).getResult();
    };
    auto indicesOf = [&](AffineMap map, const DenseMap<unsigned, Value> &at) {
      SmallVector<Value> indices;
      for (unsigned p = 0; p < map.getNumResults(); ++p)
        indices.push_back(at.lookup(dimAt(map, p)));
      return indices;
    };
    auto accIndex = [&](int64_t i, int64_t j) { return cst(i * kRegs + j); };
    auto threadRow = [&](OpBuilder &ob, int64_t i) {
      return arith::AddIOp::create(ob, loc, cst(i * kThreadsPerSide), tileRow)
          .getResult();
    };
    auto threadCol = [&](OpBuilder &ob, int64_t j) {
      return arith::AddIOp::create(ob, loc, cst(j * kThreadsPerSide), tileCol)
          .getResult();
    };

    // Prologue: each thread's accumulators start at the init value.
    for (int64_t i = 0; i < kRegs; ++i)
      for (int64_t j = 0; j < kRegs; ++j) {
        Value start = init.scalar;
        if (!start) {
          DenseMap<unsigned, Value> at = index;
          at[shape.m] = clampTo(
              kb, arith::AddIOp::create(kb, loc, m0, threadRow(kb, i)),
              extentM);
          at[shape.n] = clampTo(
              kb, arith::AddIOp::create(kb, loc, n0, threadCol(kb, j)),
              extentN);
          start = memref::LoadOp::create(kb, loc, c, indicesOf(mapC, at));
        }
        memref::StoreOp::create(kb, loc, start, acc,
                                ValueRange{accIndex(i, j), thread});
      }

    // The K loop: stage the tiles, then each thread's register tile.
    int64_t staticK = generic.getStaticLoopRanges()[shape.k];
    Value steps = arith::CeilDivUIOp::create(kb, loc, extentK, cst(kStepK));
    auto kLoop = scf::ForOp::create(kb, loc, zero, steps, cst(1));
    {
      OpBuilder lb = OpBuilder::atBlockBegin(kLoop.getBody());
      Value k0 = arith::MulIOp::create(lb, loc, kLoop.getInductionVar(),
                                       cst(kStepK));
      auto stage = [&](Value operand, AffineMap map, Value tile, bool kFastest,
                       unsigned dim, Value base, Value extent) {
        SmallVector<Value> extents =
            kFastest ? SmallVector<Value>{cst(kTile), cst(kStepK)}
                     : SmallVector<Value>{cst(kStepK), cst(kTile)};
        cuda::emitStridedLoop(
            lb, loc, thread, threadCount, extents,
            [&](OpBuilder &sb, ArrayRef<Value> at2) {
              Value row = kFastest ? at2[0] : at2[1];
              Value kk = kFastest ? at2[1] : at2[0];
              DenseMap<unsigned, Value> at = index;
              at[dim] = clampTo(sb, arith::AddIOp::create(sb, loc, base, row),
                                extent);
              at[shape.k] = clampTo(
                  sb, arith::AddIOp::create(sb, loc, k0, kk), extentK);
              Value v = memref::LoadOp::create(sb, loc, operand,
                                               indicesOf(map, at));
              memref::StoreOp::create(sb, loc, v, tile, at2);
            });
      };
      stage(a, mapA, tileA, shape.aKFastest, shape.m, m0, extentM);
      stage(bIn, mapB, tileB, shape.bKFastest, shape.n, n0, extentN);
      gpu::BarrierOp::create(lb, loc);
      Value count = cst(kStepK);
      if (staticK % kStepK != 0)
        count = arith::MinUIOp::create(
            lb, loc, count, arith::SubIOp::create(lb, loc, extentK, k0));
      SmallVector<Value> accs;
      for (int64_t i = 0; i < kRegs; ++i)
        for (int64_t j = 0; j < kRegs; ++j)
          accs.push_back(memref::LoadOp::create(
              lb, loc, acc, ValueRange{accIndex(i, j), thread}));
      Block *payload = generic.getBody();
      auto inner = scf::ForOp::create(
          lb, loc, zero, count, cst(1), accs,
          [&](OpBuilder &ib, Location, Value kk, ValueRange carried) {
            SmallVector<Value> fromA, fromB;
            for (int64_t i = 0; i < kRegs; ++i) {
              Value row = threadRow(ib, i);
              fromA.push_back(memref::LoadOp::create(
                  ib, loc, tileA,
                  shape.aKFastest ? ValueRange{row, kk} : ValueRange{kk, row}));
            }
            for (int64_t j = 0; j < kRegs; ++j) {
              Value col = threadCol(ib, j);
              fromB.push_back(memref::LoadOp::create(
                  ib, loc, tileB,
                  shape.bKFastest ? ValueRange{col, kk} : ValueRange{kk, col}));
            }
            SmallVector<Value> next;
            for (int64_t i = 0; i < kRegs; ++i)
              for (int64_t j = 0; j < kRegs; ++j) {
                IRMapping mapping;
                mapping.map(payload->getArgument(shape.inputA), fromA[i]);
                mapping.map(payload->getArgument(shape.inputB), fromB[j]);
                mapping.map(payload->getArgument(2),
                            carried[i * kRegs + j]);
                for (Operation &op : payload->without_terminator())
                  ib.clone(op, mapping);
                next.push_back(mapping.lookupOrDefault(
                    payload->getTerminator()->getOperand(0)));
              }
            scf::YieldOp::create(ib, loc, next);
          });
      for (int64_t i = 0; i < kRegs; ++i)
        for (int64_t j = 0; j < kRegs; ++j)
          memref::StoreOp::create(lb, loc, inner.getResult(i * kRegs + j),
                                  acc, ValueRange{accIndex(i, j), thread});
      gpu::BarrierOp::create(lb, loc);
    }
    // Without K steps the prologue's stores and the epilogue's loads would
    // share one barrier interval.
    gpu::BarrierOp::create(kb, loc);

    // Epilogue: the block's tile to the output, consecutive threads on
    // consecutive columns.
    cuda::emitStridedLoop(
        kb, loc, thread, threadCount, {cst(kTile), cst(kTile)},
        [&](OpBuilder &eb, ArrayRef<Value> rc) {
          Value m = arith::AddIOp::create(eb, loc, m0, rc[0]);
          Value n = arith::AddIOp::create(eb, loc, n0, rc[1]);
          Value inside = arith::AndIOp::create(
              eb, loc,
              arith::CmpIOp::create(eb, loc, arith::CmpIPredicate::ult, m,
                                    extentM),
              arith::CmpIOp::create(eb, loc, arith::CmpIPredicate::ult, n,
                                    extentN));
          auto guard = scf::IfOp::create(eb, loc, inside, /*withElse=*/false);
          OpBuilder gb = guard.getThenBodyBuilder();
          Value side = cst(kThreadsPerSide);
          Value which = arith::AddIOp::create(
              gb, loc,
              arith::MulIOp::create(
                  gb, loc, arith::DivUIOp::create(gb, loc, rc[0], side),
                  cst(kRegs)),
              arith::DivUIOp::create(gb, loc, rc[1], side));
          Value owner = arith::AddIOp::create(
              gb, loc,
              arith::MulIOp::create(
                  gb, loc, arith::RemUIOp::create(gb, loc, rc[0], side), side),
              arith::RemUIOp::create(gb, loc, rc[1], side));
          Value v = memref::LoadOp::create(gb, loc, acc,
                                           ValueRange{which, owner});
          DenseMap<unsigned, Value> at = index;
          at[shape.m] = m;
          at[shape.n] = n;
          SmallVector<Value> indices = indicesOf(mapC, at);
          if (!epilogue) {
            memref::StoreOp::create(gb, loc, v, c, indices);
            return;
          }
          // The consumer's payload on this element, its other inputs read
          // at the same indices.
          Block *consumer = epilogue.getBody();
          IRMapping mapping;
          for (OpOperand &operand : epilogue->getOpOperands()) {
            BlockArgument arg =
                consumer->getArgument(operand.getOperandNumber());
            if (operand.get() == c)
              mapping.map(arg, v);
            else if (epilogue.isDpsInput(&operand) || !arg.use_empty())
              mapping.map(arg, memref::LoadOp::create(gb, loc, operand.get(),
                                                      indices));
          }
          for (Operation &op : consumer->without_terminator())
            gb.clone(op, mapping);
          Value result =
              mapping.lookupOrDefault(consumer->getTerminator()->getOperand(0));
          memref::StoreOp::create(gb, loc, result,
                                  epilogue.getDpsInits()[0], indices);
        });
    // The race check joins the end of the guard's region with the interval
    // before it (where the prologue runs): a last barrier keeps the
    // epilogue's interval apart.
    gpu::BarrierOp::create(kb, loc);
    generic.erase();
    if (epilogue) {
      fusedConsumers.insert(epilogue);
      epilogue.erase();
      // The contraction's own output is then unused when it started from a
      // scalar (its prologue reads it otherwise).
      if (c.use_empty())
        c.getDefiningOp()->erase();
    }
  }
};

} // namespace
