//===- FormKernels.cpp - nl-cuda-form-kernels -----------------------------===//
//
// Buffers and loops -> gpu.launch ops (Passes.td says what and why):
//
//   memory stage (top-level scf.for, the chunk loop):
//     host:   carried[k] = alloc like init[k]; temp[j] = alloc(upper bound)
//     gpu.launch blocks(b, h) in (B, H) threads(t) in (threads) {
//       carried[k][b, h] = init[k][b, h]                     // thread-strided
//       scf.for chunk { body, each scf.parallel nest over (b, h, rest) as
//                       a block-stride loop over rest, then gpu.barrier;
//                       new[k] -> carried[k][b, h] behind barriers }
//     }
//     then carried[k][b, h] and the chunk's scratch move to the block's
//     slices of workgroup memory where they fit (WorkgroupPlacement.cpp)
//   loop nest outside (top-level scf.parallel; a top-level gpu.launch, a
//   tiled contraction from nl-cuda-tile-contractions, stays):
//     gpu.launch blocks(ceil(N / threads)) threads(threads) {
//       i = block * threads + thread; if (i < N) body(delinearise(i)) }
//
//===----------------------------------------------------------------------===//

#include "nl/Codegen/CUDA/Passes.h"

#include "DeviceScalars.h"
#include "ReductionNests.h"
#include "StridedLoop.h"
#include "WorkgroupPlacement.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ValueBoundsOpInterface.h"
#include "llvm/ADT/SetVector.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/SmallBitVector.h"

#include <functional>

namespace mlir::nl {
#define GEN_PASS_DEF_NLCUDAFORMKERNELS
#include "nl/Codegen/CUDA/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;
using mlir::nl::cuda::emitStridedLoop;

namespace {

constexpr StringLiteral kKernelModule = "hope_kernels";

Value indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

/// The trip counts of a parallel loop's dimensions `dims`.
SmallVector<Value> tripCounts(OpBuilder &b, scf::ParallelOp loop,
                              ArrayRef<unsigned> dims) {
  Location loc = loop.getLoc();
  SmallVector<Value> counts;
  for (unsigned d : dims) {
    Value span = arith::SubIOp::create(b, loc, loop.getUpperBound()[d],
                                       loop.getLowerBound()[d]);
    counts.push_back(
        arith::CeilDivUIOp::create(b, loc, span, loop.getStep()[d]));
  }
  return counts;
}

/// Replaces `loop` by `body` run at the iterations whose dimensions `dims`
/// take `indices` (the other dimensions fixed by `fixed`).
void inlineIterations(OpBuilder &b, scf::ParallelOp loop,
                      ArrayRef<unsigned> dims, ArrayRef<Value> indices,
                      const DenseMap<unsigned, Value> &fixed) {
  Location loc = loop.getLoc();
  IRMapping mapping;
  for (auto [d, index] : llvm::zip(dims, indices)) {
    Value scaled = arith::MulIOp::create(b, loc, index, loop.getStep()[d]);
    mapping.map(loop.getInductionVars()[d],
                arith::AddIOp::create(b, loc, loop.getLowerBound()[d], scaled)
                    .getResult());
  }
  for (auto [d, value] : fixed)
    mapping.map(loop.getInductionVars()[d], value);
  for (Operation &op : loop.getBody()->without_terminator())
    b.clone(op, mapping);
}

struct FormKernelsPass : nl::impl::NLCUDAFormKernelsBase<FormKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (threads < 128 || threads > 1024) {
      getOperation().emitError("nl-cuda-form-kernels: threads must be in "
                               "[128, 1024], got ")
          << threads;
      return signalPassFailure();
    }
    SmallVector<func::FuncOp> functions(
        getOperation().getOps<func::FuncOp>());
    for (func::FuncOp function : functions) {
      if (function.isExternal())
        continue;
      if (failed(formKernels(function)))
        return signalPassFailure();
    }
  }

