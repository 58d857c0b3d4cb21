//===- KernelStructure.h - barriers and uniform values of a kernel -*- C++ -*-===//
//
// What the race check (nl-cuda-check-races) and the emulator
// (nl-cuda-emulate-kernels) both need to know about an outlined kernel:
// which values every thread of a block computes alike, where barriers may
// stand, and the kernel's segments (the code between barriers, as the
// emulator runs it: each segment an scf.for over the block's threads).
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_LIB_CUDA_KERNELSTRUCTURE_H
#define NL_CODEGEN_LIB_CUDA_KERNELSTRUCTURE_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::nl::cuda {

/// Marks the host function emulating a kernel (nl-cuda-emulate-kernels) with
/// the kernel's name, for nl-cuda-export-emulated-kernels.
constexpr llvm::StringLiteral kEmulatedKernelAttrName = "hope_emulated_kernel";

/// The operands of every gpu.launch_func of `module`, by kernel
/// ("module::kernel").
using KernelLaunches = llvm::StringMap<SmallVector<SmallVector<Value>>>;
KernelLaunches collectLaunches(ModuleOp module);
/// The launches of `kernel` (empty when the module does not launch it).
ArrayRef<SmallVector<Value>> launchesOf(const KernelLaunches &launches,
                                        gpu::GPUFuncOp kernel);

/// The buffers a memref value may view (through views and selects).
void collectRoots(Value value, SmallVectorImpl<Value> &roots);

/// The memref arguments of `kernel` that no op of it writes, nor any other
/// argument viewing the same buffer at one of its `launches`: their
/// elements do not change while the kernel runs. None when the kernel has
/// no launch to tell aliases by, or an op writes memory other than by
/// memref.store.
DenseSet<Value> findReadOnlyArguments(gpu::GPUFuncOp kernel,
                                      ArrayRef<SmallVector<Value>> launches);

/// Whether a region of `op` holds a gpu.barrier.
bool containsBarrier(Operation *op);

/// Ops whose result differs between the threads of a block by definition.
bool isThreadIdentity(Operation *op);

/// The values of a kernel that are the same in every thread of a block
/// whenever they are read ("uniform"): the kernel's arguments and
/// attributions, results of ops without memory effects or regions whose
/// operands are uniform (not the thread id), and the induction variables of
/// uniform scf.for ops that hold a barrier (every thread runs them in step),
/// and loads of read-only arguments at uniform indices. No other loaded
/// value is uniform.
class KernelUniformity {
public:
  KernelUniformity(gpu::GPUFuncOp kernel, DenseSet<Value> readOnlyArguments);
  bool isUniform(Value value) const { return uniform.contains(value); }
  /// Whether `op` is an scf.for / scf.if holding a barrier that every
  /// thread runs alike (uniform operands, no results) at a uniform level.
  bool isUniformControl(Operation *op) const {
    return uniformControl.contains(op);
  }

private:
  void visit(Block &block, bool uniformLevel);
  bool operandsUniform(Operation *op) const;

  bool isUniformLoad(Operation *op) const;

  DenseSet<Value> readOnly;
  DenseSet<Value> uniform;
  DenseSet<Operation *> uniformControl;
};

/// Fails, at the barrier and the op around it, when a gpu.barrier is neither
/// at the kernel's top level nor in uniform scf.for / scf.if ops only.
LogicalResult verifyBarrierPlacement(gpu::GPUFuncOp kernel,
                                     const KernelUniformity &uniformity);

} // namespace mlir::nl::cuda

#endif // NL_CODEGEN_LIB_CUDA_KERNELSTRUCTURE_H
