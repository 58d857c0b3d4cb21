//===- SplitLargeFunctions.cpp - nl-split-large-functions -----------------===//
//
// Cuts a large function into runs of its top-level operations and outlines
// each run (scf.execute_region + MLIR's outlineSingleBlockRegion), so that
// LLVM optimises many small functions instead of one huge one.
//
//===----------------------------------------------------------------------===//

#include "nl/Codegen/CPU/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLSPLITLARGEFUNCTIONS
#include "nl/Codegen/CPU/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;

namespace {

/// Operations in `op`, itself included.
unsigned countOps(Operation *op) {
  unsigned count = 0;
  op->walk([&](Operation *) { ++count; });
  return count;
}

/// The results of `run` (consecutive top-level operations of one block) that
/// operations outside it use.
SmallVector<Value> getEscapingValues(ArrayRef<Operation *> run) {
  llvm::SmallPtrSet<Operation *, 32> inRun(run.begin(), run.end());
  Block *block = run.front()->getBlock();
  SmallVector<Value> escaping;
  for (Operation *op : run)
    for (Value result : op->getResults())
      if (llvm::any_of(result.getUsers(), [&](Operation *user) {
            return !inRun.contains(block->findAncestorOpInBlock(*user));
          }))
        escaping.push_back(result);
  return escaping;
}

/// Moves `run` (consecutive top-level operations of one block) into an
/// scf.execute_region yielding what later operations use of it, and returns
/// that region's op. Constants the run uses are cloned into it first.
scf::ExecuteRegionOp wrapRun(RewriterBase &rewriter,
                             ArrayRef<Operation *> run) {
  SmallVector<Value> escaping = getEscapingValues(run);
  rewriter.setInsertionPoint(run.front());
  auto region = scf::ExecuteRegionOp::create(
      rewriter, run.front()->getLoc(), ValueRange(escaping).getTypes());
  Block *body = rewriter.createBlock(&region.getRegion());
  for (Operation *op : run)
    op->moveBefore(body, body->end());
  rewriter.setInsertionPointToEnd(body);
  scf::YieldOp::create(rewriter, region.getLoc(), escaping);
  for (auto [value, replacement] : llvm::zip(escaping, region.getResults()))
    rewriter.replaceUsesWithIf(value, replacement, [&](OpOperand &use) {
      return !region->isProperAncestor(use.getOwner());
    });

  // Constants: re-created inside, so that the outlined function folds them.
  llvm::SetVector<Value> captured;
  getUsedValuesDefinedAbove(region.getRegion(), captured);
  rewriter.setInsertionPointToStart(body);
  for (Value value : captured) {
    Operation *definition = value.getDefiningOp();
    if (!definition || !definition->hasTrait<OpTrait::ConstantLike>())
      continue;
    Operation *copy = rewriter.clone(*definition);
    rewriter.replaceUsesWithIf(value, copy->getResult(0), [&](OpOperand &use) {
      return region->isProperAncestor(use.getOwner());
    });
  }
  return region;
}

struct SplitLargeFunctionsPass
    : nl::impl::NLSplitLargeFunctionsBase<SplitLargeFunctionsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (maxOps == 0)
      return;
    SmallVector<func::FuncOp> functions(
        getOperation().getOps<func::FuncOp>());
    SmallVector<func::FuncOp> parts;
    for (func::FuncOp function : functions)
      if (!function.isExternal() && function.getBody().hasOneBlock() &&
          countOps(function) > maxOps && failed(split(function, parts)))
        return signalPassFailure();
    mergeIdentical(parts);
  }

  /// Keeps one of every set of parts with the same type and body.
  void mergeIdentical(ArrayRef<func::FuncOp> parts) {
    SmallVector<func::FuncOp> kept;
    for (func::FuncOp part : parts) {
      auto same = llvm::find_if(kept, [&](func::FuncOp other) {
        return other.getFunctionType() == part.getFunctionType() &&
               OperationEquivalence::isRegionEquivalentTo(
                   &other.getBody(), &part.getBody(),
                   OperationEquivalence::IgnoreLocations);
      });
      if (same == kept.end()) {
        kept.push_back(part);
        continue;
      }
      if (failed(SymbolTable::replaceAllSymbolUses(
              part, same->getSymNameAttr(), getOperation())))
        llvm_unreachable("a part of a function is only used by calls");
      part.erase();
    }
  }

  LogicalResult split(func::FuncOp function,
                      SmallVectorImpl<func::FuncOp> &parts) {
    // Runs of about maxOps operations; constants stay behind (cloned where
    // used) and the terminator stays in the function.
    SmallVector<SmallVector<Operation *>> runs(1);
    unsigned size = 0;
    for (Operation &op : function.getBody().front().without_terminator()) {
      if (op.hasTrait<OpTrait::ConstantLike>())
        continue;
      unsigned opSize = countOps(&op);
      if (size > 0 && size + opSize > maxOps) {
        runs.emplace_back();
        size = 0;
      }
      runs.back().push_back(&op);
      size += opSize;
      // A top-level loop (a chunk loop, a tiled contraction) closes its run:
      // the runs of a model's repeated blocks then hold the same operations
      // and merge into one function.
      if (isa<scf::ForOp>(op)) {
        runs.emplace_back();
        size = 0;
      }
    }
    if (runs.back().empty())
      runs.pop_back();
    if (runs.size() < 2)
      return success();
    // A stack buffer must not outlive its part: leave such a function whole.
    for (ArrayRef<Operation *> run : runs)
      if (llvm::any_of(getEscapingValues(run), [](Value value) {
            return value.getDefiningOp<memref::AllocaOp>();
          }))
        return success();

    IRRewriter rewriter(function.getContext());
    unsigned part = 0;
    for (ArrayRef<Operation *> run : runs) {
      scf::ExecuteRegionOp region = wrapRun(rewriter, run);
      // A name no other symbol has (a second run of the pass, a user's
      // function named like a part).
      std::string name;
      do
        name = (function.getName() + ".part" + Twine(part++)).str();
      while (SymbolTable::lookupSymbolIn(getOperation(), name));
      func::CallOp call;
      FailureOr<func::FuncOp> outlined = outlineSingleBlockRegion(
          rewriter, region.getLoc(), region.getRegion(), name, &call);
      if (failed(outlined))
        return region.emitError("could not outline part of '")
               << function.getName() << "'";
      outlined->setPrivate();
      parts.push_back(*outlined);
      // LLVM would inline a function called once straight back; the
      // `passthrough` list becomes LLVM function attributes.
      (*outlined)->setAttr("passthrough",
                           rewriter.getArrayAttr(
                               {rewriter.getStringAttr("noinline")}));
      // The region now only calls the function: keep the call, drop it.
      rewriter.setInsertionPoint(region);
      Operation *callCopy = rewriter.clone(*call);
      rewriter.replaceOp(region, callCopy->getResults());
    }
    // Constants used by no run anymore.
    for (Operation &op : llvm::make_early_inc_range(
             function.getBody().front().without_terminator()))
      if (op.hasTrait<OpTrait::ConstantLike>() && op.use_empty())
        rewriter.eraseOp(&op);
    return success();
  }
};

} // namespace
