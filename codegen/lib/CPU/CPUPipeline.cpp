//===- CPUPipeline.cpp - the phases of a CPU compilation ------------------===//

#include "nl/Codegen/CPUPipeline.h"
#include "nl/Codegen/Passes.h"
#include "nl/Transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;
using namespace mlir::nl;

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

/// Adds an upstream textual pipeline. A pipeline given to a PassManager must
/// not be wrapped in builtin.module(...) (architecture.md).
static void addPipeline(OpPassManager &pm, StringRef pipeline) {
  if (failed(parsePassPipeline(pipeline, pm, llvm::errs())))
    llvm::report_fatal_error("invalid built-in pass pipeline: " + pipeline);
}

static const CompilePhase kPhases[] = {
    {"levels", "level structure verified and recorded; manifest recorded",
     [](OpPassManager &pm, const CompileOptions &options) {
       pm.addPass(createNLVerifyLevels());
       pm.addPass(createNLAssignLevels());
       NLPrepareEntryPointsOptions prepare;
       prepare.modelName = options.modelName;
       prepare.targetTriple = options.target.triple;
       prepare.targetCPU = options.target.cpu;
       prepare.targetFeatures = llvm::join(options.target.features, ",");
       pm.addPass(createNLPrepareEntryPoints(prepare));
     }},
    {"memories", "every memory in chunk-parallel form: a loop over chunks",
     [](OpPassManager &pm, const CompileOptions &) {
       pm.addPass(createNLLowerMemories());
     }},
    {"linalg", "every nl op lowered to linalg, tensor and arith on tensors; "
               "contractions tiled, their register blocks vectorised",
     [](OpPassManager &pm, const CompileOptions &options) {
       pm.addPass(createNLLowerBlocksToLinalg());
       addPipeline(pm, "func.func(convert-elementwise-to-linalg),"
                       "resolve-ranked-shaped-type-result-dims,"
                       "canonicalize,cse");
       pm.addPass(createNLOutlinePreconditions());
       pm.addPass(createNLVectorFriendlyLoopOrder());
       NLTileContractionsOptions tile;
       tile.vectorBytes = options.target.vectorRegisterBytes();
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
    {"loops", "linalg ops lowered to loops, the outer ones parallel",
     [](OpPassManager &pm, const CompileOptions &options) {
       addPipeline(pm, "scf-forall-to-parallel,"
                       "func.func(convert-linalg-to-parallel-loops),"
                       "canonicalize,cse");
       pm.addPass(createNLOuterParallelLoops());
       NLLowerVectorOpsOptions vectors;
       if (options.target.vectorRegisterBytes() >= 64)
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
       addPipeline(pm, "convert-vector-to-scf{full-unroll=true},"
                       "convert-scf-to-openmp,expand-strided-metadata,"
                       "lower-affine,finalize-memref-to-llvm,"
                       "convert-scf-to-cf,convert-vector-to-llvm,"
                       "convert-math-to-llvm,convert-math-to-libm,"
                       "convert-to-llvm,reconcile-unrealized-casts");
       pm.addPass(createNLEmitEntryABI());
     }},
};

ArrayRef<CompilePhase> mlir::nl::getCPUPhases() { return kPhases; }
