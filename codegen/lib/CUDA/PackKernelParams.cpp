//===- PackKernelParams.cpp - nl-cuda-pack-kernel-params ------------------===//
//
// A kernel's memref argument marshalled as a whole descriptor costs
// (3 + 2 * rank) words of the 4 KiB of kernel parameters and as many
// registers; the kernel needs the buffer's address and its dynamic sizes:
//
//   host:   %base, %off, %sizes..., %strides... = extract_strided_metadata %m
//           launch_func @k(%base : memref<T>, dynamic sizes (and offset,
//                          strides for non-identity layouts) : index)
//   kernel: %m = reinterpret_cast %base to offset: [0 | %off],
//                  sizes: [static | %size], strides: [identity | %stride]
//
// A rank-0 memref is one pointer under the bare-pointer convention
// (convert-gpu-to-nvvm and gpu-to-llvm with bare pointers for kernels).
// Scalars every launch of a kernel passes identically become one argument.
//
//===----------------------------------------------------------------------===//

#include "nl/Codegen/CUDA/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/CSE.h"
#include "llvm/ADT/BitVector.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLCUDAPACKKERNELPARAMS
#include "nl/Codegen/CUDA/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;

namespace {

/// How one memref argument is passed once packed: its base and the index
/// scalars that are dynamic in its type.
struct PackedMemref {
  MemRefType type;
  bool identity = true;
  /// Dimensions whose size is passed.
  SmallVector<int64_t> dynamicSizes;
  /// For non-identity layouts: whether the offset is passed, and which
  /// dimensions' strides.
  bool dynamicOffset = false;
  SmallVector<int64_t> dynamicStrides;

  unsigned scalarCount() const {
    return dynamicSizes.size() + (dynamicOffset ? 1 : 0) +
           dynamicStrides.size();
  }
};

/// Whether the bare-pointer convention passes `type` as it is.
bool isBarePointerCompatible(MemRefType type) {
  return type.hasStaticShape() && type.getLayout().isIdentity();
}

std::optional<PackedMemref> planPacking(MemRefType type) {
  if (isBarePointerCompatible(type))
    return std::nullopt;
  PackedMemref plan;
  plan.type = type;
  plan.identity = type.getLayout().isIdentity();
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      plan.dynamicSizes.push_back(d);
  if (!plan.identity) {
    auto [strides, offset] = type.getStridesAndOffset();
    plan.dynamicOffset = ShapedType::isDynamic(offset);
    for (auto [d, stride] : llvm::enumerate(strides))
      if (ShapedType::isDynamic(stride))
        plan.dynamicStrides.push_back(d);
  }
  return plan;
}

MemRefType baseType(MemRefType type) {
  return MemRefType::get({}, type.getElementType(), MemRefLayoutAttrInterface(),
                         type.getMemorySpace());
}

/// The host values a packed argument passes: its base, then its scalars.
SmallVector<Value> hostOperands(OpBuilder &b, Location loc, Value memref,
                                const PackedMemref &plan) {
  auto metadata = memref::ExtractStridedMetadataOp::create(b, loc, memref);
  SmallVector<Value> operands = {metadata.getBaseBuffer()};
  for (int64_t d : plan.dynamicSizes)
    operands.push_back(b.createOrFold<memref::DimOp>(loc, memref, d));
  if (plan.dynamicOffset)
    operands.push_back(metadata.getOffset());
  for (int64_t d : plan.dynamicStrides)
    operands.push_back(metadata.getStrides()[d]);
  return operands;
}

/// The memref of `plan.type` the kernel rebuilds from its base and scalars.
Value rebuildInKernel(OpBuilder &b, Location loc, const PackedMemref &plan,
                      Value base, ValueRange scalars) {
  MemRefType type = plan.type;
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> sizes(rank);
  unsigned next = 0;
  for (int64_t d = 0; d < rank; ++d)
    sizes[d] = type.isDynamicDim(d) ? OpFoldResult(scalars[next++])
                                    : OpFoldResult(b.getIndexAttr(
                                          type.getDimSize(d)));
  OpFoldResult offset = b.getIndexAttr(0);
  SmallVector<OpFoldResult> strides(rank);
  if (plan.identity) {
    // Row-major: a stride is static when every inner size is.
    OpFoldResult stride = b.getIndexAttr(1);
    for (int64_t d = rank - 1; d >= 0; --d) {
      strides[d] = stride;
      if (d == 0)
        break;
      auto staticStride = getConstantIntValue(stride);
      auto staticSize = getConstantIntValue(sizes[d]);
      if (staticStride && staticSize) {
        stride = b.getIndexAttr(*staticStride * *staticSize);
        continue;
      }
      Value strideValue = getValueOrCreateConstantIndexOp(b, loc, stride);
      Value sizeValue = getValueOrCreateConstantIndexOp(b, loc, sizes[d]);
      stride = b.createOrFold<arith::MulIOp>(loc, strideValue, sizeValue);
    }
  } else {
    auto [staticStrides, staticOffset] = type.getStridesAndOffset();
    offset = plan.dynamicOffset ? OpFoldResult(scalars[next++])
                                : OpFoldResult(b.getIndexAttr(staticOffset));
    for (int64_t d = 0; d < rank; ++d)
      strides[d] = ShapedType::isDynamic(staticStrides[d])
                       ? OpFoldResult(scalars[next++])
                       : OpFoldResult(b.getIndexAttr(staticStrides[d]));
  }
  return memref::ReinterpretCastOp::create(b, loc, type, base, offset, sizes,
                                           strides);
}

struct PackKernelParamsPass
    : nl::impl::NLCUDAPackKernelParamsBase<PackKernelParamsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Every kernel with its launches.
    llvm::MapVector<Operation *, SmallVector<gpu::LaunchFuncOp>> launches;
    module.walk([&](gpu::GPUFuncOp kernel) {
      if (kernel.isKernel())
        launches[kernel];
    });
    bool unresolved = false;
    module.walk([&](gpu::LaunchFuncOp launch) {
      auto kernel = SymbolTable::lookupNearestSymbolFrom<gpu::GPUFuncOp>(
          launch, launch.getKernelAttr());
      if (!kernel) {
        launch.emitError("launches a kernel that is not a gpu.func here");
        unresolved = true;
        return;
      }
      launches[kernel].push_back(launch);
    });
    if (unresolved)
      return signalPassFailure();

