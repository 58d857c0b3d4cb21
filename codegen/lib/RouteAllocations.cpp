//===- RouteAllocations.cpp - nl-route-allocations ------------------------===//
//
// Threads the runtime's service table (runtime/include/hope/artifact.h)
// through every function of the artifact and allocates through it:
//
//   %p = llvm.call @_mlir_memref_to_llvm_alloc(%bytes)
// becomes
//   %alloc = load services->alloc;  %ctx = load services->context
//   %p = llvm.call %alloc(%ctx, %bytes, 16)
//
// The table is a function argument rather than a global so that two calls
// with different sessions, on different threads, share nothing; the parallel
// loops' bodies (omp regions) read it from their function.
//
//===----------------------------------------------------------------------===//

#include "nl/Codegen/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLROUTEALLOCATIONS
#include "nl/Codegen/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;

namespace {

// MLIR's generic allocation functions (FunctionCallUtils.cpp); what
// finalize-memref-to-llvm{use-generic-functions} calls.
constexpr llvm::StringLiteral kGenericAlloc = "_mlir_memref_to_llvm_alloc";
constexpr llvm::StringLiteral kGenericAlignedAlloc =
    "_mlir_memref_to_llvm_aligned_alloc";
constexpr llvm::StringLiteral kGenericFree = "_mlir_memref_to_llvm_free";

// What malloc guarantees on x86-64, and so what MLIR assumes of a generic
// allocation without an alignment.
constexpr int64_t kDefaultAlignment = 16;

// Field numbers of hope_services: {i32 struct_size, i32 version,
// ptr context, ptr alloc, ptr free, ptr device_alloc, ptr device_free, ...}.
enum ServicesField : int32_t {
  kContextField = 2,
  kAllocField = 3,
  kFreeField = 4,
  kDeviceAllocField = 5,
  kDeviceFreeField = 6,
};

struct RouteAllocationsPass
    : nl::impl::NLRouteAllocationsBase<RouteAllocationsPass> {
  using NLRouteAllocationsBase::NLRouteAllocationsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    auto ptrType = LLVM::LLVMPointerType::get(ctx);
    auto i32Type = IntegerType::get(ctx, 32);
    auto i64Type = IntegerType::get(ctx, 64);
    // The table's first fields, as far as the functions used.
    SmallVector<Type> fields = {i32Type, i32Type, ptrType, ptrType, ptrType};
    if (device)
      fields.append({ptrType, ptrType});
    auto tableType = LLVM::LLVMStructType::getLiteral(ctx, fields);
    StringAttr marker = StringAttr::get(ctx, NLDialect::getServicesAttrName());

    // Every function with a body gets the table as its last argument.
    llvm::SmallPtrSet<Operation *, 32> defined;
    for (auto function : module.getOps<LLVM::LLVMFuncOp>()) {
      if (function.isExternal())
        continue;
      if (function.isVarArg()) {
        function.emitError("cannot pass the service table to a variadic "
                           "function");
        return signalPassFailure();
      }
      // By hand: FunctionOpInterface::insertArgument refuses llvm.func.
      LLVM::LLVMFunctionType type = function.getFunctionType();
      SmallVector<Type> params(type.getParams());
      params.push_back(ptrType);
      function.setFunctionType(LLVM::LLVMFunctionType::get(
          type.getReturnType(), params, type.isVarArg()));
      function.getBody().front().addArgument(ptrType, function.getLoc());
      function.setArgAttr(params.size() - 1, marker, UnitAttr::get(ctx));
      defined.insert(function);
    }

    WalkResult result = module.walk([&](LLVM::CallOp call) -> WalkResult {
      auto function = call->getParentOfType<LLVM::LLVMFuncOp>();
      if (!function || !defined.contains(function))
        return WalkResult::advance();
      Value services = function.getArguments().back();
      std::optional<StringRef> callee = call.getCallee();
      if (!callee)
        return WalkResult::advance();
      if (Operation *target = module.lookupSymbol(*callee);
          target && defined.contains(target)) {
        call.getCalleeOperandsMutable().append(services);
        return WalkResult::advance();
      }
      if (*callee == "malloc" || *callee == "free" ||
          *callee == "aligned_alloc") {
        call.emitError("calls '")
            << *callee
            << "' directly: lower memrefs with "
               "finalize-memref-to-llvm{use-generic-functions=true} so that "
               "every allocation goes through the service table";
        return WalkResult::interrupt();
      }
      if (*callee != kGenericAlloc && *callee != kGenericAlignedAlloc &&
          *callee != kGenericFree)
        return WalkResult::advance();

      OpBuilder builder(call);
      Location loc = call.getLoc();
      auto field = [&](ServicesField index) -> Value {
        Value address = LLVM::GEPOp::create(
            builder, loc, ptrType, tableType, services,
            ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(index)});
        return LLVM::LoadOp::create(builder, loc, ptrType, address);
      };
      Value context = field(kContextField);
      ValueRange operands = call.getArgOperands();
      if (*callee == kGenericFree) {
        Value fn = field(device ? kDeviceFreeField : kFreeField);
        auto type = LLVM::LLVMFunctionType::get(
            LLVM::LLVMVoidType::get(ctx), {ptrType, ptrType});
        LLVM::CallOp::create(builder, loc, type,
                             ValueRange{fn, context, operands[0]});
        call.erase();
        return WalkResult::advance();
      }
      if (device) {
        // device_alloc(context, bytes): the driver aligns to 256 bytes, more
        // than any alignment MLIR asks for.
        Value fn = field(kDeviceAllocField);
        auto type = LLVM::LLVMFunctionType::get(ptrType, {ptrType, i64Type});
        auto routed = LLVM::CallOp::create(
            builder, loc, type, ValueRange{fn, context, operands.back()});
        call.getResult().replaceAllUsesWith(routed.getResult());
        call.erase();
        return WalkResult::advance();
      }
      Value bytes, alignment;
      if (*callee == kGenericAlloc) {
        bytes = operands[0];
        alignment = LLVM::ConstantOp::create(
            builder, loc, i64Type, builder.getI64IntegerAttr(kDefaultAlignment));
      } else {
        alignment = operands[0];
        bytes = operands[1];
      }
      Value fn = field(kAllocField);
      auto type = LLVM::LLVMFunctionType::get(ptrType,
                                              {ptrType, i64Type, i64Type});
      auto routed = LLVM::CallOp::create(
          builder, loc, type, ValueRange{fn, context, bytes, alignment});
      call.getResult().replaceAllUsesWith(routed.getResult());
      call.erase();
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();

    // The generic functions' declarations are dead now.
    for (StringRef name : {kGenericAlloc, kGenericAlignedAlloc, kGenericFree})
      if (auto declaration = module.lookupSymbol<LLVM::LLVMFuncOp>(name))
        if (declaration.isExternal() &&
            SymbolTable::symbolKnownUseEmpty(declaration, module))
          declaration.erase();
  }
};

} // namespace