  /// Whether every value read from `buffer` only flows back into it: an
  /// accumulation whose result nothing reads (what an outlined precondition
  /// leaves behind in its entry point).
  static bool onlyAccumulates(Value buffer) {
    SmallVector<Value> work;
    for (Operation *user : buffer.getUsers()) {
      if (auto store = dyn_cast<memref::StoreOp>(user)) {
        if (store.getMemRef() != buffer)
          return false;
        continue;
      }
      if (isa<memref::LoadOp>(user)) {
        work.push_back(user->getResult(0));
        continue;
      }
      if (!isa<memref::DeallocOp>(user))
        return false;
    }
    DenseSet<Value> seen;
    while (!work.empty()) {
      Value value = work.pop_back_val();
      if (!seen.insert(value).second)
        continue;
      for (OpOperand &use : value.getUses()) {
        Operation *user = use.getOwner();
        if (auto store = dyn_cast<memref::StoreOp>(user)) {
          if (store.getMemRef() != buffer || use.getOperandNumber() != 0)
            return false;
          continue;
        }
        if (user->getNumRegions() || !isMemoryEffectFree(user))
          return false;
        llvm::append_range(work, user->getResults());
      }
    }
    return true;
  }

  /// Top-level buffers that only accumulate, and the loops left without
  /// effects once their stores are gone, are erased: host code could not
  /// run them and nothing reads their result.
  void eraseDeadAccumulations(Block &body) {
    SmallVector<memref::AllocOp> dead;
    for (auto alloc : body.getOps<memref::AllocOp>())
      if (onlyAccumulates(alloc.getResult()))
        dead.push_back(alloc);
    if (dead.empty())
      return;
    for (memref::AllocOp alloc : dead)
      for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
        if (isa<memref::StoreOp, memref::DeallocOp>(user))
          user->erase();
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
      if (isOpTriviallyDead(&op))
        op.erase();
  }

  LogicalResult formKernels(func::FuncOp function) {
    Block &body = function.getBody().front();
    eraseDeadAccumulations(body);
    cuda::wrapHostStores(body);
    cuda::hoistParallelsOutOfReductions(function);
    cuda::runReductionNestsOnOneThread(body);
    SmallVector<Operation *> work;
    for (Operation &op : body) {
      if (isa<scf::ForOp, scf::ParallelOp>(op)) {
        work.push_back(&op);
        continue;
      }
      // Scalars (a streamed position, a loss) are read by the kernels that
      // use them (cuda::sinkDeviceScalars below).
      if (cuda::isDeviceScalarRead(&op))
        continue;
      // Kernels formed already (nl-cuda-tile-contractions).
      if (isa<gpu::LaunchOp>(op))
        continue;
      if (isa<memref::LoadOp, memref::StoreOp, memref::CopyOp>(op))
        return op.emitError("host code would access device memory here; "
                            "the CUDA target runs every access in a kernel");
      if (op.getNumRegions() && !isa<func::FuncOp>(op))
        return op.emitError("cannot place this op with regions on the host "
                            "or in a kernel");
    }
    for (Operation *op : work) {
      LogicalResult formed =
          isa<scf::ForOp>(op) ? formMemoryStage(cast<scf::ForOp>(op))
                              : formLoopNest(cast<scf::ParallelOp>(op));
      if (failed(formed))
        return failure();
    }
    if (failed(cuda::sinkDeviceScalars(function)))
      return failure();
    freeTemporaries(function);
    return success();
  }

  /// Frees, before each return, the top-level buffers no result aliases.
  void freeTemporaries(func::FuncOp function) {
    Block &body = function.getBody().front();
    auto ret = dyn_cast<func::ReturnOp>(body.getTerminator());
    if (!ret)
      return;
    DenseSet<Value> returned;
    for (Value operand : ret.getOperands())
      returned.insert(cuda::rootBuffer(operand));
    OpBuilder b(ret);
    for (Operation &op : body)
      if (auto alloc = dyn_cast<memref::AllocOp>(op))
        if (!returned.contains(alloc.getResult()))
          memref::DeallocOp::create(b, ret.getLoc(), alloc.getResult());
  }

  //===--------------------------------------------------------------------===//
  // Loop nests outside memory stages
  //===--------------------------------------------------------------------===//

