//===- ContractionKernel.cpp - a contraction's tiled gpu.launch -----------===//
//
//   gpu.launch blocks(ceil(N / 64), ceil(M / 64), outer) threads(256)
//              workgroup(As: 64x16 tile of A, Bs: 16x64 tile of B,
//                        Cs: 16 accumulators x 256 threads) {
//     if (M * N * outer > 0) {
//       Cs[4i + j][t] = init(m0 + 16i + t / 16, n0 + 16j + t mod 16)
//       Rs[r] = a fused producer's k-invariant values for row r of the
//               tile (thread-strided), barrier (RowInvariantPrologue.h)
//       for k0 in steps of 16 {
//         As, Bs <- A, B (thread-strided, the operand's contiguous
//                         dimension fastest, rows clamped into bounds), or
//           the elementwise producer of A (B) applied to its own inputs
//           at those indices (the prologue)
//         barrier
//         acc = Cs[.][t]; for kk: acc[i][j] = payload(As[.][kk], Bs[kk][.],
//                                                     acc[i][j]); Cs[.][t] =
//                                                     acc
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

#include "TiledKernelBuilder.h"

#include "StridedLoop.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::nl::cuda;

namespace {

constexpr StringLiteral kKernelModule = "hope_kernels";

Value constantIndex(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
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

} // namespace

gpu::LaunchOp TiledKernelBuilder::build(StringRef kernelName) {
  for (unsigned input : {0u, 1u})
    if (linalg::GenericOp producer = fusions.prologues[input])
      rowParts[input] = findRowInvariantPart(
          producer, generic.getIndexingMapsArray()[input], shape.k);
  createLaunch(kernelName);
  startAccumulators();
  keepRowInvariants();
  emitKLoop();
  // Without K steps the prologue's stores and the epilogue's loads would
  // share one barrier interval.
  gpu::BarrierOp::create(kb, loc);
  emitStore();
  // The race check joins the end of the guard's region with the interval
  // before it (where the prologue runs): a last barrier keeps the
  // epilogue's interval apart.
  gpu::BarrierOp::create(kb, loc);
  return launch;
}

void TiledKernelBuilder::createLaunch(StringRef kernelName) {
  MLIRContext *ctx = generic.getContext();
  OpBuilder b(generic);
  Type elemA = cast<MemRefType>(a.getType()).getElementType();
  Type elemB = cast<MemRefType>(bIn.getType()).getElementType();
  Type elemC = cast<MemRefType>(c.getType()).getElementType();
  extentM = extentOf(b, generic, shape.m);
  extentN = extentOf(b, generic, shape.n);
  extentK = extentOf(b, generic, shape.k);
  SmallVector<Value> outerExtents;
  Value outerCount = constantIndex(b, loc, 1);
  for (unsigned dim : shape.outer) {
    outerExtents.push_back(extentOf(b, generic, dim));
    outerCount = arith::MulIOp::create(b, loc, outerCount, outerExtents.back());
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
  SmallVector<Type> workgroupTypes = {typeAs, typeBs, typeCs};
  for (const RowInvariantPart &part : rowParts)
    for (Value kept : part.kept)
      workgroupTypes.push_back(MemRefType::get(
          {kTile}, kept.getType(), MemRefLayoutAttrInterface(), workgroup));
  threadCount = constantIndex(b, loc, kThreads);
  launch = gpu::LaunchOp::create(b, loc, gridX, gridY, gridZ, threadCount, one,
                                 one, nullptr, nullptr, {}, workgroupTypes, {},
                                 nullptr, nullptr, nullptr,
                                 SymbolRefAttr::get(ctx, kKernelModule),
                                 SymbolRefAttr::get(ctx, kernelName));
  tileA = launch.getWorkgroupAttributions()[0];
  tileB = launch.getWorkgroupAttributions()[1];
  acc = launch.getWorkgroupAttributions()[2];
  unsigned next = 3;
  for (unsigned input : {0u, 1u})
    for (size_t i = 0; i < rowParts[input].kept.size(); ++i)
      rowBuffers[input].push_back(launch.getWorkgroupAttributions()[next++]);

  kb = OpBuilder::atBlockBegin(&launch.getBody().front());
  gpu::TerminatorOp::create(kb, loc);
  kb.setInsertionPointToStart(&launch.getBody().front());
  zero = constantIndex(kb, loc, 0);
  cb.setInsertionPoint(zero.getDefiningOp());
  Value work = arith::MulIOp::create(
      kb, loc, arith::MulIOp::create(kb, loc, extentM, extentN), outerCount);
  Value nonEmpty =
      arith::CmpIOp::create(kb, loc, arith::CmpIPredicate::ugt, work, zero);
  auto body = scf::IfOp::create(kb, loc, nonEmpty, /*withElse=*/false);
  kb.setInsertionPoint(body.thenBlock()->getTerminator());

  thread = launch.getThreadIds().x;
  tileCol = arith::RemUIOp::create(kb, loc, thread, cst(kThreadsPerSide));
  tileRow = arith::DivUIOp::create(kb, loc, thread, cst(kThreadsPerSide));
  m0 = arith::MulIOp::create(kb, loc, launch.getBlockIds().y, cst(kTile));
  n0 = arith::MulIOp::create(kb, loc, launch.getBlockIds().x, cst(kTile));
  Value rest = launch.getBlockIds().z;
  for (int64_t i = static_cast<int64_t>(shape.outer.size()) - 1; i >= 0; --i) {
    index[shape.outer[i]] =
        arith::RemUIOp::create(kb, loc, rest, outerExtents[i]);
    rest = arith::DivUIOp::create(kb, loc, rest, outerExtents[i]);
  }
}

void TiledKernelBuilder::startAccumulators() {
  for (int64_t i = 0; i < kRegs; ++i)
    for (int64_t j = 0; j < kRegs; ++j) {
      Value start = fusions.initScalar;
      if (!start) {
        DimIndices at = index;
        at[shape.m] = clampTo(
            kb, arith::AddIOp::create(kb, loc, m0, threadRow(kb, i)), extentM);
        at[shape.n] = clampTo(
            kb, arith::AddIOp::create(kb, loc, n0, threadCol(kb, j)), extentN);
        start = memref::LoadOp::create(kb, loc, c, indicesOf(mapC, at));
      }
      memref::StoreOp::create(kb, loc, start, acc,
                              ValueRange{accIndex(i, j), thread});
    }
}

void TiledKernelBuilder::emitKLoop() {
  int64_t staticK = generic.getStaticLoopRanges()[shape.k];
  Value steps = arith::CeilDivUIOp::create(kb, loc, extentK, cst(kStepK));
  auto kLoop = scf::ForOp::create(kb, loc, zero, steps, cst(1));
  OpBuilder lb = OpBuilder::atBlockBegin(kLoop.getBody());
  Value k0 =
      arith::MulIOp::create(lb, loc, kLoop.getInductionVar(), cst(kStepK));
  stage(lb, k0, shape.inputA, tileA, shape.aKFastest, shape.m, m0, extentM);
  stage(lb, k0, shape.inputB, tileB, shape.bKFastest, shape.n, n0, extentN);
  gpu::BarrierOp::create(lb, loc);
  Value count = cst(kStepK);
  if (staticK % kStepK != 0)
    count = arith::MinUIOp::create(lb, loc, count,
                                   arith::SubIOp::create(lb, loc, extentK, k0));
  updateRegisterTile(lb, count);
  gpu::BarrierOp::create(lb, loc);
}

void TiledKernelBuilder::stage(OpBuilder &lb, Value k0, unsigned input,
                               Value tile, bool kFastest, unsigned dim,
                               Value base, Value extent) {
  Value operand = generic.getDpsInputs()[input];
  AffineMap map = generic.getIndexingMapsArray()[input];
  linalg::GenericOp producer = fusions.prologues[input];
  SmallVector<Value> extents =
      kFastest ? SmallVector<Value>{cst(kTile), cst(kStepK)}
               : SmallVector<Value>{cst(kStepK), cst(kTile)};
  emitStridedLoop(
      lb, loc, thread, threadCount, extents,
      [&](OpBuilder &sb, ArrayRef<Value> at2) {
        Value row = kFastest ? at2[0] : at2[1];
        Value kk = kFastest ? at2[1] : at2[0];
        DimIndices at = index;
        at[dim] =
            clampTo(sb, arith::AddIOp::create(sb, loc, base, row), extent);
        at[shape.k] =
            clampTo(sb, arith::AddIOp::create(sb, loc, k0, kk), extentK);
        SmallVector<Value> indices = indicesOf(map, at);
        Value v = producer ? produce(sb, input, indices, row)
                           : memref::LoadOp::create(sb, loc, operand, indices);
        memref::StoreOp::create(sb, loc, v, tile, at2);
      });
}

void TiledKernelBuilder::updateRegisterTile(OpBuilder &lb, Value count) {
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
            mapping.map(payload->getArgument(2), carried[i * kRegs + j]);
            for (Operation &op : payload->without_terminator())
              ib.clone(op, mapping);
            next.push_back(mapping.lookupOrDefault(
                payload->getTerminator()->getOperand(0)));
          }
        scf::YieldOp::create(ib, loc, next);
      });
  for (int64_t i = 0; i < kRegs; ++i)
    for (int64_t j = 0; j < kRegs; ++j)
      memref::StoreOp::create(lb, loc, inner.getResult(i * kRegs + j), acc,
                              ValueRange{accIndex(i, j), thread});
}

