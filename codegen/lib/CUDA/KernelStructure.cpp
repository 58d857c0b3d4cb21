//===- KernelStructure.cpp - barriers and uniform values of a kernel ------===//

#include "KernelStructure.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

using namespace mlir;
using namespace mlir::nl;
using namespace mlir::nl::cuda;

KernelLaunches cuda::collectLaunches(ModuleOp module) {
  KernelLaunches launches;
  module.walk([&](gpu::LaunchFuncOp launch) {
    launches[(launch.getKernelModuleName().getValue() + "::" +
              launch.getKernelName().getValue())
                 .str()]
        .push_back(SmallVector<Value>(launch.getKernelOperands()));
  });
  return launches;
}

ArrayRef<SmallVector<Value>> cuda::launchesOf(const KernelLaunches &launches,
                                              gpu::GPUFuncOp kernel) {
  auto gpuModule = kernel->getParentOfType<gpu::GPUModuleOp>();
  if (!gpuModule)
    return {};
  auto found =
      launches.find((gpuModule.getName() + "::" + kernel.getName()).str());
  if (found == launches.end())
    return {};
  return found->second;
}

void cuda::collectRoots(Value value, SmallVectorImpl<Value> &roots) {
  while (Operation *def = value.getDefiningOp()) {
    if (auto select = dyn_cast<arith::SelectOp>(def)) {
      collectRoots(select.getTrueValue(), roots);
      collectRoots(select.getFalseValue(), roots);
      return;
    }
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view)
      break;
    value = view.getViewSource();
  }
  if (!llvm::is_contained(roots, value))
    roots.push_back(value);
}

DenseSet<Value>
cuda::findReadOnlyArguments(gpu::GPUFuncOp kernel,
                            ArrayRef<SmallVector<Value>> launches) {
  DenseSet<Value> readOnly;
  if (launches.empty())
    return readOnly;
  SmallVector<Value> written;
  WalkResult result = kernel.walk([&](Operation *op) -> WalkResult {
    if (auto store = dyn_cast<memref::StoreOp>(op)) {
      collectRoots(store.getMemRef(), written);
      return WalkResult::advance();
    }
    auto effects = dyn_cast<MemoryEffectOpInterface>(op);
    if (!effects)
      return op->getNumRegions() || op->hasTrait<OpTrait::IsTerminator>() ||
                     isa<gpu::BarrierOp>(op)
                 ? WalkResult::advance()
                 : WalkResult::interrupt();
    return effects.hasEffect<MemoryEffects::Write>() &&
                   !isa<memref::AllocOp, memref::AllocaOp,
                        memref::DeallocOp>(op)
               ? WalkResult::interrupt()
               : WalkResult::advance();
  });
  if (result.wasInterrupted())
    return readOnly;
  // The host buffers behind the written arguments, at every launch.
  SmallVector<Value> writtenHost;
  for (const SmallVector<Value> &operands : launches)
    for (Value root : written)
      if (auto argument = dyn_cast<BlockArgument>(root))
        if (argument.getOwner() == &kernel.getBody().front() &&
            argument.getArgNumber() < operands.size())
          collectRoots(operands[argument.getArgNumber()], writtenHost);
  for (unsigned i = 0; i < kernel.getNumArguments(); ++i) {
    Value argument = kernel.getArgument(i);
    if (!isa<MemRefType>(argument.getType()) ||
        llvm::is_contained(written, argument))
      continue;
    bool aliased = false;
    for (const SmallVector<Value> &operands : launches) {
      SmallVector<Value> roots;
      if (i < operands.size())
        collectRoots(operands[i], roots);
      aliased = aliased || i >= operands.size() ||
                llvm::any_of(roots, [&](Value root) {
                  return llvm::is_contained(writtenHost, root);
                });
    }
    if (!aliased)
      readOnly.insert(argument);
  }
  return readOnly;
}

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

KernelUniformity::KernelUniformity(gpu::GPUFuncOp kernel,
                                   DenseSet<Value> readOnlyArguments)
    : readOnly(std::move(readOnlyArguments)) {
  for (BlockArgument argument : kernel.getBody().front().getArguments())
    uniform.insert(argument);
  visit(kernel.getBody().front(), /*uniformLevel=*/true);
}

bool KernelUniformity::operandsUniform(Operation *op) const {
  return llvm::all_of(op->getOperands(),
                      [&](Value operand) { return isUniform(operand); });
}

/// A load of a buffer no thread writes while the kernel runs, at indices
/// every thread has alike.
bool KernelUniformity::isUniformLoad(Operation *op) const {
  auto load = dyn_cast<memref::LoadOp>(op);
  if (!load || !operandsUniform(op))
    return false;
  SmallVector<Value> roots;
  collectRoots(load.getMemRef(), roots);
  return llvm::all_of(roots,
                      [&](Value root) { return readOnly.contains(root); });
}

void KernelUniformity::visit(Block &block, bool uniformLevel) {
  for (Operation &op : block) {
    if (op.getNumRegions() == 0) {
      if (!isThreadIdentity(&op) &&
          ((isMemoryEffectFree(&op) && operandsUniform(&op)) ||
           isUniformLoad(&op)))
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
