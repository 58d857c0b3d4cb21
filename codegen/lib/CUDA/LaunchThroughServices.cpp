//===- LaunchThroughServices.cpp - nl-cuda-launch-through-services --------===//
//
// Host code calls the runtime, never the CUDA driver: each launch becomes
//
//   uint32_t grid[3] = {...}, block[3] = {...};
//   void *params[N] = {&arg0, ..., &argN-1};
//   services->launch(services->context, kernel, grid, block, 0, params);
//
// (hope_services version 2, runtime/include/hope/artifact.h); the buffers
// are routed to device_alloc / device_free by nl-route-allocations before.
// A status word a kernel wrote (nl.read_device_status) is read by
//
//   services->read_status(services->context, (const void *)address);
//
// (version 3, needed only by artifacts that read one).
//
//===----------------------------------------------------------------------===//

#include "nl/Codegen/CUDA/Passes.h"
#include "nl/IR/NLDialect.h"
#include "nl/IR/NLOps.h"

#include "mlir/IR/Builders.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLCUDALAUNCHTHROUGHSERVICES
#include "nl/Codegen/CUDA/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;

namespace {

/// Field numbers of struct hope_services (artifact.h), version 3.
enum ServiceField : int32_t {
  kContext = 2,
  kLaunch = 7,
  kReadStatus = 8,
};
/// The table version launches need, and the one read_status needs.
constexpr int64_t kLaunchVersion = 2;
constexpr int64_t kReadStatusVersion = 3;

LLVM::LLVMStructType getServicesType(MLIRContext *ctx) {
  auto i32 = IntegerType::get(ctx, 32);
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  return LLVM::LLVMStructType::getLiteral(
      ctx, {i32, i32, ptr, ptr, ptr, ptr, ptr, ptr, ptr});
}

/// Loads field `field` of the table `services`.
Value loadField(OpBuilder &b, Location loc, Value services, int32_t field) {
  MLIRContext *ctx = b.getContext();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  Value address = LLVM::GEPOp::create(
      b, loc, ptr, getServicesType(ctx), services,
      ArrayRef<LLVM::GEPArg>{0, field});
  return LLVM::LoadOp::create(b, loc, ptr, address);
}

/// The table: the enclosing function's last argument.
FailureOr<Value> getServices(Operation *op) {
  auto function = op->getParentOfType<LLVM::LLVMFuncOp>();
  if (!function || function.isExternal() || function.getNumArguments() == 0 ||
      !function.getArgAttr(function.getNumArguments() - 1,
                           NLDialect::getServicesAttrName()))
    return op->emitError("needs the runtime's service table as the "
                         "enclosing function's last argument (run "
                         "nl-route-allocations first)");
  return function.getArgument(function.getNumArguments() - 1);
}

/// An alloca of `count` elements of `type` at the start of the function.
Value entryAlloca(OpBuilder &b, Operation *op, Type type, int64_t count) {
  OpBuilder::InsertionGuard guard(b);
  auto function = op->getParentOfType<LLVM::LLVMFuncOp>();
  b.setInsertionPointToStart(&function.getBody().front());
  Location loc = op->getLoc();
  Value size = LLVM::ConstantOp::create(b, loc, b.getI64Type(),
                                        b.getI64IntegerAttr(count));
  return LLVM::AllocaOp::create(b, loc, LLVM::LLVMPointerType::get(
                                            b.getContext()),
                                type, size);
}

struct LaunchThroughServicesPass
    : nl::impl::NLCUDALaunchThroughServicesBase<LaunchThroughServicesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto i32 = IntegerType::get(ctx, 32);

    // Kernel numbers: the index in the manifest's kernels.
    llvm::StringMap<int64_t> kernelNumbers;
    if (auto fields = module->getAttrOfType<DictionaryAttr>(
            NLDialect::getManifestFieldsAttrName()))
      if (auto kernels = fields.getAs<ArrayAttr>("kernels"))
        for (auto [index, kernel] : llvm::enumerate(kernels))
          if (auto entry = dyn_cast<DictionaryAttr>(kernel))
            if (auto name = entry.getAs<StringAttr>("name"))
              kernelNumbers[name.getValue()] = index;

    auto launchType = LLVM::LLVMFunctionType::get(i32, {ptr, i32, ptr, ptr,
                                                        i32, ptr});
    OpBuilder b(ctx);
    bool failedAny = false;