  LogicalResult formLoopNest(scf::ParallelOp loop) {
    Location loc = loop.getLoc();
    OpBuilder b(loop);
    SmallVector<unsigned> dims;
    for (unsigned d = 0; d < loop.getNumLoops(); ++d)
      dims.push_back(d);
    SmallVector<Value> counts = tripCounts(b, loop, dims);
    Value total = indexConstant(b, loc, 1);
    for (Value count : counts)
      total = arith::MulIOp::create(b, loc, total, count);
    Value threadCount = indexConstant(b, loc, threads);
    Value one = indexConstant(b, loc, 1);
    Value blocks = arith::CeilDivUIOp::create(b, loc, total, threadCount);
    // An empty nest still launches one block, which does nothing.
    blocks = arith::MaxUIOp::create(b, loc, blocks, one);
    auto launch = gpu::LaunchOp::create(
        b, loc, blocks, one, one, threadCount, one, one, nullptr, nullptr, {},
        {}, {}, nullptr, nullptr, nullptr,
        SymbolRefAttr::get(b.getContext(), kKernelModule),
        SymbolRefAttr::get(b.getContext(),
                           "loop_nest_" + std::to_string(loopNests++)));
    OpBuilder kb = OpBuilder::atBlockBegin(&launch.getBody().front());
    Value linear = arith::AddIOp::create(
        kb, loc,
        arith::MulIOp::create(kb, loc, launch.getBlockIds().x, threadCount),
        launch.getThreadIds().x);
    Value inside = arith::CmpIOp::create(kb, loc, arith::CmpIPredicate::ult,
                                         linear, total);
    auto guard = scf::IfOp::create(kb, loc, inside, /*withElse=*/false);
    OpBuilder gb = guard.getThenBodyBuilder();
    SmallVector<Value> indices(dims.size());
    Value rest = linear;
    for (int64_t d = static_cast<int64_t>(dims.size()) - 1; d >= 0; --d) {
      indices[d] = arith::RemUIOp::create(gb, loc, rest, counts[d]);
      rest = arith::DivUIOp::create(gb, loc, rest, counts[d]);
    }
    inlineIterations(gb, loop, dims, indices, DenseMap<unsigned, Value>());
    gpu::TerminatorOp::create(kb, loc);
    loop.erase();
    return success();
  }

  //===--------------------------------------------------------------------===//
  // Memory stages
  //===--------------------------------------------------------------------===//

  /// What a memory stage's kernel needs while its body is rewritten.
  struct Stage {
    gpu::LaunchOp launch;
    /// The grid's batch extent (on the host) and the heads.
    Value batch;
    int64_t heads = 0;
    Value blockB, blockH, thread, threadCount;
    /// Buffers shared by the blocks (each touches its (b, h) slice only).
    DenseSet<Value> shared;
  };

