//===- HeadParallelChunkLoops.cpp - nl-head-parallel-chunk-loops ----------===//
//
// A memory's chunk loop as one parallel loop over (batch, head) that walks
// the chunks inside (see Passes.td):
//
//   for chunk iter_args(state = init, owned = false) {     // before
//     parallel (b, h, rest) { ... }  ...  yield new, owned' }
//
//   final = alloc like init
//   parallel (b0, h0) {                                     // after
//     for chunk iter_args(state = init, owned = false) {
//       if (b0 < B', h0 < H') parallel (rest) { ...(b0, h0)... }  ...
//       yield new, owned' }
//     final[b0, h0, ...] = result[b0, h0, ...]; free result unless it is init
//   }
//
//===----------------------------------------------------------------------===//

#include "../BufferAccess.h"
#include "nl/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLHEADPARALLELCHUNKLOOPS
#include "nl/Codegen/CPU/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;

namespace {

/// The ownership helper of MLIR's buffer deallocation: it only reads and
/// writes the lists it is given (scratch of the iteration that calls it).
constexpr StringLiteral kDeallocHelper = "dealloc_helper";

/// Which dimensions of a loop nest, or of a buffer, are the batch and the
/// head (none with one head).
struct SliceDims {
  unsigned batch = 0;
  std::optional<unsigned> head;
};

/// What the rewrite needs from the analysis.
struct Plan {
  int64_t heads = 0;
  /// The nests of the loop (outermost scf.parallel ops) and their slice
  /// dimensions; nests that write nothing are absent.
  llvm::MapVector<Operation *, SliceDims> nests;
};

bool isDefinedIn(Value value, Operation *loop) {
  if (auto arg = dyn_cast<BlockArgument>(value))
    return loop->isAncestor(arg.getOwner()->getParentOp());
  return loop->isProperAncestor(value.getDefiningOp());
}

/// The outermost scf.parallel inside `loop` that holds `op`, if any.
scf::ParallelOp nestOf(Operation *op, Operation *loop) {
  scf::ParallelOp outermost;
  for (Operation *parent = op->getParentOp(); parent && parent != loop;
       parent = parent->getParentOp())
    if (auto nest = dyn_cast<scf::ParallelOp>(parent))
      outermost = nest;
  return outermost;
}

/// Whether a buffer's contents travel between iterations or loops: a block
/// argument or region result inside the loop, a value a loop starts from or
/// yields, or the loop's own initial value.
bool flows(Value root, scf::ForOp loop) {
  if (llvm::is_contained(loop.getInitArgs(), root))
    return true;
  if (!isDefinedIn(root, loop))
    return false;
  if (isa<BlockArgument>(root) ||
      isa<scf::ForOp, scf::IfOp, scf::WhileOp>(root.getDefiningOp()))
    return true;
  return llvm::any_of(root.getUsers(), [](Operation *user) {
    return isa<scf::YieldOp, scf::ForOp, scf::WhileOp>(user);
  });
}

/// Whether `value`, a buffer the loop yields, is one the iteration made (or
/// the loop's own state): never a buffer of the caller, so that a thread may
/// free what its loop returns unless it is the initial state.
bool isOwnBuffer(Value value, scf::ForOp loop, DenseSet<Value> &seen) {
  if (!seen.insert(value).second)
    return true;
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    Operation *owner = arg.getOwner()->getParentOp();
    if (owner == loop.getOperation())
      return true;
    auto inner = dyn_cast<scf::ForOp>(owner);
    if (!inner || !loop->isProperAncestor(inner))
      return false;
    unsigned k = arg.getArgNumber() - 1;
    return isOwnBuffer(inner.getInitArgs()[k], loop, seen) &&
           isOwnBuffer(inner.getYieldedValues()[k], loop, seen);
  }
  Operation *def = value.getDefiningOp();
  if (!loop->isProperAncestor(def))
    return false;
  if (isa<memref::AllocOp>(def))
    return true;
  unsigned k = cast<OpResult>(value).getResultNumber();
  if (auto inner = dyn_cast<scf::ForOp>(def))
    return isOwnBuffer(inner.getInitArgs()[k], loop, seen) &&
           isOwnBuffer(inner.getYieldedValues()[k], loop, seen);
  if (auto branch = dyn_cast<scf::IfOp>(def))
    return branch.elseBlock() &&
           isOwnBuffer(branch.thenYield().getOperand(k), loop, seen) &&
           isOwnBuffer(branch.elseYield().getOperand(k), loop, seen);
  return false;
}

