//===- EmulatedBackend.cpp - the phases of a cuda-emulated compilation ----===//
//
// --target=cuda-emulated: the cuda backend's phases up to the outlined,
// thread-mapped kernels, then the kernels compiled for this CPU (each block
// an OpenMP iteration, each thread a loop split at barriers) and exported as
// hope_kernel_<name>; the host code is the cuda backend's, launching through
// the service table. The runtime runs the artifact through its CUDA backend
// over its CPU stand-in for the driver (docs/artifact-abi.md, "Emulation").
//
//===----------------------------------------------------------------------===//

#include "nl/Codegen/CPU/CPUBackend.h"
#include "nl/Codegen/CUDA/CUDABackend.h"
#include "nl/Codegen/CUDA/Passes.h"
#include "nl/Codegen/TargetBackend.h"

#include "mlir/IR/Builders.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

using namespace mlir;
using namespace mlir::nl;

/// The name --target selects the backend by, and the manifest's target kind.
static constexpr llvm::StringLiteral kEmulatedTargetKind = "cuda-emulated";
/// The last of the cuda backend's phases this backend shares.
static constexpr llvm::StringLiteral kLastSharedPhase = "outlined";

/// The CPU the artifact (host code and kernels) is compiled for: the `host`
/// entry of the facts.
static CPUTarget hostTarget(DictionaryAttr facts) {
  return CPUTarget::fromFacts(facts ? facts.getAs<DictionaryAttr>("host")
                                    : DictionaryAttr());
}

static const CompilePhase kEmulatedPhases[] = {
    {"emulated", "kernels proven race-free and turned into host functions "
                 "running every block (in parallel) and thread (in turn)",
     [](OpPassManager &pm, const CompileOptions &) {
       pm.addPass(createNLCUDACheckRaces());
       pm.addPass(createNLCUDAEmulateKernels());
       addPipeline(pm, "canonicalize,cse");
     }},
    {"llvm", "host code and kernels in the LLVM dialect, launching through "
             "the service table, kernels exported as hope_kernel_<name>",
     [](OpPassManager &pm, const CompileOptions &) {
       // As the CPU backend: memref before scf, so that the alloca scopes of
       // the OpenMP loop bodies hold one block when they are lowered; and
       // before gpu-to-llvm, whose own memref patterns would call malloc.
       // Launches pass a memref as one pointer, as the cuda target's do
       // (hope_emulated_<name> takes them so: llvm.bareptr).
       addPipeline(pm, "convert-scf-to-openmp,expand-strided-metadata,"
                       "lower-affine,"
                       "finalize-memref-to-llvm{use-generic-functions=true},"
                       "gpu-to-llvm{use-bare-pointers-for-kernels=true},"
                       "convert-scf-to-cf,convert-math-to-llvm,"
                       "convert-math-to-libm,convert-to-llvm,"
                       "reconcile-unrealized-casts");
       NLRouteAllocationsOptions routing;
       routing.device = true;
       pm.addPass(createNLRouteAllocations(routing));
       pm.addPass(createNLCUDALaunchThroughServices());
       pm.addPass(createNLCUDAExportEmulatedKernels());
       pm.addPass(createNLEmitEntryABI());
     }},
};

namespace {
class EmulatedBackend : public TargetBackend {
public:
  StringRef getName() const override { return kEmulatedTargetKind; }
  StringRef getDescription() const override {
    return "the cuda target's kernels compiled for this CPU (blocks on "
           "OpenMP threads, threads as loops), run by the runtime's CUDA "
           "backend over its CPU stand-in for the driver";
  }

  FailureOr<DictionaryAttr> getTargetFacts(MLIRContext *context,
                                           const CompileOptions &options,
                                           std::string &error) const override {
    FailureOr<CPUTarget> host = options.chip == "host"
                                    ? FailureOr<CPUTarget>(CPUTarget::host())
                                    : CPUTarget::named(options.chip, error);
    if (failed(host))
      return failure();
    Builder builder(context);
    return builder.getDictionaryAttr(
        {builder.getNamedAttr("kind",
                              builder.getStringAttr(kEmulatedTargetKind)),
         builder.getNamedAttr("host", host->toFacts(context))});
  }

  void registerDialects(DialectRegistry &registry) const override {
    registerAllToLLVMIRTranslations(registry);
  }

  ArrayRef<CompilePhase> getPhases() const override {
    static const SmallVector<CompilePhase> phases = [] {
      SmallVector<CompilePhase> all;
      const TargetBackend *cuda = lookupTargetBackend("cuda");
      if (!cuda)
        llvm::report_fatal_error("the cuda-emulated target needs the cuda "
                                 "target's phases: register it first");
      for (const CompilePhase &phase : cuda->getPhases()) {
        all.push_back(phase);
        if (phase.name == kLastSharedPhase)
          break;
      }
      all.append(std::begin(kEmulatedPhases), std::end(kEmulatedPhases));
      return all;
    }();
    return phases;
  }

  StringRef getTranslationName() const override { return "llvm-ir"; }
  StringRef getTranslationDescription() const override {
    return "LLVM IR optimised for the host CPU (-O)";
  }
  FailureOr<std::string> translate(ModuleOp module,
                                   const CompileOptions &options) const override {
    return translateToOptimizedLLVMIR(module, hostTarget(options.target),
                                      options.optLevel);
  }

  LogicalResult serialize(ModuleOp module, const CompileOptions &options,
                          StringRef outputPath) const override {
    return emitSharedLibrary(module, hostTarget(options.target),
                             options.optLevel, outputPath);
  }
};
} // namespace

void mlir::nl::registerCUDAEmulatedBackend() {
  static bool registered = [] {
    registerCUDABackend();
    registerTargetBackend(std::make_unique<EmulatedBackend>());
    return true;
  }();
  (void)registered;
}
