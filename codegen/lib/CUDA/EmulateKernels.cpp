//===- EmulateKernels.cpp - nl-cuda-emulate-kernels -----------------------===//
//
// gpu.func @K (outlined, thread-mapped) -> a host function that runs every
// block and thread of a launch (Passes.td says what and why):
//
//   func.func private @hope_emulated_K(<K's arguments>, gx, gy, gz, bx, by,
//                                      bz, shared_bytes) -> i32
//       attributes {llvm.bareptr}
//     if shared_bytes < what the views of dynamic shared memory need: 1
//     scf.parallel (block) in (gx, gy, gz) {
//       workgroup buffers: memref.alloca per block
//       per-thread slots for values that live across a barrier
//       segment: scf.for %t in [0, bx*by*bz) { thread ids from %t; ops }
//       uniform scf.for / scf.if around the segments they hold
//     }
//
//===----------------------------------------------------------------------===//

#include "KernelStructure.h"
#include "nl/Codegen/CUDA/Passes.h"
#include "nl/IR/NLDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

#include <memory>

namespace mlir::nl {
#define GEN_PASS_DEF_NLCUDAEMULATEKERNELS
#include "nl/Codegen/CUDA/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;
using namespace mlir::nl::cuda;

namespace {

/// The bytes of the one "emulated" image: never read (the kernels are
/// functions of the artifact), but present as the manifest says.
constexpr llvm::StringLiteral kImageBytes = "hope-emulated";
constexpr llvm::StringLiteral kImageSymbol = "hope_image_0";
/// The attribute by which convert-func-to-llvm lowers one function's memref
/// arguments as bare pointers (FuncToLLVM.cpp; no header names it).
constexpr llvm::StringLiteral kBarePtrAttrName = "llvm.bareptr";

/// Whether `type` is a memref in GPU workgroup memory.
bool isWorkgroup(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  auto space = memref ? dyn_cast_or_null<gpu::AddressSpaceAttr>(
                            memref.getMemorySpace())
                      : gpu::AddressSpaceAttr();
  return space && space.getValue() == gpu::AddressSpace::Workgroup;
}

/// `type` without a GPU memory space.
Type withoutGPUSpace(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  if (!memref ||
      !isa_and_nonnull<gpu::AddressSpaceAttr>(memref.getMemorySpace()))
    return type;
  return MemRefType::get(memref.getShape(), memref.getElementType(),
                         memref.getLayout());
}

/// Bytes of a static buffer of `type`.
int64_t staticBytes(MemRefType type) {
  return type.getNumElements() *
         llvm::divideCeil(type.getElementTypeBitWidth(), 8);
}

/// Whether the bare-pointer convention passes a memref of `type` as one
/// pointer (what the launches' `gpu-to-llvm{use-bare-pointers-for-kernels}`
/// and `llvm.bareptr` on the emulating function both require).
bool isOnePointer(MemRefType type) {
  return type.hasStaticShape() && type.getLayout().isIdentity();
}

/// The bytes of dynamic shared memory `kernel` reads and writes: the end of
/// its furthest view (each at a constant byte offset with a static shape).
/// Fails at a use it cannot bound.
FailureOr<int64_t> dynamicSharedNeed(gpu::GPUFuncOp kernel) {
  int64_t need = 0;
  WalkResult result = kernel.walk([&](gpu::DynamicSharedMemoryOp shared) {
    for (OpOperand &use : shared->getUses()) {
      auto view = dyn_cast<memref::ViewOp>(use.getOwner());
      APInt shift;
      if (!view || use.getOperandNumber() != 0 ||
          !matchPattern(view.getByteShift(), m_ConstantInt(&shift)) ||
          !view.getType().hasStaticShape()) {
        use.getOwner()->emitError(
            "cannot emulate this use of dynamic shared memory: only views "
            "of a static shape at a constant byte offset are bounded");
        return WalkResult::interrupt();
      }
      need = std::max(need, shift.getSExtValue() + staticBytes(view.getType()));
    }
    return WalkResult::advance();
  });
  if (result.wasInterrupted())
    return failure();
  return need;
}

/// One kernel being rewritten into its emulating function.
class KernelEmulator {
public:
  KernelEmulator(gpu::GPUFuncOp kernel, const KernelUniformity &uniformity,
                 int64_t sharedNeed)
      : kernel(kernel), uniformity(uniformity), sharedNeed(sharedNeed) {}

