//===- SerializeKernels.cpp - nl-cuda-serialize-kernels -------------------===//
//
// gpu.module (NVVM, one #nvvm.target per chip) -> a cubin per chip and PTX
// per chip, each an exported constant hope_image_<i>; the manifest's
// `kernels` and `images` recorded in nl.manifest_fields.
//
//===----------------------------------------------------------------------===//

#include "Toolkit.h"
#include "nl/Codegen/CUDA/Passes.h"
#include "nl/IR/NLDialect.h"

#include "mlir/Dialect/GPU/IR/CompilationInterfaces.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/Process.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLCUDASERIALIZEKERNELS
#include "nl/Codegen/CUDA/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;

namespace {

/// Static workgroup memory of kernel `kernel`: the address-space-3 globals
/// it takes the address of.
int64_t staticSharedBytes(LLVM::LLVMFuncOp kernel,
                          gpu::GPUModuleOp gpuModule) {
  llvm::SmallDenseSet<StringRef> seen;
  int64_t bytes = 0;
  kernel.walk([&](LLVM::AddressOfOp address) {
    auto global = gpuModule.lookupSymbol<LLVM::GlobalOp>(address.getGlobalName());
    if (!global || global.getAddrSpace() != 3 ||
        !seen.insert(global.getSymName()).second)
      return;
    DataLayout layout = DataLayout::closest(global);
    bytes += layout.getTypeSize(global.getGlobalType());
  });
  return bytes;
}

/// The dynamic shared memory the launches of each kernel request (a
/// constant, the largest of its launches).
FailureOr<llvm::StringMap<int64_t>> dynamicSharedBytes(ModuleOp module) {
  llvm::StringMap<int64_t> bytes;
  WalkResult result = module.walk([&](gpu::LaunchFuncOp launch) {
    Value size = launch.getDynamicSharedMemorySize();
    if (!size)
      return WalkResult::advance();
    APInt constant;
    if (!matchPattern(size, m_ConstantInt(&constant))) {
      launch.emitError("the dynamic shared memory of a launch must be a "
                       "constant: the manifest records it per kernel");
      return WalkResult::interrupt();
    }
    int64_t &entry = bytes[launch.getKernelName().getValue()];
    entry = std::max(entry, constant.getSExtValue());
    return WalkResult::advance();
  });
  if (result.wasInterrupted())
    return failure();
  return bytes;
}

/// The block size the kernel was formed with (gpu.known_block_size, which
/// the NVVM lowering turns into nvvm.reqntid).
SmallVector<int64_t> blockSize(LLVM::LLVMFuncOp kernel) {
  for (StringRef name : {"nvvm.reqntid", "nvvm.maxntid", "gpu.known_block_size"})
    if (auto sizes = kernel->getAttrOfType<DenseI32ArrayAttr>(name)) {
      SmallVector<int64_t> block(sizes.asArrayRef().begin(),
                                 sizes.asArrayRef().end());
      block.resize(3, 1);
      return block;
    }
  return {};
}

struct SerializeKernelsPass
    : nl::impl::NLCUDASerializeKernelsBase<SerializeKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    Builder b(ctx);
    std::string root = cuda::toolkitRoot(toolkit);
    SmallVector<gpu::GPUModuleOp> gpuModules(module.getOps<gpu::GPUModuleOp>());

    FailureOr<llvm::StringMap<int64_t>> dynamicBytes =
        dynamicSharedBytes(module);
    if (failed(dynamicBytes))
      return signalPassFailure();

    // The manifest's kernels: every kernel of every module, in order.
    SmallVector<Attribute> kernels;
    for (gpu::GPUModuleOp gpuModule : gpuModules)
      for (auto function : gpuModule.getOps<LLVM::LLVMFuncOp>()) {
        if (!function->hasAttr(NVVM::NVVMDialect::getKernelFuncAttrName()))
          continue;
        SmallVector<int64_t> block = blockSize(function);
        if (block.empty()) {
          function.emitError("kernel without a known block size: form "
                             "kernels with nl-cuda-form-kernels");
          return signalPassFailure();
        }
        // The runtime opts a kernel in to the dynamic shared memory its
        // launches request; static shared memory counts against the same
        // per-block limit.
        int64_t dynamic = dynamicBytes->lookup(function.getSymName());
        int64_t total = dynamic + staticSharedBytes(function, gpuModule);
        if (sharedLimit > 0 && total > sharedLimit) {
          function.emitError("kernel needs ")
              << total << " bytes of shared memory per block; the chips "
              << "allow " << sharedLimit;
          return signalPassFailure();
        }
        kernels.push_back(b.getDictionaryAttr(
            {b.getNamedAttr("name", b.getStringAttr(function.getSymName())),
             b.getNamedAttr("block", b.getI64ArrayAttr(block)),
             b.getNamedAttr("shared_bytes", b.getI64IntegerAttr(dynamic))}));
      }

