//===- CUDABackend.cpp - the phases of a CUDA compilation -----------------===//

#include "nl/Codegen/CUDA/CUDABackend.h"
#include "nl/Codegen/CPU/CPUBackend.h"
#include "nl/Codegen/CUDA/InspectPasses.h"
#include "nl/Codegen/CUDA/Passes.h"
#include "nl/Codegen/TargetBackend.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

using namespace mlir;
using namespace mlir::nl;

/// The name --target selects the backend by, and the manifest's target kind.
static constexpr llvm::StringLiteral kCUDATargetKind = "cuda";
/// The CPU the host code is compiled for: the GPU machine's CPU is not ours
/// to choose.
static constexpr llvm::StringLiteral kHostCPU = "x86-64";

namespace {
/// A chip this backend knows, and its per-block shared memory limit.
struct ChipInfo {
  llvm::StringLiteral name;
  int64_t sharedBytesPerBlock;
};
// PTX ISA 8.0 covers these (sm_90a's features are not used).
constexpr ChipInfo kChips[] = {
    {"sm_80", 163 * 1024}, {"sm_86", 99 * 1024}, {"sm_87", 163 * 1024},
    {"sm_89", 99 * 1024},  {"sm_90", 227 * 1024},
};

const ChipInfo *findChip(StringRef name) {
  for (const ChipInfo &chip : kChips)
    if (chip.name == name)
      return &chip;
  return nullptr;
}
} // namespace