  /// Builds @hope_emulated_<name> before `kernel`'s gpu.module.
  FailureOr<func::FuncOp> run(OpBuilder &moduleBuilder);

private:
  /// A run of ops between barriers: one scf.for over the block's threads.
  struct Segment {
    scf::ForOp loop;
    Value linear;
    Value threadIds[3];
    IRMapping mapping;
  };

  LogicalResult emitBlock(Block &source, OpBuilder &builder);
  LogicalResult emitControl(Operation &op, OpBuilder &builder);
  Segment &openSegment(OpBuilder &builder, Location loc);
  LogicalResult resolve(Value value, Segment &segment, Location loc);
  Value allocaInBlock(MemRefType type, ValueRange sizes, Location loc);

  gpu::GPUFuncOp kernel;
  const KernelUniformity &uniformity;
  /// The bytes of dynamic shared memory the kernel's views reach.
  int64_t sharedNeed;
  /// Uniform values of the kernel -> their values in the emulating function.
  IRMapping uniformMapping;
  Value blockIds[3], blockDims[3], gridDims[3], threadCount, sharedBytes;
  /// The block's dynamic shared memory, when the kernel uses it.
  Value dynamicShared;
  Block *blockBody = nullptr;
  std::vector<std::unique_ptr<Segment>> segments;
  DenseMap<Operation *, Segment *> segmentOfLoop;
  /// Non-uniform values -> the segment that computed them.
  DenseMap<Value, Segment *> definedIn;
  /// Values kept per thread across a barrier -> their slots.
  DenseMap<Value, Value> slots;
};

FailureOr<func::FuncOp> KernelEmulator::run(OpBuilder &moduleBuilder) {
  Location loc = kernel.getLoc();
  if (!kernel.getBody().hasOneBlock())
    return kernel.emitError("cannot emulate a kernel of several blocks "
                            "(unstructured control flow)");
  if (kernel.getNumPrivateAttributions())
    return kernel.emitError("cannot emulate private attributions");
  MLIRContext *ctx = kernel.getContext();
  IndexType index = IndexType::get(ctx);
  IntegerType i32 = IntegerType::get(ctx, 32);
  SmallVector<Type> inputs;
  for (auto [i, type] : llvm::enumerate(kernel.getArgumentTypes())) {
    auto memref = dyn_cast<MemRefType>(type);
    if (memref && !isOnePointer(memref))
      return kernel.emitError("kernel argument #")
             << i << " (" << type
             << ") is not one pointer under the bare-pointer convention of "
                "the launches: pack it first (nl-cuda-pack-kernel-params)";
    inputs.push_back(withoutGPUSpace(type));
  }
  // Grid, block, dynamic shared memory bytes.
  inputs.append(7, index);
  auto function = func::FuncOp::create(
      moduleBuilder, loc, ("hope_emulated_" + kernel.getName()).str(),
      FunctionType::get(ctx, inputs, {i32}));
  function.setPrivate();
  function->setAttr(kEmulatedKernelAttrName,
                    StringAttr::get(ctx, kernel.getName()));
  // Memrefs as one pointer each, as the launches pass them.
  function->setAttr(kBarePtrAttrName,
                    UnitAttr::get(ctx));
  Block *entry = function.addEntryBlock();
  unsigned numArguments = kernel.getNumArguments();
  for (unsigned i = 0; i < numArguments; ++i)
    uniformMapping.map(kernel.getArgument(i), entry->getArgument(i));
  for (int d = 0; d < 3; ++d) {
    gridDims[d] = entry->getArgument(numArguments + d);
    blockDims[d] = entry->getArgument(numArguments + 3 + d);
  }
  sharedBytes = entry->getArgument(numArguments + 6);

  OpBuilder b = OpBuilder::atBlockBegin(entry);
  // A launch with less dynamic shared memory than the views reach would
  // touch memory beyond the block's buffer: status 1, nothing runs.
  Value enough = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::uge, sharedBytes,
      arith::ConstantIndexOp::create(b, loc, sharedNeed));
  Value status = arith::SelectOp::create(
      b, loc, enough, arith::ConstantIntOp::create(b, loc, i32, 0),
      arith::ConstantIntOp::create(b, loc, i32, 1));
  func::ReturnOp::create(b, loc, status);
  b.setInsertionPoint(entry->getTerminator());
  auto guard = scf::IfOp::create(b, loc, enough, /*withElseRegion=*/false);
  b.setInsertionPointToStart(guard.thenBlock());
  threadCount = arith::MulIOp::create(
      b, loc, arith::MulIOp::create(b, loc, blockDims[0], blockDims[1]),
      blockDims[2]);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto blocks = scf::ParallelOp::create(
      b, loc, ValueRange{zero, zero, zero},
      ValueRange{gridDims[0], gridDims[1], gridDims[2]},
      ValueRange{one, one, one});
  blockBody = blocks.getBody();
  for (int d = 0; d < 3; ++d)
    blockIds[d] = blocks.getInductionVars()[d];

