//===- ReductionNests.cpp - top-level reduction loops as parallel nests ---===//
//
// See ReductionNests.h. Used by nl-cuda-form-kernels before it forms
// kernels.
//
//===----------------------------------------------------------------------===//

#include "ReductionNests.h"
#include "DeviceScalars.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;

namespace {

/// The scf.parallel that the perfect nest of iter_arg-free fors from
/// `outer` holds alone in its innermost body (`innermost` receives that
/// for), or null.
scf::ParallelOp innerParallel(scf::ForOp outer, scf::ForOp &innermost) {
  scf::ForOp loop = outer;
  while (true) {
    if (loop.getNumRegionIterArgs())
      return {};
    Block *body = loop.getBody();
    if (body->getOperations().size() != 2) // one op and the yield
      return {};
    Operation &only = body->front();
    if (auto inner = dyn_cast<scf::ForOp>(only)) {
      loop = inner;
      continue;
    }
    auto parallel = dyn_cast<scf::ParallelOp>(only);
    if (!parallel || parallel.getNumResults())
      return {};
    innermost = loop;
    return parallel;
  }
}

/// Whether the iterations of `parallel` may run outside the fors around it
/// (up to `outer`): its bounds are defined above `outer`, it writes only
/// with memref.store, every store indexes an element by every induction
/// variable of `parallel` (each iteration owns what it writes) and every
/// load of a stored buffer reads the element its store writes.
bool ownsItsOutputs(scf::ParallelOp parallel, scf::ForOp outer) {
  for (ValueRange bounds : {ValueRange(parallel.getLowerBound()),
                            ValueRange(parallel.getUpperBound()),
                            ValueRange(parallel.getStep())})
    for (Value bound : bounds)
      if (outer.getRegion().isAncestor(bound.getParentRegion()))
        return false;
  SmallVector<memref::StoreOp> stores;
  SmallVector<memref::LoadOp> loads;
  WalkResult walk = parallel.getBody()->walk([&](Operation *op) {
    if (auto store = dyn_cast<memref::StoreOp>(op)) {
      stores.push_back(store);
      return WalkResult::advance();
    }
    if (auto load = dyn_cast<memref::LoadOp>(op)) {
      loads.push_back(load);
      return WalkResult::advance();
    }
    // Nothing else may touch memory (an alloc, a copy, a call).
    if (op->getNumRegions() == 0 && !isMemoryEffectFree(op))
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  if (walk.wasInterrupted() || stores.empty())
    return false;
  for (memref::StoreOp store : stores) {
    for (Value iv : parallel.getInductionVars())
      if (!llvm::is_contained(store.getIndices(), iv))
        return false;
    // A load of the stored buffer (through any view of it) reads the very
    // element the store writes.
    Value root = nl::cuda::rootBuffer(store.getMemRef());
    for (memref::LoadOp load : loads)
      if (nl::cuda::rootBuffer(load.getMemRef()) == root &&
          (load.getMemRef() != store.getMemRef() ||
           !llvm::equal(load.getIndices(), store.getIndices())))
        return false;
  }
  return true;
}

/// `for r.. { parallel p { body } }` -> `parallel p { for r.. { body } }`,
/// which is returned.
scf::ParallelOp interchange(scf::ForOp outer, scf::ForOp innermost,
                 scf::ParallelOp parallel) {
  OpBuilder b(outer);
  auto hoisted = scf::ParallelOp::create(
      b, parallel.getLoc(), parallel.getLowerBound(), parallel.getUpperBound(),
      parallel.getStep(), [](OpBuilder &, Location, ValueRange) {});
  outer->moveBefore(hoisted.getBody()->getTerminator());
  for (auto [old, iv] : llvm::zip(parallel.getBody()->getArguments(),
                                  hoisted.getBody()->getArguments()))
    old.replaceAllUsesWith(iv);
  Block *inner = parallel.getBody();
  innermost.getBody()->getOperations().splice(
      parallel->getIterator(), inner->getOperations(), inner->begin(),
      std::prev(inner->end()));
  parallel.erase();
  return hoisted;
}

/// `nest` inside a parallel nest of one iteration.
void runOnOneThread(scf::ForOp nest) {
  OpBuilder b(nest);
  Location loc = nest.getLoc();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto single =
      scf::ParallelOp::create(b, loc, ValueRange{zero}, ValueRange{one},
                              ValueRange{one},
                              [](OpBuilder &, Location, ValueRange) {});
  nest->moveBefore(single.getBody()->getTerminator());
}


/// `parallel a { parallel p { body } }` -> `parallel (a, p) { body }`
/// where p's bounds are defined outside: one nest for the kernel formation
/// to share among threads.
void mergeIntoParent(scf::ParallelOp inner) {
  auto outer = dyn_cast<scf::ParallelOp>(inner->getParentOp());
  if (!outer || outer.getNumResults() ||
      outer.getBody()->getOperations().size() != 2)
    return;
  for (Value bound : inner->getOperands())
    if (outer.getRegion().isAncestor(bound.getParentRegion()))
      return;
  SmallVector<Value> lower = llvm::to_vector(outer.getLowerBound());
  SmallVector<Value> upper = llvm::to_vector(outer.getUpperBound());
  SmallVector<Value> steps = llvm::to_vector(outer.getStep());
  llvm::append_range(lower, inner.getLowerBound());
  llvm::append_range(upper, inner.getUpperBound());
  llvm::append_range(steps, inner.getStep());
  OpBuilder b(outer);
  auto merged = scf::ParallelOp::create(b, outer.getLoc(), ValueRange(lower),
                                        ValueRange(upper), ValueRange(steps));
  // The body's arguments (getInductionVars() returns a temporary).
  ValueRange ivs = merged.getBody()->getArguments();
  for (auto [old, iv] : llvm::zip(outer.getBody()->getArguments(),
                                  ivs.take_front(outer.getNumLoops())))
    old.replaceAllUsesWith(iv);
  for (auto [old, iv] : llvm::zip(inner.getBody()->getArguments(),
                                  ivs.drop_front(outer.getNumLoops())))
    old.replaceAllUsesWith(iv);
  Block *innerBody = inner.getBody();
  merged.getBody()->getOperations().splice(
      merged.getBody()->getTerminator()->getIterator(),
      innerBody->getOperations(), innerBody->begin(),
      std::prev(innerBody->end()));
  outer.erase();
}

} // namespace

void mlir::nl::cuda::hoistParallelsOutOfReductions(Operation *scope) {
  // The outermost for of each perfect nest, innermost nests first.
  SmallVector<scf::ForOp> outermost;
  scope->walk([&](scf::ForOp loop) {
    auto parent = dyn_cast<scf::ForOp>(loop->getParentOp());
    if (!parent || parent.getBody()->getOperations().size() != 2)
      outermost.push_back(loop);
  });
  for (scf::ForOp nest : outermost) {
    scf::ForOp innermost;
    scf::ParallelOp parallel = innerParallel(nest, innermost);
    if (!parallel || !ownsItsOutputs(parallel, nest))
      continue;
    scf::ParallelOp hoisted = interchange(nest, innermost, parallel);
    mergeIntoParent(hoisted);
  }
}

void mlir::nl::cuda::runReductionNestsOnOneThread(Block &body) {
  SmallVector<scf::ForOp> nests;
  for (auto loop : body.getOps<scf::ForOp>())
    if (loop.getNumRegionIterArgs() == 0)
      nests.push_back(loop);
  for (scf::ForOp nest : nests)
    runOnOneThread(nest);
}
