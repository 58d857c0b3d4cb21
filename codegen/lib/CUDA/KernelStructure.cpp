//===- KernelStructure.cpp - barriers and uniform values of a kernel ------===//

#include "KernelStructure.h"

#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;
using namespace mlir::nl;
using namespace mlir::nl::cuda;

bool cuda::containsBarrier(Operation *op) {
  bool found = false;
  for (Region &region : op->getRegions())
    region.walk([&](gpu::BarrierOp) {
      found = true;
      return WalkResult::interrupt();
    });
  return found;
}

bool cuda::isThreadIdentity(Operation *op) {
  return isa<gpu::ThreadIdOp, gpu::LaneIdOp, gpu::SubgroupIdOp,
             gpu::GlobalIdOp>(op);
}

KernelUniformity::KernelUniformity(gpu::GPUFuncOp kernel) {
  for (BlockArgument argument : kernel.getBody().front().getArguments())
    uniform.insert(argument);
  visit(kernel.getBody().front(), /*uniformLevel=*/true);
}

bool KernelUniformity::operandsUniform(Operation *op) const {
  return llvm::all_of(op->getOperands(),
                      [&](Value operand) { return isUniform(operand); });
}

void KernelUniformity::visit(Block &block, bool uniformLevel) {
  for (Operation &op : block) {
    if (op.getNumRegions() == 0) {
      if (!isThreadIdentity(&op) && isMemoryEffectFree(&op) &&
          operandsUniform(&op))
        for (Value result : op.getResults())
          uniform.insert(result);
      continue;
    }
    bool control = uniformLevel && isa<scf::ForOp, scf::IfOp>(op) &&
                   op.getNumResults() == 0 && containsBarrier(&op) &&
                   operandsUniform(&op);
    if (control) {
      uniformControl.insert(&op);
      if (auto loop = dyn_cast<scf::ForOp>(op))
        uniform.insert(loop.getInductionVar());
    }
    for (Region &region : op.getRegions())
      for (Block &inner : region)
        visit(inner, control);
  }
}

LogicalResult cuda::verifyBarrierPlacement(gpu::GPUFuncOp kernel,
                                           const KernelUniformity &uniformity) {
  WalkResult result = kernel.walk([&](gpu::BarrierOp barrier) -> WalkResult {
    for (Operation *parent = barrier->getParentOp(); parent != kernel;
         parent = parent->getParentOp()) {
      if (uniformity.isUniformControl(parent))
        continue;
      InFlightDiagnostic diagnostic = barrier.emitError(
          "this barrier cannot be emulated: a barrier must be at the "
          "kernel's top level or inside scf.for / scf.if ops that every "
          "thread of the block runs alike");
      if (isa<scf::ForOp, scf::IfOp>(parent) && parent->getNumResults())
        diagnostic.attachNote(parent->getLoc())
            << "this op around it yields values";
      else if (isa<scf::ForOp, scf::IfOp>(parent))
        diagnostic.attachNote(parent->getLoc())
            << "the bounds or condition of this op may differ between "
               "threads (they depend on the thread id or on memory)";
      else
        diagnostic.attachNote(parent->getLoc())
            << "this op around it is neither scf.for nor scf.if";
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}
