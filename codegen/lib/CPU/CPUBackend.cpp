//===- CPUBackend.cpp - the phases of a CPU compilation -------------------===//

#include "nl/Codegen/CPU/CPUBackend.h"
#include "nl/Codegen/CPU/NLCPUDialect.h"
#include "nl/Codegen/CPU/Passes.h"
#include "nl/Codegen/TargetBackend.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;
using namespace mlir::nl;

/// The name --target selects the backend by, and the manifest's target kind.
static constexpr llvm::StringLiteral kCPUTargetKind = "cpu";

CPUTarget CPUTarget::host() {
  CPUTarget target;
  target.triple = llvm::sys::getProcessTriple();
  target.cpu = llvm::sys::getHostCPUName().str();
  for (auto &feature : llvm::sys::getHostCPUFeatures())
    if (feature.second)
      target.features.push_back(feature.first().str());
  llvm::sort(target.features);
  return target;
}

DictionaryAttr CPUTarget::toFacts(MLIRContext *context) const {
  Builder builder(context);
  SmallVector<Attribute> featureAttrs = llvm::map_to_vector(
      features, [&](const std::string &f) -> Attribute {
        return builder.getStringAttr(f);
      });
  return builder.getDictionaryAttr(
      {builder.getNamedAttr("kind", builder.getStringAttr(kCPUTargetKind)),
       builder.getNamedAttr("triple", builder.getStringAttr(triple)),
       builder.getNamedAttr("cpu", builder.getStringAttr(cpu)),
       builder.getNamedAttr("features", builder.getArrayAttr(featureAttrs))});
}

CPUTarget CPUTarget::fromFacts(DictionaryAttr facts) {
  CPUTarget target;
  if (!facts)
    return target;
  if (auto triple = facts.getAs<StringAttr>("triple"))
    target.triple = triple.str();
  if (auto cpu = facts.getAs<StringAttr>("cpu"))
    target.cpu = cpu.str();
  if (auto features = facts.getAs<ArrayAttr>("features"))
    for (auto feature : features.getAsRange<StringAttr>())
      target.features.push_back(feature.str());
  return target;
}

int64_t CPUTarget::vectorRegisterBytes() const {
  auto has = [&](llvm::StringRef feature) {
    return llvm::is_contained(features, feature);
  };
  if (has("avx512f"))
    return 64;
  if (has("avx"))
    return 32;
  return 16;
}

std::string CPUTarget::featureString() const {
  std::string text;
  for (const std::string &feature : features) {
    if (!text.empty())
      text += ",";
    text += "+" + feature;
  }
  return text;
}

static const CompilePhase kCPUPhases[] = {
    {"tiled", "contractions tiled for threads, caches and registers, their "
              "register blocks vectorised (on tensors)",
     [](OpPassManager &pm, const CompileOptions &options) {
       CPUTarget target = CPUTarget::fromFacts(options.target);
       pm.addPass(createNLVectorFriendlyLoopOrder());
       NLTileContractionsOptions tile;
       tile.vectorBytes = target.vectorRegisterBytes();
       pm.addPass(createNLTileContractions(tile));
       // Full register blocks get static shapes before they are vectorised.
       addPipeline(pm, "canonicalize,cse");
       pm.addPass(createNLVectorizeRegisterTiles());
       addPipeline(pm, "canonicalize,cse");
     }},
    {"bufferized", "tensors replaced by buffers, temporaries deallocated; "
                   "large functions split",
     [](OpPassManager &pm, const CompileOptions &options) {
       addPipeline(pm, "one-shot-bufferize{allow-return-allocs-from-loops bufferize-function-boundaries "
                       "function-boundary-type-conversion=identity-layout-map},"
                       "canonicalize,buffer-deallocation-pipeline,"
                       "convert-bufferization-to-memref,canonicalize,"
                       "func.func(optimize-allocation-liveness)");
       pm.addPass(createNLMemrefCopyToLinalg());
       NLSplitLargeFunctionsOptions split;
       split.maxOps = options.maxOpsPerFunction;
       pm.addPass(createNLSplitLargeFunctions(split));
     }},
    {"loops", "linalg ops lowered to loops, the outer ones parallel (chunk "
              "loops over (batch, head))",
     [](OpPassManager &pm, const CompileOptions &options) {
       CPUTarget target = CPUTarget::fromFacts(options.target);
       addPipeline(pm, "scf-forall-to-parallel,"
                       "func.func(convert-linalg-to-parallel-loops),"
                       "canonicalize,cse");
       pm.addPass(createNLHeadParallelChunkLoops());
       pm.addPass(createNLOuterParallelLoops());
       NLLowerVectorOpsOptions vectors;
       if (target.vectorRegisterBytes() >= 64)
         vectors.transposeLowering =
             vector::VectorTransposeLowering::Shuffle16x16;
       pm.addPass(createNLLowerVectorOps(vectors));
       pm.addPass(createNLApproximateMath());
       pm.addPass(createNLContractFloatOps());
     }},
    {"llvm", "LLVM dialect, with the artifact's exported symbols",
     [](OpPassManager &pm, const CompileOptions &) {
       // memref before scf: the alloca scopes of the OpenMP loop bodies
       // must hold one block when they are lowered.
       // Vector transfers of register blocks become one row each first.
       addPipeline(pm, "convert-vector-to-scf{full-unroll=true}");
       pm.addPass(createNLParallelLoopsToOpenMP());
       addPipeline(pm, "convert-scf-to-openmp,expand-strided-metadata,"
                       "lower-affine,"
                       "finalize-memref-to-llvm{use-generic-functions=true},"
                       "convert-scf-to-cf,convert-vector-to-llvm,"
                       "convert-math-to-llvm,convert-math-to-libm,"
                       "convert-to-llvm,reconcile-unrealized-casts");
       pm.addPass(createNLRouteAllocations());
       pm.addPass(createNLEmitEntryABI());
     }},
};

namespace {
class CPUBackend : public TargetBackend {
public:
  StringRef getName() const override { return kCPUTargetKind; }
  StringRef getDescription() const override {
    return "a shared library for a CPU of the host's architecture "
           "(OpenMP threads, LLVM vectorisation)";
  }

  FailureOr<DictionaryAttr> getTargetFacts(MLIRContext *context,
                                           const CompileOptions &options,
                                           std::string &error) const override {
    if (options.chip == "host")
      return CPUTarget::host().toFacts(context);
    FailureOr<CPUTarget> named = CPUTarget::named(options.chip, error);
    if (failed(named))
      return failure();
    return named->toFacts(context);
  }

  void registerDialects(DialectRegistry &registry) const override {
    registry.insert<NLCPUDialect>();
  }

  ArrayRef<CompilePhase> getPhases() const override { return kCPUPhases; }

  StringRef getTranslationName() const override { return "llvm-ir"; }
  StringRef getTranslationDescription() const override {
    return "LLVM IR optimised for the target (-O)";
  }
  FailureOr<std::string> translate(ModuleOp module,
                                   const CompileOptions &options) const override {
    return translateToOptimizedLLVMIR(
        module, CPUTarget::fromFacts(options.target), options.optLevel);
  }

  LogicalResult serialize(ModuleOp module, const CompileOptions &options,
                          StringRef outputPath) const override {
    return emitSharedLibrary(module, CPUTarget::fromFacts(options.target),
                             options.optLevel, outputPath);
  }
};
} // namespace

void mlir::nl::registerCPUBackend() {
  static bool registered = [] {
    registerTargetBackend(std::make_unique<CPUBackend>());
    return true;
  }();
  (void)registered;
}