FailureOr<CUDATarget> CUDATarget::parse(StringRef list, std::string &error) {
  CUDATarget target;
  SmallVector<StringRef> names;
  list.split(names, ',', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  if (names.empty()) {
    error = "no GPU chip given (e.g. --gpu=sm_90 or --gpu=sm_80,sm_90)";
    return failure();
  }
  for (StringRef name : names) {
    name = name.trim();
    if (!findChip(name)) {
      error = "unknown GPU chip '" + name.str() + "'; known: ";
      for (const ChipInfo &chip : kChips)
        error += chip.name.str() + (&chip == std::end(kChips) - 1 ? "" : ", ");
      return failure();
    }
    if (llvm::is_contained(target.chips, name)) {
      error = "GPU chip '" + name.str() + "' given twice";
      return failure();
    }
    target.chips.push_back(name.str());
  }
  return target;
}

CUDATarget CUDATarget::fromFacts(DictionaryAttr facts) {
  CUDATarget target;
  if (!facts)
    return target;
  if (auto chips = facts.getAs<ArrayAttr>("chips"))
    for (auto chip : chips.getAsRange<StringAttr>())
      target.chips.push_back(chip.str());
  return target;
}

DictionaryAttr CUDATarget::toFacts(MLIRContext *context) const {
  Builder builder(context);
  SmallVector<Attribute> chipAttrs =
      llvm::map_to_vector(chips, [&](const std::string &chip) -> Attribute {
        return builder.getStringAttr(chip);
      });
  std::string error;
  FailureOr<CPUTarget> host = CPUTarget::named(kHostCPU, error);
  if (failed(host))
    llvm::report_fatal_error("the baseline host CPU is unknown to LLVM: " +
                             Twine(error));
  return builder.getDictionaryAttr(
      {builder.getNamedAttr("kind", builder.getStringAttr(kCUDATargetKind)),
       builder.getNamedAttr("chips", builder.getArrayAttr(chipAttrs)),
       builder.getNamedAttr("ptx_version",
                            builder.getStringAttr(kCUDAPTXVersion)),
       builder.getNamedAttr("host", host->toFacts(context))});
}

int64_t CUDATarget::sharedMemoryPerBlock() const {
  int64_t bytes = INT64_MAX;
  for (const std::string &chip : chips)
    if (const ChipInfo *info = findChip(chip))
      bytes = std::min(bytes, info->sharedBytesPerBlock);
  // No chips: the cuda-emulated target, whose CPU stand-in for the driver
  // has an sm_90's limits (runtime/lib/cuda/EmulatedDriver.h), so that its
  // kernels keep in shared memory what an sm_90 build keeps there.
  return bytes == INT64_MAX ? findChip("sm_90")->sharedBytesPerBlock : bytes;
}

/// The host facts of a CUDA target (the `host` entry of its facts).
static CPUTarget hostTarget(DictionaryAttr facts) {
  return CPUTarget::fromFacts(facts ? facts.getAs<DictionaryAttr>("host")
                                    : DictionaryAttr());
}

static const CompilePhase kCUDAPhases[] = {
    {"fused", "elementwise producers fused into their consumers, where "
              "nothing is computed twice (on tensors)",
     [](OpPassManager &pm, const CompileOptions &) {
       pm.addPass(createNLFuseElementwise());
       addPipeline(pm, "canonicalize,cse");
     }},
    {"bufferized", "tensors replaced by buffers (no deallocation yet)",
     [](OpPassManager &pm, const CompileOptions &) {
       // Identity layouts where bufferization cannot tell one (a value a
       // loop carries, e.g. DGD's gradient through the reversed chunk loop
       // of train_step): nl-cuda-form-kernels needs the buffers a memory
       // stage carries to have one, and the forward models bufferize the
       // same either way.
       addPipeline(pm, "one-shot-bufferize{allow-return-allocs-from-loops "
                       "bufferize-function-boundaries "
                       "function-boundary-type-conversion=identity-layout-map "
                       "unknown-type-conversion=identity-layout-map},"
                       "canonicalize,convert-bufferization-to-memref,"
                       "canonicalize,cse");
       pm.addPass(createNLMemrefCopyToLinalg());
     }},
    {"loops", "contractions outside the memory stages as tiled kernels, "
              "the other linalg ops lowered to parallel loops",
     [](OpPassManager &pm, const CompileOptions &) {
       // Down to 16 columns: a 64-wide tile is then a quarter busy, but
       // still reads each A row once per 64 outputs instead of once per
       // output (the tiny configs' CMS layers; the emulated parity tests
       // run the tiled kernels through them).
       NLCUDATileContractionsOptions tiling;
       tiling.minExtent = 16;
       pm.addPass(createNLCUDATileContractions(tiling));
       addPipeline(pm, "scf-forall-to-parallel,"
                       "func.func(convert-linalg-to-parallel-loops),"
                       "canonicalize,cse");
     }},
    {"kernels", "one gpu.launch per memory stage (chunk loop inside) and per "
                "loop nest outside them, threads mapped",
     [](OpPassManager &pm, const CompileOptions &options) {
       NLCUDAFormKernelsOptions kernels;
       kernels.sharedMemoryBytes =
           CUDATarget::fromFacts(options.target).sharedMemoryPerBlock();
       pm.addPass(createNLCUDADeviceDataPreconditions());
       pm.addPass(createNLCUDAFormKernels(kernels));
       addPipeline(pm, "canonicalize,cse");
       pm.addPass(createNLCUDAKernelCosts());
     }},
    {"outlined", "kernels outlined into one gpu.module, kernels equal up "
                 "to their names merged",
     [](OpPassManager &pm, const CompileOptions &) {
       addPipeline(pm, "gpu-kernel-outlining");
       pm.addPass(createNLCUDAPackKernelParams());
       pm.addPass(createNLCUDARegisterBudget());
       // After packing: each kernel is packed for its own launch, so a
       // merged kernel is the very kernel each layer would have had (same
       // parameters, constants, registers and spills).
       pm.addPass(createNLCUDAMergeIdenticalKernels());
       addPipeline(pm, "canonicalize");
     }},
    {"nvvm", "kernels in the NVVM dialect, one target per chip",
     [](OpPassManager &pm, const CompileOptions &options) {
       addPipeline(pm, "convert-scf-to-cf,expand-strided-metadata,"
                       "lower-affine,canonicalize");
       // NVPTX at -O2: at -O3 the 760m LM's memory stage needs 256
       // registers on sm_90 and spills 8 bytes; at -O2 it takes 254 on both
       // chips with the same loops (-O3's extra hoisting lengthens live
       // ranges; the contraction kernels' PTX is identical).
       for (const std::string &chip :
            CUDATarget::fromFacts(options.target).chips)
         addPipeline(pm, llvm::formatv("nvvm-attach-target{{chip={0} "
                                       "features=+ptx80 O=2}",
                                       chip)
                             .str());
       addPipeline(pm, "gpu.module(strip-debuginfo,"
                       "convert-gpu-to-nvvm{use-bare-ptr-memref-call-conv=true},"
                       "canonicalize,cse,reconcile-unrealized-casts)");
     }},
    {"binaries", "kernels compiled to a cubin per chip and PTX, exported as "
                 "hope_image_<i>",
     [](OpPassManager &pm, const CompileOptions &options) {
       NLCUDASerializeKernelsOptions serialize;
       serialize.sharedLimit =
           CUDATarget::fromFacts(options.target).sharedMemoryPerBlock();
       pm.addPass(createNLCUDASerializeKernels(serialize));
       pm.addPass(createNLCUDAKernelResources());
     }},
    {"llvm", "host code in the LLVM dialect, launching through the service "
             "table, with the artifact's exported symbols",
     [](OpPassManager &pm, const CompileOptions &) {
       // Memrefs first: gpu-to-llvm's own memref patterns would call
       // malloc, which nl-route-allocations refuses.
       addPipeline(pm, "finalize-memref-to-llvm{use-generic-functions},"
                       "gpu-to-llvm{use-bare-pointers-for-kernels=true},"
                       "convert-math-to-llvm,convert-to-llvm,"
                       "reconcile-unrealized-casts");
       NLRouteAllocationsOptions routing;
       routing.device = true;
       pm.addPass(createNLRouteAllocations(routing));
       pm.addPass(createNLCUDALaunchThroughServices());
       pm.addPass(createNLEmitEntryABI());
     }},
};

namespace {
class CUDABackend : public TargetBackend {
public:
  StringRef getName() const override { return kCUDATargetKind; }
  StringRef getDescription() const override {
    return "a shared library for x86-64 hosts with kernels for NVIDIA GPUs "
           "(--gpu chips; cubins and PTX), launched through the runtime";
  }
  StringRef getChipOptionName() const override { return "gpu"; }
  StringRef getDefaultChip() const override { return "sm_80,sm_90"; }

  FailureOr<DictionaryAttr> getTargetFacts(MLIRContext *context,
                                           const CompileOptions &options,
                                           std::string &error) const override {
    FailureOr<CUDATarget> target = CUDATarget::parse(options.chip, error);
    if (failed(target))
      return failure();
    return target->toFacts(context);
  }

  // Serialising kernels translates gpu.modules (LLVM, NVVM) to LLVM IR.
  void registerDialects(DialectRegistry &registry) const override {
    registerAllToLLVMIRTranslations(registry);
  }

  ArrayRef<CompilePhase> getPhases() const override { return kCUDAPhases; }

  StringRef getTranslationName() const override { return "ptx"; }
  StringRef getTranslationDescription() const override {
    return "the kernels' PTX for the first chip";
  }
  FailureOr<std::string> translate(ModuleOp module,
                                   const CompileOptions &options) const override;

  LogicalResult serialize(ModuleOp module, const CompileOptions &options,
                          StringRef outputPath) const override {
    return emitSharedLibrary(module, hostTarget(options.target),
                             options.optLevel, outputPath);
  }
};
} // namespace

/// The PTX image of the first chip, found through the manifest's images.
FailureOr<std::string>
CUDABackend::translate(ModuleOp module, const CompileOptions &options) const {
  auto manifest = module.lookupSymbol<LLVM::GlobalOp>("hope_manifest");
  auto text = manifest ? dyn_cast_or_null<StringAttr>(manifest.getValueOrNull())
                       : StringAttr();
  if (!text)
    return module.emitError("no hope_manifest: the PTX is read after the "
                            "'llvm' phase");
  llvm::Expected<llvm::json::Value> parsed =
      llvm::json::parse(text.getValue().rtrim(StringRef("\0", 1)));
  if (!parsed) {
    llvm::consumeError(parsed.takeError());
    return module.emitError("hope_manifest is not valid JSON");
  }
  CUDATarget target = CUDATarget::fromFacts(options.target);
  const llvm::json::Array *images =
      parsed->getAsObject() ? parsed->getAsObject()->getArray("images")
                            : nullptr;
  if (images && !target.chips.empty())
    for (const llvm::json::Value &image : *images) {
      const llvm::json::Object *object = image.getAsObject();
      if (!object || object->getString("format") != "ptx" ||
          object->getString("chip") != StringRef(target.chips.front()))
        continue;
      std::optional<StringRef> symbol = object->getString("symbol");
      auto global = symbol ? module.lookupSymbol<LLVM::GlobalOp>(*symbol)
                           : LLVM::GlobalOp();
      auto bytes = global ? dyn_cast_or_null<StringAttr>(global.getValueOrNull())
                          : StringAttr();
      if (bytes)
        return bytes.getValue().rtrim(StringRef("\0", 1)).str();
    }
  return module.emitError("the manifest lists no PTX image");
}

void mlir::nl::registerCUDABackend() {
  static bool registered = [] {
    registerTargetBackend(std::make_unique<CUDABackend>());
    return true;
  }();
  (void)registered;
}