  LogicalResult formMemoryStage(scf::ForOp loop) {
    Location loc = loop.getLoc();
    MLIRContext *ctx = loop.getContext();
    if (failed(checkCarried(loop)) || loop.getNumRegionIterArgs() == 0)
      return loop.getNumRegionIterArgs() ? failure()
                                         : loop.emitError(
                                               "a memory stage carries its "
                                               "state: a top-level loop "
                                               "without carried buffers is "
                                               "not one");
    OpBuilder b(loop);
    Value first = loop.getInitArgs().front();
    Value batch = memref::DimOp::create(b, loc, first, 0);
    int64_t heads = cast<MemRefType>(first.getType()).getDimSize(1);
    Value one = indexConstant(b, loc, 1);
    Value threadCount = indexConstant(b, loc, threads);
    auto launch = gpu::LaunchOp::create(
        b, loc, batch, indexConstant(b, loc, heads), one, threadCount, one, one,
        nullptr, nullptr, {}, {}, {}, nullptr, nullptr, nullptr,
        SymbolRefAttr::get(ctx, kKernelModule),
        SymbolRefAttr::get(ctx,
                           "memory_stage_" + std::to_string(memoryStages++)));
    Stage stage;
    stage.launch = launch;
    stage.batch = batch;
    stage.heads = heads;
    stage.blockB = launch.getBlockIds().x;
    stage.blockH = launch.getBlockIds().y;
    stage.thread = launch.getThreadIds().x;
    Block &kernel = launch.getBody().front();
    OpBuilder kb = OpBuilder::atBlockBegin(&kernel);
    stage.threadCount = indexConstant(kb, loc, threads);
    auto terminator = gpu::TerminatorOp::create(kb, loc);

    // The carried values of the chunk loop: fixed buffers on the host, which
    // replace the loop's results.
    SmallVector<Value> carried;
    b.setInsertionPoint(launch);
    for (Value init : loop.getInitArgs()) {
      carried.push_back(allocLike(b, loc, init));
      stage.shared.insert(carried.back());
    }
    for (auto [result, buffer] : llvm::zip(loop.getResults(), carried))
      result.replaceAllUsesWith(buffer);
    loop->moveBefore(terminator);

    // The chunk's work: parallel nests shared by the block's threads.
    if (failed(mapNests(loop.getBody(), stage)))
      return failure();
    // Loops carrying buffers (the chunk loop, DGD's token scan) carry
    // nothing: fixed buffers, new values copied in.
    SmallVector<scf::ForOp> loops;
    launch.walk<WalkOrder::PreOrder>([&](scf::ForOp inner) {
      if (inner.getNumRegionIterArgs())
        loops.push_back(inner);
    });
    // What the loops carry goes to workgroup memory where it fits: the
    // chunk loop's values (states, momenta, references) first.
    SmallVector<cuda::WorkgroupCandidate> candidates;
    for (auto [k, buffer] : llvm::enumerate(carried))
      candidates.push_back(
          {buffer, "value " + std::to_string(k) + " the chunk loop carries",
           /*bounds=*/{}});
    for (scf::ForOp inner : loops) {
      if (inner != loop && failed(checkCarried(inner)))
        return failure();
      SmallVector<Value> fixed;
      if (inner == loop) {
        fixed = carried;
      } else {
        OpBuilder ib(inner);
        for (Value init : inner.getInitArgs())
          fixed.push_back(allocLike(ib, loc, init));
        for (auto [k, buffer] : llvm::enumerate(fixed))
          candidates.push_back({buffer,
                                "value " + std::to_string(k) +
                                    " an inner loop carries",
                                /*bounds=*/{}});
      }
      decarry(inner, fixed, stage);
    }
    cuda::StageBlock block;
    block.launch = launch;
    block.name = launch.getFunctionAttr().getValue().str();
    block.batch = batch;
    block.heads = heads;
    block.blockB = stage.blockB;
    block.blockH = stage.blockH;
    block.thread = stage.thread;
    block.threadCount = stage.threadCount;
    // Then the chunk's scratch, which goes to the block's slot of one
    // arena when workgroup memory is full.
    DenseSet<Value> listed;
    for (const cuda::WorkgroupCandidate &candidate : candidates)
      listed.insert(candidate.buffer);
    launch.walk([&](memref::AllocOp alloc) {
      MemRefType type = alloc.getType();
      if (listed.contains(alloc.getResult()) || type.getRank() < 2 ||
          type.isDynamicDim(1) ||
          type.getDimSize(1) != heads)
        return;
      cuda::WorkgroupCandidate scratch;
      scratch.buffer = alloc.getResult();
      scratch.what = "scratch";
      scratch.scratch = true;
      for (int64_t d = 2; d < type.getRank(); ++d) {
        if (!type.isDynamicDim(d))
          continue;
        std::optional<int64_t> bound = constantBound(
            alloc.getDynamicSizes()[type.getDynamicDimIndex(d)]);
        if (!bound)
          return;
        scratch.bounds.push_back(*bound);
      }
      // Bounds are indexed by dimension - 2: fill static dimensions too.
      SmallVector<int64_t> bounds;
      unsigned next = 0;
      for (int64_t d = 2; d < type.getRank(); ++d)
        bounds.push_back(type.isDynamicDim(d) ? scratch.bounds[next++]
                                              : type.getDimSize(d));
      scratch.bounds = bounds;
      candidates.push_back(scratch);
    });
    for (Value buffer :
         cuda::placeInWorkgroupMemory(block, candidates, sharedMemoryBytes)) {
      stage.shared.erase(buffer);
      buffer.getDefiningOp()->erase();
    }
    if (failed(hoistTemporaries(stage)))
      return failure();
    return checkBlocksIndependent(stage);
  }

  /// Every carried value of `loop` is a [batch, heads, ...] buffer.
  LogicalResult checkCarried(scf::ForOp loop) {
    for (Value init : loop.getInitArgs()) {
      auto type = dyn_cast<MemRefType>(init.getType());
      if (!type || type.getRank() < 2 || type.isDynamicDim(1) ||
          !type.getLayout().isIdentity())
        return loop.emitError("every value a loop of a memory stage carries "
                              "must be a [batch, heads, ...] buffer with "
                              "static heads and an identity layout; got ")
               << init.getType();
    }
    return success();
  }

