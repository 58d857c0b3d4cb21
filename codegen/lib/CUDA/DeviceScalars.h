//===- DeviceScalars.h - scalars host code must not read --------*- C++ -*-===//
//
// On a device target every buffer is device memory. The host code of a
// bufferized entry point still reads a few scalars at its top level: a
// streamed position (which decides the chunk loop's trip count and where
// its chunks start), a weight's element hoisted out of the loops, or a
// training step's scalars (the loss and its count, the gradients' norm, the
// clipping factor, the learning rate of the step). They are read inside the
// kernels that use them instead, and a scalar the host code stores (the
// next position, a scale) is stored by a kernel of its own.
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_CUDA_DEVICESCALARS_H
#define NL_CODEGEN_CUDA_DEVICESCALARS_H

#include "../BufferAccess.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Support/LLVM.h"

namespace mlir::nl::cuda {

/// The buffer a view (subview, cast, reshape...) of it reads (shared with
/// the CPU target's chunk-loop analysis).
using mlir::nl::rootBuffer;

/// Wraps every `memref.store` at the top level of `body` into a loop nest
/// of one iteration, which becomes a kernel like any other loop nest.
void wrapHostStores(Block &body);

/// Whether `op` (at the top level of an entry point) reads a scalar from a
/// buffer: such reads move into the kernels (sinkDeviceScalars).
bool isDeviceScalarRead(Operation *op);

/// Moves the scalars read at the top level of `function` from buffers, and
/// the pure scalar ops computed from them, into every kernel (gpu.launch)
/// that uses them; fails, located at the read, when host code still uses
/// one (a launch's grid, a buffer's size), or when something between the
/// read and a kernel using it may write its buffer (the kernel would read
/// another value).
LogicalResult sinkDeviceScalars(func::FuncOp function);

} // namespace mlir::nl::cuda

#endif // NL_CODEGEN_CUDA_DEVICESCALARS_H
