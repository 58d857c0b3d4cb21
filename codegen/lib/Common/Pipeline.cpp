//===- Pipeline.cpp - the target-independent phases -----------------------===//

#include "nl/Codegen/Pipeline.h"
#include "nl/Codegen/Passes.h"
#include "nl/Transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"

using namespace mlir;
using namespace mlir::nl;

void mlir::nl::addPipeline(OpPassManager &pm, StringRef pipeline) {
  if (failed(parsePassPipeline(pipeline, pm, llvm::errs())))
    llvm::report_fatal_error("invalid built-in pass pipeline: " + pipeline);
}

static const CompilePhase kCommonPhases[] = {
    {"levels", "level structure verified and recorded; manifest recorded",
     [](OpPassManager &pm, const CompileOptions &options) {
       pm.addPass(createNLVerifyLevels());
       pm.addPass(createNLAssignLevels());
       NLPrepareEntryPointsOptions prepare;
       prepare.modelName = options.modelName;
       pm.addPass(createNLPrepareEntryPoints(prepare));
     }},
    {"memories", "every memory in chunk-parallel form: a loop over chunks",
     [](OpPassManager &pm, const CompileOptions &) {
       pm.addPass(createNLLowerMemories());
     }},
    {"linalg", "every nl op lowered to linalg, tensor and arith on tensors; "
               "preconditions outlined",
     [](OpPassManager &pm, const CompileOptions &options) {
       // CMS blocks that learn at test time: a token loop (nothing happens
       // without them).
       pm.addPass(createNLBuildTestTimeLearning());
       if (options.train) {
         // The stop-gradients stay until the VJP is made; the second
         // nl-lower-blocks-to-linalg below lowers them to the identity.
         NLLowerBlocksToLinalgOptions keep;
         keep.keepStopGradient = true;
         pm.addPass(createNLLowerBlocksToLinalg(keep));
         addPipeline(pm, "func.func(convert-elementwise-to-linalg),"
                         "canonicalize,cse");
         pm.addPass(createNLBuildTrainStep(*options.train));
       }
       pm.addPass(createNLLowerOptimizers());
       pm.addPass(createNLLowerBlocksToLinalg());
       addPipeline(pm, "func.func(convert-elementwise-to-linalg),"
                       "resolve-ranked-shaped-type-result-dims,"
                       "canonicalize,cse");
       pm.addPass(createNLOutlinePreconditions());
     }},
};

ArrayRef<CompilePhase> mlir::nl::getCommonPhases() { return kCommonPhases; }