  // Workgroup memory: one buffer per block.
  for (BlockArgument attribution : kernel.getWorkgroupAttributions()) {
    auto type = cast<MemRefType>(withoutGPUSpace(attribution.getType()));
    if (!type.hasStaticShape())
      return kernel.emitError("a workgroup attribution of dynamic shape");
    uniformMapping.map(attribution, allocaInBlock(type, {}, loc));
  }

  OpBuilder body = OpBuilder::atBlockTerminator(blockBody);
  if (failed(emitBlock(kernel.getBody().front(), body)))
    return failure();

  // The GPU's index ops become the emulation's values.
  SmallVector<Operation *> indexOps;
  function.walk([&](Operation *op) {
    if (op->getDialect() && isa<gpu::GPUDialect>(op->getDialect()))
      indexOps.push_back(op);
  });
  for (Operation *op : indexOps) {
    auto dimension = op->getAttrOfType<gpu::DimensionAttr>("dimension");
    int d = dimension ? static_cast<int>(dimension.getValue()) : 0;
    Value replacement;
    if (isa<gpu::BlockIdOp>(op)) {
      replacement = blockIds[d];
    } else if (isa<gpu::BlockDimOp>(op)) {
      replacement = blockDims[d];
    } else if (isa<gpu::GridDimOp>(op)) {
      replacement = gridDims[d];
    } else if (isa<gpu::ThreadIdOp>(op)) {
      Operation *parent = op->getParentOp();
      while (parent && !segmentOfLoop.count(parent))
        parent = parent->getParentOp();
      if (parent)
        replacement = segmentOfLoop[parent]->threadIds[d];
    }
    if (!replacement)
      return op->emitError("cannot emulate '")
             << op->getName() << "' on the CPU";
    op->getResult(0).replaceAllUsesWith(replacement);
    op->erase();
  }

