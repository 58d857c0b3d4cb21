//===- DeviceScalars.cpp - scalars host code must not read ----------------===//
//
// See DeviceScalars.h. Used by nl-cuda-form-kernels: host stores are
// wrapped before the kernels are formed, scalars sunk after.
//
//===----------------------------------------------------------------------===//

#include "DeviceScalars.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;

namespace {

bool hasShapedResult(Operation *op) {
  return llvm::any_of(op->getResultTypes(),
                      [](Type type) { return isa<ShapedType>(type); });
}

/// The ops at the top level of `body` that read a scalar from an argument's
/// buffer or compute (purely, without regions) from such scalars, in order.
llvm::SetVector<Operation *> collectDeviceScalars(Block &body) {
  llvm::SetVector<Operation *> scalars;
  for (Operation &op : body) {
    bool device = nl::cuda::isDeviceScalarRead(&op);
    if (!device && op.getNumRegions() == 0 && op.getNumResults() != 0 &&
        !hasShapedResult(&op) && isMemoryEffectFree(&op))
      device = llvm::any_of(op.getOperands(), [&](Value operand) {
        return scalars.contains(operand.getDefiningOp());
      });
    if (device)
      scalars.insert(&op);
  }
  return scalars;
}

} // namespace

void nl::cuda::wrapHostStores(Block &body) {
  SmallVector<memref::StoreOp> stores(body.getOps<memref::StoreOp>());
  for (memref::StoreOp store : stores) {
    OpBuilder b(store);
    Location loc = store.getLoc();
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    scf::ParallelOp::create(b, loc, ValueRange{zero}, ValueRange{one},
                            ValueRange{one},
                            [&](OpBuilder &nb, Location, ValueRange) {
                              nb.clone(*store);
                            });
    store.erase();
  }
}

bool nl::cuda::isDeviceScalarRead(Operation *op) {
  return isa<memref::LoadOp>(op) && !hasShapedResult(op);
}

/// Whether `op` (or an op inside it) may write the buffer `root`.
static bool mayWrite(Operation *op, Value root) {
  WalkResult result = op->walk([&](Operation *inner) {
    auto effects = dyn_cast<MemoryEffectOpInterface>(inner);
    if (!effects) {
      // Ops with regions are judged by what they hold (walked too); a
      // barrier only orders; anything else (a call) may write anything.
      bool opaque = inner->getNumRegions() == 0 &&
                    !isa<gpu::BarrierOp>(inner) && !isMemoryEffectFree(inner);
      return opaque ? WalkResult::interrupt() : WalkResult::advance();
    }
    SmallVector<MemoryEffects::EffectInstance> instances;
    effects.getEffects(instances);
    for (const MemoryEffects::EffectInstance &effect : instances) {
      if (!isa<MemoryEffects::Write>(effect.getEffect()))
        continue;
      Value written = effect.getValue();
      if (!written || nl::cuda::rootBuffer(written) == root)
        return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return result.wasInterrupted();
}

/// Fails, located at `read`, when an op between it and `launch` (both at
/// the top level of one block) may write the buffer it reads: the kernel
/// would read another value than the host code's order gives.
static LogicalResult checkUnwrittenUntil(memref::LoadOp read,
                                         gpu::LaunchOp launch) {
  Value root = nl::cuda::rootBuffer(read.getMemRef());
  for (Operation *op = read->getNextNode(); op && op != launch.getOperation();
       op = op->getNextNode())
    if (mayWrite(op, root))
      return read.emitError("a scalar read from device memory here is used "
                            "by a kernel launched after its buffer is "
                            "written again")
                 .attachNote(op->getLoc())
             << "written here";
  return success();
}

/// The innermost block of `launch` that holds every use inside it of the
/// results of `ops`.
static Block *usesBlock(gpu::LaunchOp launch,
                        const llvm::SetVector<Operation *> &ops) {
  SmallVector<Operation *> users;
  for (Operation *op : ops)
    for (Operation *user : op->getUsers())
      if (launch->isProperAncestor(user))
        users.push_back(user);
  Block *outermost = &launch.getBody().front();
  if (users.empty())
    return outermost;
  for (Block *block = users.front()->getBlock(); block != outermost;
       block = block->getParentOp()->getBlock()) {
    if (llvm::all_of(users, [&](Operation *user) {
          return block->findAncestorOpInBlock(*user) != nullptr;
        }))
      return block;
  }
  return outermost;
}

LogicalResult nl::cuda::sinkDeviceScalars(func::FuncOp function) {
  Block &body = function.getBody().front();
  llvm::SetVector<Operation *> scalars = collectDeviceScalars(body);
  if (scalars.empty())
    return success();
  for (auto launch : body.getOps<gpu::LaunchOp>()) {
    // The scalars the kernel uses, and those they are computed from.
    llvm::SetVector<Value> captured;
    getUsedValuesDefinedAbove(launch.getBody(), captured);
    llvm::SetVector<Operation *> needed;
    SmallVector<Value> work(captured.begin(), captured.end());
    while (!work.empty()) {
      Operation *def = work.pop_back_val().getDefiningOp();
      if (!def || !scalars.contains(def) || !needed.insert(def))
        continue;
      llvm::append_range(work, def->getOperands());
    }
    if (needed.empty())
      continue;
    for (Operation *op : needed)
      if (auto read = dyn_cast<memref::LoadOp>(op))
        if (failed(checkUnwrittenUntil(read, launch)))
          return failure();
    // Cloned in the function's order, so that operands come first, at the
    // start of the innermost block of the kernel holding every use: a value
    // only one thread stores (a kernel of one iteration) is read by that
    // thread alone, not by threads racing with its store.
    OpBuilder b = OpBuilder::atBlockBegin(usesBlock(launch, needed));
    IRMapping mapping;
    for (Operation *op : scalars)
      if (needed.contains(op))
        b.clone(*op, mapping);
    for (Operation *op : needed)
      for (Value result : op->getResults())
        result.replaceUsesWithIf(mapping.lookup(result), [&](OpOperand &use) {
          return launch->isProperAncestor(use.getOwner());
        });
  }
  for (Operation *op : llvm::reverse(scalars))
    if (op->use_empty())
      op->erase();
  // What is left is used by host code.
  llvm::SetVector<Operation *> left = collectDeviceScalars(body);
  for (Operation *op : left) {
    for (Operation *user : op->getUsers()) {
      if (left.contains(user))
        continue;
      InFlightDiagnostic error = user->emitError(
          "host code would use a value read from device memory here (a "
          "launch's grid, a buffer's size); on a device target only kernels "
          "may read an argument's data");
      for (Operation *read : left)
        if (isDeviceScalarRead(read))
          error.attachNote(read->getLoc()) << "read here";
      return error;
    }
  }
  return success();
}