  /// A new buffer of `like`'s type and sizes, at `b`.
  Value allocLike(OpBuilder &b, Location loc, Value like) {
    auto type = cast<MemRefType>(like.getType());
    SmallVector<Value> sizes;
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (type.isDynamicDim(d))
        sizes.push_back(memref::DimOp::create(b, loc, like, d));
    return memref::AllocOp::create(b, loc, type, sizes);
  }

  /// Rewrites `loop` (inside the kernel) to carry nothing: its carried
  /// values live in `fixed`, filled from the initial values before the loop
  /// and from the new values at the end of each iteration.
  void decarry(scf::ForOp loop, ArrayRef<Value> fixed, Stage &stage) {
    Location loc = loop.getLoc();
    OpBuilder b(loop);
    for (auto [init, buffer] : llvm::zip(loop.getInitArgs(), fixed))
      copySlice(b, loc, stage, init, buffer);
    gpu::BarrierOp::create(b, loc);
    auto plain = scf::ForOp::create(b, loc, loop.getLowerBound(),
                                    loop.getUpperBound(), loop.getStep());
    Block *body = plain.getBody();
    body->getOperations().splice(std::prev(body->end()),
                                 loop.getBody()->getOperations());
    auto oldYield = cast<scf::YieldOp>(
        *std::prev(body->getTerminator()->getIterator()));
    loop.getInductionVar().replaceAllUsesWith(plain.getInductionVar());
    for (auto [arg, buffer] : llvm::zip(loop.getRegionIterArgs(), fixed))
      arg.replaceAllUsesWith(buffer);
    for (auto [result, buffer] : llvm::zip(loop.getResults(), fixed))
      result.replaceAllUsesWith(buffer);

    // A new value that may be a fixed buffer (a select of the old state) is
    // copied aside first, so that every new value is read before any fixed
    // buffer is overwritten.
    OpBuilder yb(oldYield);
    SmallVector<Value> sources;
    bool staged = false;
    for (auto [value, buffer] : llvm::zip(oldYield.getOperands(), fixed)) {
      if (value == buffer || value.getDefiningOp<memref::AllocOp>()) {
        sources.push_back(value);
        continue;
      }
      Value copy = allocLike(yb, loc, buffer);
      copySlice(yb, loc, stage, value, copy);
      sources.push_back(copy);
      staged = true;
    }
    if (staged)
      gpu::BarrierOp::create(yb, loc);
    for (auto [value, buffer] : llvm::zip(sources, fixed))
      if (value != buffer)
        copySlice(yb, loc, stage, value, buffer);
    gpu::BarrierOp::create(yb, loc);
    oldYield.erase();
    loop.erase();
  }

