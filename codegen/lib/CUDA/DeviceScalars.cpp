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
#include "mlir/Interfaces/ViewLikeInterface.h"
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
    bool device = nl::cuda::isArgumentScalarRead(&op);
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

Value nl::cuda::rootBuffer(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view)
      break;
    value = view.getViewSource();
  }
  return value;
}

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

bool nl::cuda::isArgumentScalarRead(Operation *op) {
  auto load = dyn_cast<memref::LoadOp>(op);
  return load && isa<BlockArgument>(nl::cuda::rootBuffer(load.getMemRef())) &&
         !hasShapedResult(op);
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
    // Cloned at the kernel's start in the function's order, so that
    // operands come first; every thread reads them.
    OpBuilder b = OpBuilder::atBlockBegin(&launch.getBody().front());
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
        if (isArgumentScalarRead(read))
          error.attachNote(read->getLoc()) << "read here";
      return error;
    }
  }
  return success();
}