/// Whether `op` touches memory only as allocations and frees, or through
/// the ops nested in it.
bool onlyAllocates(Operation *op) {
  if (isMemoryEffectFree(op) ||
      op->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
    return true;
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  if (!effects)
    return false;
  SmallVector<MemoryEffects::EffectInstance> list;
  effects.getEffects(list);
  return llvm::all_of(list, [](const MemoryEffects::EffectInstance &effect) {
    return isa<MemoryEffects::Allocate>(effect.getEffect());
  });
}

class Analysis {
public:
  Analysis(scf::ForOp loop) : loop(loop) {}

  /// The plan, or failure with `why` saying what keeps the loop serial.
  FailureOr<Plan> run() {
    if (failed(checkCarried()) || failed(collect()) || failed(checkSlices()) ||
        failed(checkYields()))
      return failure();
    return plan;
  }

  std::string why;
  /// The op the reason is about, if one.
  Operation *where = nullptr;

private:
  LogicalResult fail(const Twine &reason) {
    why = reason.str();
    return failure();
  }

  /// [batch, heads, ...] buffers and ownership flags that start false (a
  /// flag that starts true would let every thread free the caller's buffer).
  LogicalResult checkCarried() {
    for (Value init : loop.getInitArgs()) {
      if (auto type = dyn_cast<MemRefType>(init.getType())) {
        if (type.getRank() < 2 || type.isDynamicDim(1) ||
            !type.getLayout().isIdentity() ||
            (plan.heads && plan.heads != type.getDimSize(1)))
          return fail("it carries a buffer that is not [batch, heads, ...] "
                      "with the same static heads and an identity layout");
        plan.heads = type.getDimSize(1);
        continue;
      }
      if (!init.getType().isInteger(1) || !isConstantIntValue(init, 0))
        return fail("it carries a value that is neither a buffer nor an "
                    "ownership flag that starts false");
    }
    if (!plan.heads)
      return fail("it carries no buffer");
    return success();
  }

  LogicalResult collect() {
    WalkResult result = loop.getBody()->walk([&](Operation *op) {
      if (std::optional<BufferAccess> access = traceBufferAccess(op)) {
        accesses.push_back(*access);
        return WalkResult::advance();
      }
      if (auto nest = dyn_cast<scf::ParallelOp>(op)) {
        if (nest.getNumReductions() != 0) {
          (void)fail("a loop nest in it has reductions");
          return WalkResult::interrupt();
        }
        return WalkResult::advance();
      }
      if (auto call = dyn_cast<func::CallOp>(op)) {
        if (call.getCallee() != kDeallocHelper || nestOf(op, loop)) {
          (void)fail("it calls @" + call.getCallee());
          return WalkResult::interrupt();
        }
        for (Value operand : call.getOperands())
          if (isa<MemRefType>(operand.getType()))
            writtenOutside.insert(rootBuffer(operand));
        return WalkResult::advance();
      }
      if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
        if (!isDefinedIn(rootBuffer(dealloc.getMemref()), loop)) {
          (void)fail("it frees a buffer of the caller");
          return WalkResult::interrupt();
        }
        return WalkResult::advance();
      }
      if (!onlyAllocates(op)) {
        (void)fail("'" + op->getName().getStringRef() +
                   "' in it has memory effects that are not followed");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return failure();
    for (const BufferAccess &access : accesses)
      if (access.writes)
        (nestOf(access.op, loop) ? writtenInNest : writtenOutside)
            .insert(access.root);
    return success();
  }

  /// A buffer that a nest writes, or whose contents flow between
  /// iterations, is touched only by nests, each at its own (batch, head);
  /// one written outside the nests is scratch of the iteration.
  LogicalResult checkSlices() {
    SmallVector<std::pair<const BufferAccess *, scf::ParallelOp>> sliced;
    for (const BufferAccess &access : accesses) {
      Value root = access.root;
      if (!writtenInNest.contains(root) && !flows(root, loop)) {
        if (writtenOutside.contains(root) && !isDefinedIn(root, loop))
          return fail("it writes a buffer of the caller outside its loop "
                      "nests");
        continue;
      }
      scf::ParallelOp nest = nestOf(access.op, loop);
      if (!nest)
        return fail("it touches a buffer of (batch, head) slices outside its "
                    "loop nests");
      if (access.indices.size() < 2)
        return fail("a loop nest touches a buffer of rank < 2");
      sliced.push_back({&access, nest});
      // What the caller sees, and what the loop carries, is sliced at
      // dimensions 0 and 1 (the copies of the results rely on it).
      if (flows(root, loop) || !isDefinedIn(root, loop))
        rootDims[root] = {0, plan.heads == 1 ? std::nullopt
                                              : std::optional<unsigned>(1)};
    }
    if (llvm::any_of(writtenOutside, [&](Value root) {
          return writtenInNest.contains(root) || flows(root, loop);
        }))
      return fail("it writes a buffer of (batch, head) slices outside its "
                  "loop nests");
    // A temporary of the iteration may hold its (batch, head) at other
    // dimensions (a transposed copy): nests and temporaries take their
    // dimensions from each other, from the buffers above.
    for (;;) {
      bool changed = true;
      while (changed) {
        changed = false;
        for (auto [access, nest] : sliced) {
          auto root = rootDims.find(access->root);
          auto dims = plan.nests.find(nest.getOperation());
          if (root != rootDims.end() && dims == plan.nests.end()) {
            std::optional<SliceDims> found =
                nestDims(nest, *access, root->second);
            if (!found) {
              where = access->op;
              return fail("a loop nest touches a buffer at an index that is "
                          "not its own batch and head");
            }
            plan.nests.insert({nest.getOperation(), *found});
            changed = true;
          } else if (root == rootDims.end() && dims != plan.nests.end()) {
            std::optional<SliceDims> found =
                bufferDims(nest, *access, dims->second);
            if (!found) {
              where = access->op;
              return fail("a loop nest touches a temporary at indices that "
                          "are not its own batch and head");
            }
            rootDims[access->root] = *found;
            changed = true;
          }
        }
      }
      auto unplaced = llvm::find_if(sliced, [&](auto entry) {
        return !rootDims.contains(entry.first->root);
      });
      if (unplaced == sliced.end())
        break;
      // A temporary only nests of unknown dimensions touch: as stored.
      rootDims[unplaced->first->root] = {
          0, plan.heads == 1 ? std::nullopt : std::optional<unsigned>(1)};
    }
    for (auto [access, nest] : sliced) {
      const SliceDims &root = rootDims.find(access->root)->second;
      auto dims = plan.nests.find(nest.getOperation());
      std::optional<SliceDims> expected = nestDims(nest, *access, root);
      if (!expected || expected->batch != dims->second.batch ||
          expected->head != dims->second.head) {
        where = access->op;
        return fail("a loop nest touches buffers at different (batch, head) "
                    "dimensions");
      }
    }
    return success();
  }

  /// The dimension of `nest` whose induction variable (from 0, step 1) is
  /// `index`.
  std::optional<unsigned> dimOf(scf::ParallelOp nest, const RootIndex &index) {
    if (!index.isValue())
      return std::nullopt;
    for (auto [d, iv] : llvm::enumerate(nest.getInductionVars()))
      if (iv == index.value &&
          isConstantIntValue(nest.getLowerBound()[d], 0) &&
          isConstantIntValue(nest.getStep()[d], 1))
        return d;
    return std::nullopt;
  }

  /// The nest's (batch, head) dimensions: those indexing `root`'s; the
  /// heads' extent within the static count.
  std::optional<SliceDims> nestDims(scf::ParallelOp nest,
                                    const BufferAccess &access,
                                    const SliceDims &root) {
    SliceDims dims;
    std::optional<unsigned> batch = dimOf(nest, access.indices[root.batch]);
    if (!batch)
      return std::nullopt;
    dims.batch = *batch;
    if (!root.head)
      return dims;
    dims.head = dimOf(nest, access.indices[*root.head]);
    if (!dims.head || *dims.head == *batch)
      return std::nullopt;
    std::optional<int64_t> extent =
        getConstantIntValue(nest.getUpperBound()[*dims.head]);
    if (!extent || *extent > plan.heads)
      return std::nullopt;
    return dims;
  }

  /// The buffer's dimensions indexed by the nest's batch and head, each at
  /// exactly one.
  std::optional<SliceDims> bufferDims(scf::ParallelOp nest,
                                      const BufferAccess &access,
                                      const SliceDims &dims) {
    auto only = [&](unsigned nestDim) -> std::optional<unsigned> {
      Value iv = nest.getInductionVars()[nestDim];
      std::optional<unsigned> found;
      for (auto [d, index] : llvm::enumerate(access.indices)) {
        if (index.value != iv)
          continue;
        if (found)
          return std::nullopt;
        found = d;
      }
      return found;
    };
    SliceDims root;
    std::optional<unsigned> batch = only(dims.batch);
    if (!batch)
      return std::nullopt;
    root.batch = *batch;
    if (dims.head) {
      root.head = only(*dims.head);
      if (!root.head)
        return std::nullopt;
    }
    return root;
  }

  LogicalResult checkYields() {
    DenseSet<Value> seen;
    for (Value value : loop.getYieldedValues())
      if (isa<MemRefType>(value.getType()) && !isOwnBuffer(value, loop, seen))
        return fail("it yields a buffer that its iteration did not allocate");
    return success();
  }

  scf::ForOp loop;
  Plan plan;
  SmallVector<BufferAccess> accesses;
  DenseSet<Value> writtenInNest, writtenOutside;
  /// The (batch, head) dimensions of each buffer that nests touch.
  DenseMap<Value, SliceDims> rootDims;
};

Value constantIndex(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

/// A new buffer of `like`'s type and sizes.
Value allocLike(OpBuilder &b, Location loc, Value like) {
  auto type = cast<MemRefType>(like.getType());
  SmallVector<Value> sizes;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      sizes.push_back(memref::DimOp::create(b, loc, like, d));
  return memref::AllocOp::create(b, loc, type, sizes,
                                 b.getI64IntegerAttr(64));
}

/// to[b, h, ...] = from[b, h, ...].
void copySlice(OpBuilder &b, Location loc, Value from, Value to, Value batch,
               Value head) {
  auto type = cast<MemRefType>(to.getType());
  SmallVector<Value> indices = {batch, head};
  OpBuilder::InsertionGuard guard(b);
  Value zero = constantIndex(b, loc, 0), one = constantIndex(b, loc, 1);
  for (int64_t d = 2; d < type.getRank(); ++d) {
    Value extent = type.isDynamicDim(d)
                       ? memref::DimOp::create(b, loc, to, d).getResult()
                       : constantIndex(b, loc, type.getDimSize(d));
    auto loop = scf::ForOp::create(b, loc, zero, extent, one);
    indices.push_back(loop.getInductionVar());
    b.setInsertionPointToStart(loop.getBody());
  }
  Value value = memref::LoadOp::create(b, loc, from, indices);
  memref::StoreOp::create(b, loc, value, to, indices);
}

/// `nest` runs only its iterations at (batch, head): a guard, then a
/// parallel loop over its other dimensions.
void restrictNest(scf::ParallelOp nest, const SliceDims &dims, Value batch,
                  Value head) {
  OpBuilder b(nest);
  Location loc = nest.getLoc();
  Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, batch,
                                       nest.getUpperBound()[dims.batch]);
  if (dims.head)
    inside = arith::AndIOp::create(
        b, loc, inside,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, head,
                              nest.getUpperBound()[*dims.head]));
  auto guard = scf::IfOp::create(b, loc, inside, /*withElseRegion=*/false);
  b.setInsertionPointToStart(guard.thenBlock());
  IRMapping mapping;
  mapping.map(nest.getInductionVars()[dims.batch], batch);
  if (dims.head)
    mapping.map(nest.getInductionVars()[*dims.head], head);
  SmallVector<Value> lower, upper, step;
  SmallVector<unsigned> rest;
  for (unsigned d = 0; d < nest.getNumLoops(); ++d) {
    if (d == dims.batch || d == dims.head)
      continue;
    rest.push_back(d);
    lower.push_back(nest.getLowerBound()[d]);
    upper.push_back(nest.getUpperBound()[d]);
    step.push_back(nest.getStep()[d]);
  }
  if (!rest.empty()) {
    auto inner = scf::ParallelOp::create(b, loc, lower, upper, step);
    for (auto [k, d] : llvm::enumerate(rest))
      mapping.map(nest.getInductionVars()[d], inner.getInductionVars()[k]);
    b.setInsertionPointToStart(inner.getBody());
  }
  for (Operation &op : nest.getBody()->without_terminator())
    b.clone(op, mapping);
  nest.erase();
}

/// Rewrites `loop` by `plan` (see the file's header).
void parallelizeOverHeads(scf::ForOp loop, const Plan &plan) {
  Location loc = loop.getLoc();
  OpBuilder b(loop);
  Value first;
  for (Value init : loop.getInitArgs())
    if (isa<MemRefType>(init.getType()) && !first)
      first = init;
  Value batch = cast<MemRefType>(first.getType()).isDynamicDim(0)
                    ? memref::DimOp::create(b, loc, first, 0).getResult()
                    : constantIndex(b, loc,
                                    cast<MemRefType>(first.getType())
                                        .getDimSize(0));
  // The loop's results: shared buffers each thread fills at its slices;
  // owned by the caller, who frees them (ownership flags true).
  SmallVector<Value> finals;
  Value owned = arith::ConstantIntOp::create(b, loc, 1, 1);
  for (auto [init, result] : llvm::zip(loop.getInitArgs(), loop.getResults())) {
    if (!isa<MemRefType>(init.getType())) {
      finals.push_back(Value());
      result.replaceAllUsesWith(owned);
      continue;
    }
    finals.push_back(allocLike(b, loc, init));
    result.replaceAllUsesWith(finals.back());
  }
  Value zero = constantIndex(b, loc, 0), one = constantIndex(b, loc, 1);
  auto outer = scf::ParallelOp::create(
      b, loc, ValueRange{zero, zero},
      ValueRange{batch, constantIndex(b, loc, plan.heads)},
      ValueRange{one, one});
  Value b0 = outer.getInductionVars()[0], h0 = outer.getInductionVars()[1];
  loop->moveBefore(outer.getBody()->getTerminator());

  b.setInsertionPointAfter(loop);
  SmallVector<Value> initPointers, done;
  for (Value init : loop.getInitArgs())
    if (isa<MemRefType>(init.getType()))
      initPointers.push_back(
          memref::ExtractAlignedPointerAsIndexOp::create(b, loc, init));
  for (auto [result, final] : llvm::zip(loop.getResults(), finals)) {
    if (!final)
      continue;
    copySlice(b, loc, result, final, b0, h0);
    // Free the thread's own result: not an initial state, not freed yet.
    Value pointer = memref::ExtractAlignedPointerAsIndexOp::create(b, loc,
                                                                   result);
    Value fresh = arith::ConstantIntOp::create(b, loc, 1, 1);
    for (Value other : llvm::concat<Value>(initPointers, done))
      fresh = arith::AndIOp::create(
          b, loc, fresh,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, pointer,
                                other));
    auto free = scf::IfOp::create(b, loc, fresh, /*withElseRegion=*/false);
    OpBuilder fb = OpBuilder::atBlockBegin(free.thenBlock());
    memref::DeallocOp::create(fb, loc, result);
    done.push_back(pointer);
  }
  for (auto [nest, dims] : plan.nests)
    restrictNest(cast<scf::ParallelOp>(nest), dims, b0, h0);
}

struct HeadParallelChunkLoopsPass
    : nl::impl::NLHeadParallelChunkLoopsBase<HeadParallelChunkLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<scf::ForOp> candidates;
    getOperation()->walk<WalkOrder::PreOrder>([&](scf::ForOp loop) {
      if (loop->getParentOfType<scf::ParallelOp>())
        return WalkResult::skip();
      if (llvm::any_of(loop.getInitArgs(), [](Value init) {
            return isa<MemRefType>(init.getType());
          })) {
        candidates.push_back(loop);
        return WalkResult::skip();
      }
      return WalkResult::advance();
    });
    for (scf::ForOp loop : candidates) {
      Analysis analysis(loop);
      FailureOr<Plan> plan = analysis.run();
      if (failed(plan)) {
        if (remarks) {
          InFlightDiagnostic remark =
              loop.emitRemark("chunk loop stays serial: ") << analysis.why;
          if (analysis.where)
            remark.attachNote(analysis.where->getLoc()) << "here";
        }
        continue;
      }
      if (remarks)
        loop.emitRemark("chunk loop parallel over (batch, head), ")
            << plan->nests.size() << " loop nests";
      parallelizeOverHeads(loop, *plan);
    }
  }
};

} // namespace