  /// Buffers allocated in the kernel: allocated before the launch at their
  /// upper bound and viewed inside at their size. [batch, heads, ...]
  /// buffers are shared by the blocks (each uses its slice), others get one
  /// slot per block.
  LogicalResult hoistTemporaries(Stage &stage) {
    gpu::LaunchOp launch = stage.launch;
    Location loc = launch.getLoc();
    OpBuilder b(launch);
    SmallVector<memref::AllocOp> allocs;
    launch.walk([&](memref::AllocOp alloc) { allocs.push_back(alloc); });
    Value blocks = arith::MulIOp::create(b, loc, stage.batch,
                                         indexConstant(b, loc, stage.heads));
    for (memref::AllocOp alloc : allocs) {
      MemRefType type = alloc.getType();
      if (!type.getLayout().isIdentity() || type.getMemorySpace() ||
          !type.getElementType().isIntOrFloat())
        return alloc.emitError("a memory stage's temporaries need the "
                               "identity layout in the default memory space");
      bool shared = type.getRank() >= 2 && type.isDynamicDim(0) &&
                    !type.isDynamicDim(1) &&
                    type.getDimSize(1) == stage.heads;
      Value bytes = indexConstant(
          b, loc, type.getElementType().getIntOrFloatBitWidth() / 8);
      // A buffer the blocks share is viewed at its bounds: blocks walk the
      // chunks independently, so a layout following the current chunk's
      // size would let a block in a partial chunk overlap another's slice.
      SmallVector<Value> viewSizes;
      unsigned dynamic = 0;
      for (int64_t d = 0; d < type.getRank(); ++d) {
        Value bound;
        if (!type.isDynamicDim(d)) {
          bound = indexConstant(b, loc, type.getDimSize(d));
        } else {
          Value size = alloc.getDynamicSizes()[dynamic++];
          bound = shared && d == 0 ? stage.batch
                                   : boundBeforeLaunch(b, launch, size);
          if (!bound)
            return alloc.emitError("cannot bound dimension ")
                   << d << " of this temporary of a memory stage before the "
                           "launch (neither defined before it nor bounded "
                           "by a constant)";
          viewSizes.push_back(shared ? bound : size);
        }
        bytes = arith::MulIOp::create(b, loc, bytes, bound);
      }
      Value sixteen = indexConstant(b, loc, 16);
      bytes = arith::MulIOp::create(
          b, loc, arith::CeilDivUIOp::create(b, loc, bytes, sixteen), sixteen);
      Value total =
          shared ? bytes : arith::MulIOp::create(b, loc, bytes, blocks);
      Value buffer = memref::AllocOp::create(
          b, loc, MemRefType::get({ShapedType::kDynamic}, b.getI8Type()),
          ValueRange{total});
      OpBuilder ab(alloc);
      Value offset = indexConstant(ab, loc, 0);
      if (!shared) {
        Value block = arith::AddIOp::create(
            ab, loc,
            arith::MulIOp::create(ab, loc, stage.blockB,
                                  indexConstant(ab, loc, stage.heads)),
            stage.blockH);
        offset = arith::MulIOp::create(ab, loc, block, bytes);
      }
      Value view =
          memref::ViewOp::create(ab, loc, type, buffer, offset, viewSizes);
      // Its sizes are still the allocation's.
      for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
        if (auto dim = dyn_cast<memref::DimOp>(user))
          if (std::optional<int64_t> d = dim.getConstantIndex()) {
            OpFoldResult size = alloc.getMixedSizes()[*d];
            OpBuilder db(dim);
            dim.replaceAllUsesWith(getValueOrCreateConstantIndexOp(
                db, dim.getLoc(), size));
            dim.erase();
          }
      alloc.replaceAllUsesWith(view);
      alloc.erase();
      if (shared)
        stage.shared.insert(view);
    }
    return success();
  }

  /// Whether `value` is `base` or max(base, x) (unsigned): at least base.
  static bool isAtLeast(Value value, Value base) {
    if (value == base)
      return true;
    auto max = value.getDefiningOp<arith::MaxUIOp>();
    return max && (max.getLhs() == base || max.getRhs() == base);
  }

  /// The bound of a block's token count, min(start + C, end) - start: C;
  /// also when a streamed call starts inside the chunk,
  /// min(start + C, end) - max(start, position).
  /// (ValueBoundsOpInterface does not reason about arith.minui.)
  static std::optional<int64_t> chunkCountBound(Value size) {
    // max(count, c), c a constant: a trip count clamped at zero (the
    // reverse sweep's loop over a chunk's tokens, nl-differentiate).
    if (auto max = size.getDefiningOp<arith::MaxSIOp>()) {
      APInt floor;
      if (!matchPattern(max.getRhs(), m_ConstantInt(&floor)))
        return std::nullopt;
      std::optional<int64_t> count = chunkCountBound(max.getLhs());
      if (!count)
        return std::nullopt;
      return std::max(*count, floor.getSExtValue());
    }
    auto sub = size.getDefiningOp<arith::SubIOp>();
    if (!sub)
      return std::nullopt;
    auto min = sub.getLhs().getDefiningOp<arith::MinUIOp>();
    if (!min)
      return std::nullopt;
    for (Value operand : {min.getLhs(), min.getRhs()}) {
      auto add = operand.getDefiningOp<arith::AddIOp>();
      if (!add)
        continue;
      for (auto [base, step] : {std::pair(add.getLhs(), add.getRhs()),
                                std::pair(add.getRhs(), add.getLhs())}) {
        APInt constant;
        if (isAtLeast(sub.getRhs(), base) &&
            matchPattern(step, m_ConstantInt(&constant)))
          return constant.getSExtValue();
      }
    }
    return std::nullopt;
  }