    SmallVector<gpu::LaunchFuncOp> launches;
    module.walk([&](gpu::LaunchFuncOp launch) { launches.push_back(launch); });
    for (gpu::LaunchFuncOp launch : launches) {
      Location loc = launch.getLoc();
      FailureOr<Value> services = getServices(launch);
      if (failed(services)) {
        failedAny = true;
        continue;
      }
      auto number = kernelNumbers.find(launch.getKernelName().getValue());
      if (number == kernelNumbers.end()) {
        launch.emitError("kernel '")
            << launch.getKernelName().getValue()
            << "' is not in the manifest's kernels (run "
               "nl-cuda-serialize-kernels first)";
        failedAny = true;
        continue;
      }
      if (launch.getAsyncToken() || !launch.getAsyncDependencies().empty() ||
          launch.hasClusterSize()) {
        launch.emitError("asynchronous and cluster launches are not "
                         "supported: launches run in order on the session's "
                         "stream");
        failedAny = true;
        continue;
      }
      auto arrayOf3 = LLVM::LLVMArrayType::get(i32, 3);
      Value grid = entryAlloca(b, launch, arrayOf3, 1);
      Value block = entryAlloca(b, launch, arrayOf3, 1);
      ValueRange operands = launch.getKernelOperands();
      Value params = entryAlloca(b, launch, ptr,
                                 std::max<int64_t>(operands.size(), 1));
      SmallVector<Value> slots;
      for (Value operand : operands)
        slots.push_back(entryAlloca(b, launch, operand.getType(), 1));

      b.setInsertionPoint(launch);
      auto storeDims = [&](Value array, ArrayRef<Value> dims) {
        for (auto [index, dim] : llvm::enumerate(dims)) {
          Value value = dim;
          if (value.getType() != i32)
            value = LLVM::TruncOp::create(b, loc, i32, value);
          Value address = LLVM::GEPOp::create(
              b, loc, ptr, arrayOf3, array,
              ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(index)});
          LLVM::StoreOp::create(b, loc, value, address);
        }
      };
      gpu::KernelDim3 gridSize = launch.getGridSizeOperandValues();
      gpu::KernelDim3 blockSize = launch.getBlockSizeOperandValues();
      storeDims(grid, {gridSize.x, gridSize.y, gridSize.z});
      storeDims(block, {blockSize.x, blockSize.y, blockSize.z});
      for (auto [index, operand] : llvm::enumerate(operands)) {
        LLVM::StoreOp::create(b, loc, operand, slots[index]);
        Value address = LLVM::GEPOp::create(
            b, loc, ptr, ptr, params,
            ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(index)});
        LLVM::StoreOp::create(b, loc, slots[index], address);
      }
      Value shared = launch.getDynamicSharedMemorySize();
      if (!shared)
        shared = LLVM::ConstantOp::create(b, loc, i32, b.getI32IntegerAttr(0));
      else if (shared.getType() != i32)
        shared = LLVM::TruncOp::create(b, loc, i32, shared);
      Value context = loadField(b, loc, *services, kContext);
      Value function = loadField(b, loc, *services, kLaunch);
      Value kernel = LLVM::ConstantOp::create(
          b, loc, i32, b.getI32IntegerAttr(number->second));
      // Statuses are sticky in the call's context (the contract).
      LLVM::CallOp::create(b, loc, launchType,
                           ValueRange{function, context, kernel, grid, block,
                                      shared, params});
      launch.erase();
    }

    SmallVector<ReadDeviceStatusOp> reads;
    module.walk([&](ReadDeviceStatusOp read) { reads.push_back(read); });
    auto readType = LLVM::LLVMFunctionType::get(i32, {ptr, ptr});
    for (ReadDeviceStatusOp read : reads) {
      Location loc = read.getLoc();
      FailureOr<Value> services = getServices(read);
      if (failed(services)) {
        failedAny = true;
        continue;
      }
      b.setInsertionPoint(read);
      Value word = LLVM::IntToPtrOp::create(b, loc, ptr, read.getAddress());
      Value context = loadField(b, loc, *services, kContext);
      Value function = loadField(b, loc, *services, kReadStatus);
      Value status = LLVM::CallOp::create(b, loc, readType,
                                          ValueRange{function, context, word})
                         .getResult();
      read.replaceAllUsesWith(status);
      read.erase();
    }

    for (auto binary :
         llvm::make_early_inc_range(module.getOps<gpu::BinaryOp>()))
      binary.erase();
    if (failedAny)
      return signalPassFailure();

    Builder builder(ctx);
    NamedAttrList fields;
    if (auto existing = module->getAttrOfType<DictionaryAttr>(
            NLDialect::getManifestFieldsAttrName()))
      fields.append(existing.getValue());
    fields.set("services", builder.getI64IntegerAttr(
                               reads.empty() ? kLaunchVersion
                                             : kReadStatusVersion));
    module->setAttr(NLDialect::getManifestFieldsAttrName(),
                    fields.getDictionary(ctx));
  }
};

} // namespace
