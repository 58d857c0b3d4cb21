//===- ExportEmulatedKernels.cpp - nl-cuda-export-emulated-kernels --------===//
//
// For each lowered @hope_emulated_K(<params...>, gx, gy, gz, bx, by, bz,
// shared_bytes, services) -> i32, the entry the runtime's CPU stand-in for
// the driver calls (one pointer per parameter, memrefs as bare pointers):
//
//   int32_t hope_kernel_K(void **params, const uint32_t grid[3],
//                         const uint32_t block[3], uint32_t shared_bytes) {
//     return hope_emulated_K(*(T0 *)params[0], ..., grid[0..2], block[0..2],
//                            shared_bytes, NULL);
//   }
//
//===----------------------------------------------------------------------===//

#include "KernelStructure.h"
#include "nl/Codegen/CUDA/Passes.h"
#include "nl/IR/NLDialect.h"

#include "mlir/IR/Builders.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLCUDAEXPORTEMULATEDKERNELS
#include "nl/Codegen/CUDA/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;
using namespace mlir::nl::cuda;

namespace {

struct ExportEmulatedKernelsPass
    : nl::impl::NLCUDAExportEmulatedKernelsBase<ExportEmulatedKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto i32 = IntegerType::get(ctx, 32);
    SmallVector<LLVM::LLVMFuncOp> functions;
    for (auto function : module.getOps<LLVM::LLVMFuncOp>())
      if (function->hasAttr(kEmulatedKernelAttrName))
        functions.push_back(function);

    for (LLVM::LLVMFuncOp function : functions) {
      Location loc = function.getLoc();
      auto name = function->getAttrOfType<StringAttr>(kEmulatedKernelAttrName);
      ArrayRef<Type> params = function.getFunctionType().getParams();
      // The parameters, grid and block (6), dynamic shared bytes and the
      // service table.
      unsigned count = function.getNumArguments();
      auto status = dyn_cast<IntegerType>(
          function.getFunctionType().getReturnType());
      if (!name || count < 8 ||
          !function.getArgAttr(count - 1, NLDialect::getServicesAttrName()) ||
          !status || status.getWidth() != 32) {
        function.emitError("an emulated kernel needs its parameters, grid, "
                           "block, shared bytes and the service table (run "
                           "nl-route-allocations first), and returns an i32 "
                           "status");
        return signalPassFailure();
      }
      if (!function.getArgument(count - 1).use_empty()) {
        function.emitError("an emulated kernel allocates memory through the "
                           "service table, which it is not given");
        return signalPassFailure();
      }
      unsigned numParams = count - 8;
      function.setLinkage(LLVM::Linkage::Internal);

      OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
      auto entry = LLVM::LLVMFuncOp::create(
          b, loc, ("hope_kernel_" + name.getValue()).str(),
          LLVM::LLVMFunctionType::get(i32, {ptr, ptr, ptr, i32}));
      Block *body = entry.addEntryBlock(b);
      b.setInsertionPointToStart(body);
      Value paramArray = body->getArgument(0);
      SmallVector<Value> arguments;
      for (unsigned i = 0; i < numParams; ++i) {
        Value address = LLVM::GEPOp::create(
            b, loc, ptr, ptr, paramArray,
            ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(i)});
        Value slot = LLVM::LoadOp::create(b, loc, ptr, address);
        arguments.push_back(LLVM::LoadOp::create(b, loc, params[i], slot));
      }
      auto arrayOf3 = LLVM::LLVMArrayType::get(i32, 3);
      for (unsigned array = 1; array <= 2; ++array)
        for (int32_t d = 0; d < 3; ++d) {
          Value address = LLVM::GEPOp::create(
              b, loc, ptr, arrayOf3, body->getArgument(array),
              ArrayRef<LLVM::GEPArg>{0, d});
          Value value = LLVM::LoadOp::create(b, loc, i32, address);
          Type wide = params[numParams + (array - 1) * 3 + d];
          arguments.push_back(LLVM::ZExtOp::create(b, loc, wide, value));
        }
      arguments.push_back(LLVM::ZExtOp::create(b, loc, params[numParams + 6],
                                               body->getArgument(3)));
      arguments.push_back(LLVM::ZeroOp::create(b, loc, ptr));
      auto call = LLVM::CallOp::create(b, loc, function, arguments);
      LLVM::ReturnOp::create(b, loc, call.getResult());
    }

    // The empty kernels the launches named are no longer needed.
    for (auto gpuModule :
         llvm::make_early_inc_range(module.getOps<gpu::GPUModuleOp>()))
      gpuModule.erase();
    module->removeAttr(gpu::GPUDialect::getContainerModuleAttrName());
  }
};

} // namespace