void TiledKernelBuilder::emitStore() {
  emitStridedLoop(
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
            arith::MulIOp::create(gb, loc,
                                  arith::DivUIOp::create(gb, loc, rc[0], side),
                                  cst(kRegs)),
            arith::DivUIOp::create(gb, loc, rc[1], side));
        Value owner = arith::AddIOp::create(
            gb, loc,
            arith::MulIOp::create(
                gb, loc, arith::RemUIOp::create(gb, loc, rc[0], side), side),
            arith::RemUIOp::create(gb, loc, rc[1], side));
        Value v =
            memref::LoadOp::create(gb, loc, acc, ValueRange{which, owner});
        DimIndices at = index;
        at[shape.m] = m;
        at[shape.n] = n;
        SmallVector<Value> indices = indicesOf(mapC, at);
        if (!fusions.epilogue) {
          memref::StoreOp::create(gb, loc, v, c, indices);
          return;
        }
        storeThroughEpilogue(gb, v, indices);
      });
}

void TiledKernelBuilder::storeThroughEpilogue(OpBuilder &gb, Value v,
                                              ArrayRef<Value> indices) {
  linalg::GenericOp epilogue = fusions.epilogue;
  Block *consumer = epilogue.getBody();
  IRMapping mapping;
  for (OpOperand &operand : epilogue->getOpOperands()) {
    BlockArgument arg = consumer->getArgument(operand.getOperandNumber());
    if (operand.get() == c)
      mapping.map(arg, v);
    else if (epilogue.isDpsInput(&operand) || !arg.use_empty())
      mapping.map(arg, memref::LoadOp::create(gb, loc, operand.get(), indices));
  }
  for (Operation &op : consumer->without_terminator())
    gb.clone(op, mapping);
  Value result =
      mapping.lookupOrDefault(consumer->getTerminator()->getOperand(0));
  memref::StoreOp::create(gb, loc, result, epilogue.getDpsInits()[0], indices);
}

gpu::LaunchOp mlir::nl::cuda::buildTiledContraction(
    linalg::GenericOp generic, const ContractionShape &shape,
    const ContractionFusions &fusions, StringRef kernelName) {
  return TiledKernelBuilder(generic, shape, fusions).build(kernelName);
}