  /// A constant bounding `size` from above, if one is known.
  static std::optional<int64_t> constantBound(Value size) {
    if (std::optional<int64_t> count = chunkCountBound(size))
      return count;
    FailureOr<int64_t> bound = ValueBoundsConstraintSet::computeConstantBound(
        presburger::BoundType::UB, ValueBoundsConstraintSet::Variable(size),
        /*stopCondition=*/nullptr, /*closedUB=*/true);
    if (failed(bound))
      return std::nullopt;
    return *bound;
  }

  /// A value bounding `size` from above, available before `launch`.
  Value boundBeforeLaunch(OpBuilder &b, gpu::LaunchOp launch, Value size) {
    Operation *owner = size.getDefiningOp();
    if (!owner)
      owner = cast<BlockArgument>(size).getOwner()->getParentOp();
    if (!launch->isAncestor(owner))
      return size;
    if (std::optional<int64_t> count = chunkCountBound(size))
      return indexConstant(b, launch.getLoc(), *count);
    FailureOr<int64_t> bound = ValueBoundsConstraintSet::computeConstantBound(
        presburger::BoundType::UB, ValueBoundsConstraintSet::Variable(size),
        /*stopCondition=*/nullptr, /*closedUB=*/true);
    if (failed(bound))
      return Value();
    return indexConstant(b, launch.getLoc(), *bound);
  }

  /// to[b, h, ...] = from[b, h, ...], shared by the block's threads.
  void copySlice(OpBuilder &b, Location loc, const Stage &stage, Value from,
                 Value to) {
    auto type = cast<MemRefType>(to.getType());
    SmallVector<Value> extents;
    for (int64_t d = 2; d < type.getRank(); ++d)
      extents.push_back(type.isDynamicDim(d)
                            ? memref::DimOp::create(b, loc, to, d).getResult()
                            : indexConstant(b, loc, type.getDimSize(d)));
    emitStridedLoop(b, loc, stage.thread, stage.threadCount, extents,
                    [&](OpBuilder &nb, ArrayRef<Value> indices) {
                      SmallVector<Value> at = {stage.blockB, stage.blockH};
                      llvm::append_range(at, indices);
                      Value value =
                          memref::LoadOp::create(nb, loc, from, at);
                      memref::StoreOp::create(nb, loc, value, to, at);
                    });
  }

  /// Every scf.parallel nest in `block` (recursively in loops and ifs):
  /// its batch and head dimensions become the block's, the others a
  /// block-stride loop, then a barrier.
  LogicalResult mapNests(Block *block, Stage &stage) {
    SmallVector<Operation *> ops;
    for (Operation &op : *block)
      ops.push_back(&op);
    for (Operation *op : ops) {
      if (auto nest = dyn_cast<scf::ParallelOp>(op)) {
        if (failed(mapNest(nest, stage)))
          return failure();
        continue;
      }
      if (isa<memref::StoreOp>(op))
        return op->emitError("a store outside the loop nests of a memory "
                             "stage would be run by every thread");
      for (Region &region : op->getRegions())
        for (Block &inner : region)
          if (failed(mapNests(&inner, stage)))
            return failure();
    }
    return success();
  }

