//===- RegisterBudget.cpp - nl-cuda-register-budget -----------------------===//
//
// Without an occupancy hint ptxas caps a kernel of 256 threads at 128
// registers (two blocks per SM) and spills the rest: measured on the memory
// stages (168 registers needed, 72-92 bytes spilled at 128). One block per
// SM is enough for them (the grid is batch x heads), so every kernel says
// so (`nvvm.minctasm = 1`, PTX `.minnctapersm 1`) and ptxas limits its
// registers by the block size alone.
//
//===----------------------------------------------------------------------===//

#include "nl/Codegen/CUDA/Passes.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/Builders.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLCUDAREGISTERBUDGET
#include "nl/Codegen/CUDA/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;

namespace {
struct RegisterBudgetPass
    : nl::impl::NLCUDARegisterBudgetBase<RegisterBudgetPass> {
  void runOnOperation() override {
    Builder b(&getContext());
    getOperation().walk([&](gpu::GPUFuncOp kernel) {
      if (kernel.isKernel() &&
          !kernel->hasAttr(NVVM::NVVMDialect::getMinctasmAttrName()))
        kernel->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(),
                        b.getI32IntegerAttr(1));
    });
  }
};
} // namespace