    // PTX per chip (NVPTX once per module and chip), then each PTX
    // assembled by ptxas (-v: its report goes to nl-cuda-kernel-resources,
    // which would otherwise run ptxas on the same PTX again). Upstream's
    // binary target would run NVPTX a second time for the cubins.
    SymbolTable symbols(module);
    if (failed(gpu::transformGpuModulesToBinaries(
            module, nullptr,
            gpu::TargetOptions(root, {}, "", "",
                               gpu::CompilationTarget::Assembly,
                               [&]() { return &symbols; }))))
      return signalPassFailure();

    /// One image: its chip and format, its bytes.
    struct Image {
      Location loc;
      StringRef chip;
      bool ptx;
      std::string bytes;
    };
    SmallVector<Image> cubins, ptxImages;
    llvm::StringMap<std::string> reports;
    SmallVector<StringRef> reportChips;
    for (auto binary : module.getOps<gpu::BinaryOp>())
      for (auto object : binary.getObjects().getAsRange<gpu::ObjectAttr>()) {
        auto target = dyn_cast<NVVM::NVVMTargetAttr>(object.getTarget());
        if (!target) {
          binary.emitError("an image for a target other than NVVM");
          return signalPassFailure();
        }
        StringRef ptx = object.getObject().getValue();
        std::string error;
        FailureOr<cuda::PtxasOutput> assembled =
            cuda::runPtxas(root, ptx, target.getChip(), error);
        if (failed(assembled)) {
          binary.emitError("nl-cuda-serialize-kernels: ") << error;
          return signalPassFailure();
        }
        cubins.push_back({binary.getLoc(), target.getChip(), false,
                          std::move(assembled->cubin)});
        // The driver takes PTX as a NUL-terminated string.
        ptxImages.push_back({binary.getLoc(), target.getChip(), true,
                             ptx.str() + '\0'});
        if (!reports.count(target.getChip()))
          reportChips.push_back(target.getChip());
        reports[target.getChip()] += assembled->report;
      }

    // Every image becomes an exported constant: the cubins, then the PTX.
    SmallVector<Attribute> images;
    OpBuilder builder(ctx);
    builder.setInsertionPointToEnd(module.getBody());
    auto embed = [&](const Image &image) {
      std::string symbol = "hope_image_" + std::to_string(images.size());
      auto type =
          LLVM::LLVMArrayType::get(builder.getI8Type(), image.bytes.size());
      LLVM::GlobalOp::create(builder, image.loc, type, /*isConstant=*/true,
                             LLVM::Linkage::External, symbol,
                             builder.getStringAttr(image.bytes));
      images.push_back(b.getDictionaryAttr(
          {b.getNamedAttr("format",
                          b.getStringAttr(image.ptx ? "ptx" : "cubin")),
           b.getNamedAttr("chip", b.getStringAttr(image.chip)),
           b.getNamedAttr("symbol", b.getStringAttr(symbol)),
           b.getNamedAttr("bytes", b.getI64IntegerAttr(static_cast<int64_t>(
                                       image.bytes.size())))}));
    };
    for (const Image &image : cubins)
      embed(image);
    if (withPTX)
      for (const Image &image : ptxImages)
        embed(image);
    NamedAttrList recorded;
    for (StringRef chip : reportChips)
      recorded.set(chip, b.getStringAttr(reports[chip]));

    NamedAttrList fields;
    if (auto existing = module->getAttrOfType<DictionaryAttr>(
            NLDialect::getManifestFieldsAttrName()))
      fields.append(existing.getValue());
    fields.set("kernels", b.getArrayAttr(kernels));
    fields.set("images", b.getArrayAttr(images));
    fields.set("ptxas_reports", recorded.getDictionary(ctx));
    module->setAttr(NLDialect::getManifestFieldsAttrName(),
                    fields.getDictionary(ctx));
  }
};

} // namespace