  // Memory spaces mean nothing on the CPU.
  function.walk([](Operation *op) {
    for (Value result : op->getResults())
      result.setType(withoutGPUSpace(result.getType()));
    for (Region &region : op->getRegions())
      for (Block &block : region)
        for (BlockArgument argument : block.getArguments())
          argument.setType(withoutGPUSpace(argument.getType()));
  });
  return function;
}

Value KernelEmulator::allocaInBlock(MemRefType type, ValueRange sizes,
                                    Location loc) {
  OpBuilder b = OpBuilder::atBlockBegin(blockBody);
  return memref::AllocaOp::create(b, loc, type, sizes);
}

KernelEmulator::Segment &KernelEmulator::openSegment(OpBuilder &builder,
                                                     Location loc) {
  auto segment = std::make_unique<Segment>();
  Value zero = arith::ConstantIndexOp::create(builder, loc, 0);
  Value one = arith::ConstantIndexOp::create(builder, loc, 1);
  segment->loop = scf::ForOp::create(builder, loc, zero, threadCount, one);
  OpBuilder b = OpBuilder::atBlockBegin(segment->loop.getBody());
  Value t = segment->loop.getInductionVar();
  segment->linear = t;
  segment->threadIds[0] = arith::RemUIOp::create(b, loc, t, blockDims[0]);
  Value rest = arith::DivUIOp::create(b, loc, t, blockDims[0]);
  segment->threadIds[1] = arith::RemUIOp::create(b, loc, rest, blockDims[1]);
  segment->threadIds[2] = arith::DivUIOp::create(b, loc, rest, blockDims[1]);
  segmentOfLoop[segment->loop] = segment.get();
  segments.push_back(std::move(segment));
  return *segments.back();
}

/// Makes `value` available in `segment`: uniform values as they are,
/// thread-dependent index math recomputed, anything else from the slot its
/// segment stored it in.
LogicalResult KernelEmulator::resolve(Value value, Segment &segment,
                                      Location loc) {
  if (segment.mapping.contains(value))
    return success();
  if (uniformMapping.contains(value)) {
    segment.mapping.map(value, uniformMapping.lookup(value));
    return success();
  }
  OpBuilder b(segment.loop.getBody()->getTerminator());
  Operation *def = value.getDefiningOp();
  if (def && def->getNumRegions() == 0 && isMemoryEffectFree(def)) {
    for (Value operand : def->getOperands())
      if (failed(resolve(operand, segment, loc)))
        return failure();
    b.clone(*def, segment.mapping);
    return success();
  }
  Segment *from = definedIn.lookup(value);
  Type type = value.getType();
  if (!from || !(type.isIntOrIndexOrFloat()))
    return emitError(loc, "cannot keep this value of type ")
           << type << " per thread across a barrier";
  Value &slot = slots[value];
  if (!slot) {
    slot = allocaInBlock(MemRefType::get({ShapedType::kDynamic}, type),
                         threadCount, loc);
    Value computed = from->mapping.lookup(value);
    OpBuilder store(computed.getContext());
    store.setInsertionPointAfterValue(computed);
    memref::StoreOp::create(store, loc, computed, slot, from->linear);
  }
  segment.mapping.map(value,
                      memref::LoadOp::create(b, loc, slot, segment.linear));
  return success();
}

LogicalResult KernelEmulator::emitControl(Operation &op, OpBuilder &builder) {
  Location loc = op.getLoc();
  if (auto loop = dyn_cast<scf::ForOp>(op)) {
    auto emitted = scf::ForOp::create(
        builder, loc, uniformMapping.lookup(loop.getLowerBound()),
        uniformMapping.lookup(loop.getUpperBound()),
        uniformMapping.lookup(loop.getStep()));
    uniformMapping.map(loop.getInductionVar(), emitted.getInductionVar());
    OpBuilder inner = OpBuilder::atBlockTerminator(emitted.getBody());
    return emitBlock(*loop.getBody(), inner);
  }
  auto branch = cast<scf::IfOp>(op);
  bool withElse = !branch.getElseRegion().empty();
  auto emitted = scf::IfOp::create(
      builder, loc, uniformMapping.lookup(branch.getCondition()), withElse);
  OpBuilder thenBuilder =
      OpBuilder::atBlockTerminator(&emitted.getThenRegion().front());
  if (failed(emitBlock(branch.getThenRegion().front(), thenBuilder)))
    return failure();
  if (!withElse)
    return success();
  OpBuilder elseBuilder =
      OpBuilder::atBlockTerminator(&emitted.getElseRegion().front());
  return emitBlock(branch.getElseRegion().front(), elseBuilder);
}

LogicalResult KernelEmulator::emitBlock(Block &source, OpBuilder &builder) {
  Segment *open = nullptr;
  for (Operation &op : source.without_terminator()) {
    Location loc = op.getLoc();
    if (isa<gpu::BarrierOp>(op)) {
      open = nullptr;
      continue;
    }
    if (uniformity.isUniformControl(&op)) {
      open = nullptr;
      if (failed(emitControl(op, builder)))
        return failure();
      continue;
    }
    if (containsBarrier(&op))
      return op.emitError("a barrier inside this op cannot be emulated (run "
                          "nl-cuda-check-races first)");
    // Dynamic shared memory: the launch's bytes, one buffer per block.
    if (isa<gpu::DynamicSharedMemoryOp>(op)) {
      if (!dynamicShared)
        dynamicShared = allocaInBlock(
            MemRefType::get({ShapedType::kDynamic},
                            IntegerType::get(op.getContext(), 8)),
            sharedBytes, loc);
      uniformMapping.map(op.getResult(0), dynamicShared);
      continue;
    }
    // Uniform work: once per block, before the open segment.
    if (op.getNumRegions() == 0 && op.getNumResults() &&
        llvm::all_of(op.getResults(),
                     [&](Value r) { return uniformity.isUniform(r); })) {
      OpBuilder::InsertionGuard guard(builder);
      if (open)
        builder.setInsertionPoint(open->loop);
      builder.clone(op, uniformMapping);
      continue;
    }
    // Workgroup memory: a buffer of the block.
    if (isa<memref::AllocOp, memref::AllocaOp>(op) &&
        isWorkgroup(op.getResult(0).getType())) {
      auto type = cast<MemRefType>(withoutGPUSpace(op.getResult(0).getType()));
      if (!type.hasStaticShape())
        return op.emitError("cannot emulate workgroup memory of dynamic "
                            "shape");
      uniformMapping.map(op.getResult(0), allocaInBlock(type, {}, loc));
      continue;
    }
    if (isa<memref::DeallocOp>(op) &&
        isWorkgroup(op.getOperand(0).getType()))
      continue;
    if (isa<memref::AllocOp>(op))
      return op.emitError("cannot emulate an allocation of global memory "
                          "inside a kernel");
    // Per-thread arithmetic (thread ids, indices): computed in each segment
    // that uses it (resolve), rather than opening a segment of its own.
    if (op.getNumRegions() == 0 && isMemoryEffectFree(&op))
      continue;
    if (!open)
      open = &openSegment(builder, loc);
    llvm::SetVector<Value> used(op.getOperands().begin(),
                                op.getOperands().end());
    getUsedValuesDefinedAbove(op.getRegions(), used);
    for (Value value : used)
      if (failed(resolve(value, *open, loc)))
        return failure();
    OpBuilder b(open->loop.getBody()->getTerminator());
    Operation *clone = b.clone(op, open->mapping);
    (void)clone;
    for (Value result : op.getResults())
      definedIn[result] = open;
  }
  if (!isa<gpu::ReturnOp, scf::YieldOp>(source.getTerminator()) ||
      source.getTerminator()->getNumOperands())
    return source.getTerminator()->emitError(
        "cannot emulate this terminator");
  return success();
}

struct EmulateKernelsPass
    : nl::impl::NLCUDAEmulateKernelsBase<EmulateKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    Builder b(ctx);
    SmallVector<Attribute> kernels;
    SmallVector<gpu::GPUFuncOp> emulated;
    KernelLaunches launches = collectLaunches(module);
    DenseMap<Operation *, SmallVector<gpu::LaunchFuncOp>> launchOps;
    module.walk([&](gpu::LaunchFuncOp launch) {
      if (auto kernel = SymbolTable::lookupNearestSymbolFrom<gpu::GPUFuncOp>(
              launch, launch.getKernelAttr()))
        launchOps[kernel].push_back(launch);
    });
    for (auto gpuModule : module.getOps<gpu::GPUModuleOp>()) {
      for (auto kernel : gpuModule.getOps<gpu::GPUFuncOp>()) {
        if (!kernel.isKernel())
          continue;
        std::optional<ArrayRef<int32_t>> known = kernel.getKnownBlockSize();
        if (!known) {
          kernel.emitError("kernel without a known block size: form kernels "
                           "with nl-cuda-form-kernels");
          return signalPassFailure();
        }
        KernelUniformity uniformity(
            kernel,
            findReadOnlyArguments(kernel, launchesOf(launches, kernel)));
        if (failed(verifyBarrierPlacement(kernel, uniformity)))
          return signalPassFailure();
        FailureOr<int64_t> need = dynamicSharedNeed(kernel);
        if (failed(need))
          return signalPassFailure();
        // The manifest's shared_bytes: what the launches request (the
        // runtime opts the kernel in to it), each at least what the views
        // reach.
        int64_t shared = 0;
        for (gpu::LaunchFuncOp launch : launchOps[kernel]) {
          Value size = launch.getDynamicSharedMemorySize();
          APInt constant(32, 0);
          if (size && !matchPattern(size, m_ConstantInt(&constant))) {
            launch.emitError("the dynamic shared memory of a launch must be "
                             "a constant: the manifest records it per "
                             "kernel");
            return signalPassFailure();
          }
          if (constant.getSExtValue() < *need) {
            launch.emitError("launches kernel '")
                << kernel.getName() << "' with " << constant.getSExtValue()
                << " bytes of dynamic shared memory; its views reach "
                << *need;
            return signalPassFailure();
          }
          shared = std::max(shared, constant.getSExtValue());
        }
        OpBuilder moduleBuilder(gpuModule);
        KernelEmulator emulator(kernel, uniformity, *need);
        FailureOr<func::FuncOp> function = emulator.run(moduleBuilder);
        if (failed(function))
          return signalPassFailure();
        SmallVector<int64_t> block(known->begin(), known->end());
        block.resize(3, 1);
        kernels.push_back(b.getDictionaryAttr(
            {b.getNamedAttr("name", b.getStringAttr(kernel.getName())),
             b.getNamedAttr("block", b.getI64ArrayAttr(block)),
             b.getNamedAttr("shared_bytes", b.getI64IntegerAttr(shared))}));
        emulated.push_back(kernel);
      }
    }
    // The launches still name the kernels: each becomes a declaration
    // marked gpu.kernel (whose arguments gpu.launch_func does not check,
    // so that gpu-to-llvm may expand the launches' memrefs).
    for (gpu::GPUFuncOp kernel : emulated) {
      OpBuilder declare(kernel);
      auto declaration = LLVM::LLVMFuncOp::create(
          declare, kernel.getLoc(), kernel.getName(),
          LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), {}));
      declaration->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                           UnitAttr::get(ctx));
      kernel.erase();
    }

    OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
    std::string bytes = kImageBytes.str();
    bytes.push_back('\0');
    auto type = LLVM::LLVMArrayType::get(builder.getI8Type(), bytes.size());
    LLVM::GlobalOp::create(builder, module.getLoc(), type, /*isConstant=*/true,
                           LLVM::Linkage::External, kImageSymbol,
                           builder.getStringAttr(bytes));
    Attribute image = b.getDictionaryAttr(
        {b.getNamedAttr("format", b.getStringAttr("emulated")),
         b.getNamedAttr("symbol", b.getStringAttr(kImageSymbol)),
         b.getNamedAttr("bytes", b.getI64IntegerAttr(
                                     static_cast<int64_t>(bytes.size())))});
    NamedAttrList fields;
    if (auto existing = module->getAttrOfType<DictionaryAttr>(
            NLDialect::getManifestFieldsAttrName()))
      fields.append(existing.getValue());
    fields.set("kernels", b.getArrayAttr(kernels));
    fields.set("images", b.getArrayAttr({image}));
    module->setAttr(NLDialect::getManifestFieldsAttrName(),
                    fields.getDictionary(ctx));
  }
};

} // namespace