    for (auto &[op, kernelLaunches] : launches)
      if (failed(pack(cast<gpu::GPUFuncOp>(op), kernelLaunches)))
        return signalPassFailure();

    // Equal scalars (sizes read twice) become one value, then one argument.
    IRRewriter rewriter(&getContext());
    DominanceInfo dominance;
    for (auto function : module.getOps<func::FuncOp>())
      eliminateCommonSubExpressions(rewriter, dominance, function);
    for (auto &[op, kernelLaunches] : launches)
      mergeEqualArguments(cast<gpu::GPUFuncOp>(op), kernelLaunches);
  }

  LogicalResult pack(gpu::GPUFuncOp kernel,
                     ArrayRef<gpu::LaunchFuncOp> kernelLaunches) {
    unsigned count = kernel.getNumArguments();
    SmallVector<std::optional<PackedMemref>> plans(count);
    for (unsigned i = 0; i < count; ++i) {
      auto type = dyn_cast<MemRefType>(kernel.getArgument(i).getType());
      if (!type)
        continue;
      if (type.getMemorySpace() && !isa<gpu::AddressSpaceAttr>(
                                       type.getMemorySpace()))
        return kernel.emitError("kernel argument ")
               << i << " is in memory space " << type.getMemorySpace()
               << ": kernels take global buffers";
      plans[i] = planPacking(type);
    }

    // The new arguments, appended: per packed memref its base, then scalars.
    Location loc = kernel.getLoc();
    IndexType index = IndexType::get(kernel.getContext());
    llvm::BitVector erase(count);
    SmallVector<Type> newTypes;
    for (unsigned i = 0; i < count; ++i) {
      if (!plans[i])
        continue;
      erase.set(i);
      newTypes.push_back(baseType(plans[i]->type));
      newTypes.append(plans[i]->scalarCount(), index);
    }
    if (newTypes.empty())
      return success();
    SmallVector<unsigned> positions(newTypes.size(), count);
    SmallVector<DictionaryAttr> attrs(newTypes.size());
    SmallVector<Location> locs(newTypes.size(), loc);
    if (failed(kernel.insertArguments(positions, newTypes, attrs, locs)))
      return kernel.emitError("cannot add the packed kernel arguments");

    OpBuilder kb = OpBuilder::atBlockBegin(&kernel.getBody().front());
    unsigned next = count;
    for (unsigned i = 0; i < count; ++i) {
      if (!plans[i])
        continue;
      Value base = kernel.getArgument(next);
      ValueRange scalars = kernel.getArguments().slice(
          next + 1, plans[i]->scalarCount());
      next += 1 + plans[i]->scalarCount();
      Value rebuilt = rebuildInKernel(kb, loc, *plans[i], base, scalars);
      kernel.getArgument(i).replaceAllUsesWith(rebuilt);
    }
    erase.resize(kernel.getNumArguments());
    if (failed(kernel.eraseArguments(erase)))
      return kernel.emitError("cannot remove the unpacked kernel arguments");

    for (gpu::LaunchFuncOp launch : kernelLaunches) {
      OpBuilder b(launch);
      SmallVector<Value> operands, appended;
      for (auto [i, operand] : llvm::enumerate(launch.getKernelOperands())) {
        if (!plans[i]) {
          operands.push_back(operand);
          continue;
        }
        llvm::append_range(appended, hostOperands(b, launch.getLoc(), operand,
                                                  *plans[i]));
      }
      llvm::append_range(operands, appended);
      launch.getKernelOperandsMutable().assign(operands);
    }
    return success();
  }

  /// Arguments that every launch passes the same constant, or the same
  /// value as an earlier argument, are replaced by it and removed.
  void mergeEqualArguments(gpu::GPUFuncOp kernel,
                           ArrayRef<gpu::LaunchFuncOp> kernelLaunches) {
    if (kernelLaunches.empty())
      return;
    unsigned count = kernel.getNumArguments();
    llvm::BitVector erase(count);
    // Constants every launch passes become constants of the kernel, which
    // ptxas can then fold (block sizes, extents, strides).
    OpBuilder kb = OpBuilder::atBlockBegin(&kernel.getBody().front());
    for (unsigned i = 0; i < count; ++i) {
      auto constant = gpu::LaunchFuncOp(kernelLaunches.front())
                          .getKernelOperands()[i]
                          .getDefiningOp<arith::ConstantOp>();
      if (!constant ||
          !llvm::all_of(kernelLaunches, [&](gpu::LaunchFuncOp launch) {
            auto other = launch.getKernelOperands()[i]
                             .getDefiningOp<arith::ConstantOp>();
            return other && other.getValue() == constant.getValue();
          }))
        continue;
      kernel.getArgument(i).replaceAllUsesWith(
          kb.clone(*constant)->getResult(0));
      erase.set(i);
    }
    for (unsigned j = 0; j < count; ++j)
      for (unsigned i = 0; i < j && !erase.test(j); ++i) {
        if (erase.test(i))
          continue;
        bool equal = llvm::all_of(kernelLaunches, [&](gpu::LaunchFuncOp l) {
          return l.getKernelOperands()[i] == l.getKernelOperands()[j];
        });
        if (!equal)
          continue;
        kernel.getArgument(j).replaceAllUsesWith(kernel.getArgument(i));
        erase.set(j);
        break;
      }
    if (erase.none())
      return;
    (void)kernel.eraseArguments(erase);
    for (gpu::LaunchFuncOp launch : kernelLaunches) {
      SmallVector<Value> operands;
      for (auto [i, operand] : llvm::enumerate(launch.getKernelOperands()))
        if (!erase.test(i))
          operands.push_back(operand);
      launch.getKernelOperandsMutable().assign(operands);
    }
  }
};

} // namespace