  LogicalResult mapNest(scf::ParallelOp nest, Stage &stage) {
    Location loc = nest.getLoc();
    // The batch and head dimensions: those indexing dimensions 0 and 1 of
    // what the nest stores.
    std::optional<unsigned> batchDim, headDim;
    bool consistent = true;
    nest.walk([&](memref::StoreOp store) {
      if (store.getIndices().size() < 2)
        return;
      auto dimOf = [&](Value index) -> std::optional<unsigned> {
        for (auto [d, iv] : llvm::enumerate(nest.getInductionVars()))
          if (iv == index)
            return d;
        return std::nullopt;
      };
      std::optional<unsigned> bDim = dimOf(store.getIndices()[0]);
      std::optional<unsigned> hDim = dimOf(store.getIndices()[1]);
      // With one head, canonicalisation replaced the head's index by 0.
      bool singleHead = stage.heads == 1 && !hDim &&
                        isConstantIntValue(store.getIndices()[1], 0);
      if (!bDim || (!hDim && !singleHead) ||
          (batchDim && (*batchDim != *bDim || headDim != hDim))) {
        consistent = false;
        return;
      }
      batchDim = bDim;
      headDim = hDim;
    });
    if (!consistent || !batchDim)
      return nest.emitError("this loop nest of a memory stage does not store "
                            "[batch, heads, ...] elements indexed by two of "
                            "its dimensions: it cannot be split into one "
                            "block per (batch, head)");
    OpBuilder b(nest);
    SmallVector<unsigned> rest;
    for (unsigned d = 0; d < nest.getNumLoops(); ++d)
      if (d != *batchDim && d != headDim)
        rest.push_back(d);
    DenseMap<unsigned, Value> fixed = {{*batchDim, stage.blockB}};
    if (headDim)
      fixed[*headDim] = stage.blockH;
    SmallVector<Value> counts = tripCounts(b, nest, rest);
    if (rest.empty()) {
      // One iteration per block: thread 0 runs it.
      Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                          stage.thread,
                                          indexConstant(b, loc, 0));
      auto guard = scf::IfOp::create(b, loc, first, /*withElse=*/false);
      OpBuilder gb = guard.getThenBodyBuilder();
      inlineIterations(gb, nest, ArrayRef<unsigned>(), ArrayRef<Value>(), fixed);
    } else {
      emitStridedLoop(b, loc, stage.thread, stage.threadCount, counts,
                      [&](OpBuilder &nb, ArrayRef<Value> indices) {
                        inlineIterations(nb, nest, rest, indices, fixed);
                      });
    }
    gpu::BarrierOp::create(b, loc);
    nest.erase();
    return success();
  }

  /// Blocks touch disjoint elements of the buffers they share: every access
  /// to one indexes dimensions 0 and 1 with the block's batch and head.
  LogicalResult checkBlocksIndependent(const Stage &stage) {
    // Whether `value` is (a view keeping dimensions 0 and 1 of) a shared
    // buffer; selects of buffers are followed both ways.
    std::function<FailureOr<bool>(Operation *, Value)> isShared =
        [&](Operation *op, Value value) -> FailureOr<bool> {
      if (stage.shared.contains(value))
        return true;
      Operation *def = value.getDefiningOp();
      if (!def)
        return false;
      if (auto select = dyn_cast<arith::SelectOp>(def)) {
        FailureOr<bool> a = isShared(op, select.getTrueValue());
        FailureOr<bool> c = isShared(op, select.getFalseValue());
        if (failed(a) || failed(c))
          return failure();
        return *a || *c;
      }
      if (auto subview = dyn_cast<memref::SubViewOp>(def)) {
        FailureOr<bool> source = isShared(op, subview.getSource());
        if (failed(source) || !*source)
          return source;
        ArrayRef<int64_t> offsets = subview.getStaticOffsets();
        llvm::SmallBitVector dropped = subview.getDroppedDims();
        if (offsets.size() < 2 || offsets[0] != 0 || offsets[1] != 0 ||
            dropped.test(0) || dropped.test(1))
          return op->emitError("a view of a buffer shared by the blocks of "
                               "a memory stage that moves its batch or head "
                               "dimension");
        return true;
      }
      if (auto cast = dyn_cast<memref::CastOp>(def))
        return isShared(op, cast.getSource());
      return false;
    };
    auto check = [&](Operation *op, Value memref,
                     ValueRange indices) -> LogicalResult {
      FailureOr<bool> shared = isShared(op, memref);
      if (failed(shared))
        return failure();
      if (!*shared)
        return success();
      if (indices.size() < 2 || indices[0] != stage.blockB ||
          !cuda::isHeadIndex(indices[1], stage.blockH, stage.heads))
        return op->emitError("an access to a buffer shared by the blocks of "
                             "a memory stage that is not at the block's "
                             "(batch, head): blocks could race");
      return success();
    };
    WalkResult result = stage.launch->walk([&](Operation *op) -> WalkResult {
      LogicalResult checked = success();
      if (auto load = dyn_cast<memref::LoadOp>(op))
        checked = check(op, load.getMemRef(), load.getIndices());
      else if (auto store = dyn_cast<memref::StoreOp>(op))
        checked = check(op, store.getMemRef(), store.getIndices());
      return failed(checked) ? WalkResult::interrupt() : WalkResult::advance();
    });
    return failure(result.wasInterrupted());
  }

  int64_t memoryStages = 0;
  int64_t loopNests = 0;
};

} // namespace
