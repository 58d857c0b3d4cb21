//===- DeviceDataPreconditions.cpp - nl-cuda-device-data-preconditions ----===//
//
// On a device target the inputs are device tensors and host code must not
// read them (docs/artifact-abi.md, "The service table on a device"), so a
// precondition check that reads input data (token ids within the
// vocabulary) runs as a kernel instead: its body becomes a loop nest of one
// iteration (nl-cuda-form-kernels makes it a kernel of one block) that
// stores its verdict into a status word in device memory, and the host
// code returns the word, read through the runtime (nl.read_device_status),
// before the entry point launches anything else. Checks that read only
// shapes stay on the host.
//
//===----------------------------------------------------------------------===//

#include "nl/Codegen/CUDA/Passes.h"
#include "nl/IR/NLOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLCUDADEVICEDATAPRECONDITIONS
#include "nl/Codegen/CUDA/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;

namespace {

/// Whether `function` reads or writes memory (its arguments' data or
/// buffers of its own).
bool touchesMemory(func::FuncOp function) {
  WalkResult result = function.walk([](Operation *op) {
    auto effects = dyn_cast<MemoryEffectOpInterface>(op);
    if (effects && (effects.hasEffect<MemoryEffects::Read>() ||
                    effects.hasEffect<MemoryEffects::Write>()))
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return result.wasInterrupted();
}

/// The check's own buffers (an accumulator) become private to the one
/// thread that runs it.
LogicalResult privatizeBuffers(Block &body) {
  SmallVector<memref::AllocOp> allocs;
  body.walk([&](memref::AllocOp alloc) { allocs.push_back(alloc); });
  for (memref::AllocOp alloc : allocs) {
    if (!alloc.getType().hasStaticShape())
      return alloc.emitError("a precondition check that reads device data "
                             "runs in a kernel, where it cannot allocate a "
                             "buffer of dynamic size");
    for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
      if (isa<memref::DeallocOp>(user))
        user->erase();
    OpBuilder b(alloc);
    Value local = memref::AllocaOp::create(b, alloc.getLoc(), alloc.getType(),
                                           alloc.getAlignmentAttr());
    alloc.replaceAllUsesWith(local);
    alloc.erase();
  }
  return success();
}

/// Rewrites `check` (returning its verdict) to compute the verdict in a
/// kernel and return it read from the status word.
LogicalResult runOnDevice(func::FuncOp check) {
  Block &body = check.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  if (ret.getNumOperands() != 1)
    return check.emitError("a precondition check returns one status");
  Location loc = check.getLoc();
  OpBuilder b = OpBuilder::atBlockBegin(&body);
  auto wordType = MemRefType::get({}, b.getI32Type());
  Value word = memref::AllocOp::create(b, loc, wordType);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto nest = scf::ParallelOp::create(b, loc, ValueRange{zero},
                                      ValueRange{one}, ValueRange{one});
  Block *inner = nest.getBody();
  // Everything the check computed moves into the nest, which stores it.
  inner->getOperations().splice(inner->getTerminator()->getIterator(),
                                body.getOperations(),
                                std::next(nest->getIterator()),
                                ret->getIterator());
  OpBuilder ib(inner->getTerminator());
  memref::StoreOp::create(ib, loc, ret.getOperand(0), word);
  if (failed(privatizeBuffers(*inner)))
    return failure();
  b.setInsertionPoint(ret);
  Value pointer =
      memref::ExtractAlignedPointerAsIndexOp::create(b, loc, word);
  Value address =
      arith::IndexCastOp::create(b, loc, b.getI64Type(), pointer);
  Value status = ReadDeviceStatusOp::create(b, loc, address);
  ret->setOperands(status);
  return success();
}

struct DeviceDataPreconditionsPass
    : nl::impl::NLCUDADeviceDataPreconditionsBase<
          DeviceDataPreconditionsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto entry : module.getOps<func::FuncOp>()) {
      auto check = module.lookupSymbol<func::FuncOp>(
          getPreconditionCheckName(entry.getName()));
      if (!check || check.isExternal() || !touchesMemory(check))
        continue;
      if (failed(runOnDevice(check)))
        return signalPassFailure();
    }
  }
};

} // namespace
