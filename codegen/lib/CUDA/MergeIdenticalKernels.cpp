//===- MergeIdenticalKernels.cpp - nl-cuda-merge-identical-kernels --------===//
//
// Every layer of a deep model outlines the same kernels again; compiling
// each copy through NVPTX and ptxas made the 24-layer LMs take tens of
// minutes. Kernels equal up to their names become one, launched from every
// site that launched a copy (Passes.td says exactly what "equal" means).
//
//===----------------------------------------------------------------------===//

#include "nl/Codegen/CUDA/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLCUDAMERGEIDENTICALKERNELS
#include "nl/Codegen/CUDA/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;

namespace {

/// A kernel's attributes without its name: two kernels that differ in any
/// other attribute (launch bounds, workgroup attributions, argument
/// attributes) stay apart.
DictionaryAttr attributesButName(gpu::GPUFuncOp kernel) {
  NamedAttrList attributes(kernel->getAttrDictionary());
  attributes.erase(SymbolTable::getSymbolAttrName());
  return attributes.getDictionary(kernel.getContext());
}

/// A hash that equal kernels share: attributes, then every op of the body in
/// order (name, attributes, types; not which values it uses, which
/// `OperationEquivalence` compares when the hashes agree).
llvm::hash_code structuralHash(gpu::GPUFuncOp kernel) {
  llvm::hash_code hash = hash_value(attributesButName(kernel));
  kernel.getBody().walk([&](Operation *op) {
    hash = llvm::hash_combine(
        hash, OperationEquivalence::computeHash(
                  op, OperationEquivalence::ignoreHashValue,
                  OperationEquivalence::ignoreHashValue,
                  OperationEquivalence::IgnoreLocations),
        op->getNumRegions());
  });
  return hash;
}

bool equalUpToName(gpu::GPUFuncOp lhs, gpu::GPUFuncOp rhs) {
  return attributesButName(lhs) == attributesButName(rhs) &&
         OperationEquivalence::isRegionEquivalentTo(
             &lhs.getBody(), &rhs.getBody(),
             OperationEquivalence::IgnoreLocations);
}

struct MergeIdenticalKernelsPass
    : nl::impl::NLCUDAMergeIdenticalKernelsBase<MergeIdenticalKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    auto fields = module->getAttrOfType<DictionaryAttr>(
        NLDialect::getManifestFieldsAttrName());
    DictionaryAttr costs =
        fields ? fields.getAs<DictionaryAttr>("kernel_costs") : DictionaryAttr();
    auto costsOf = [&](gpu::GPUFuncOp kernel) -> Attribute {
      return costs ? costs.get(kernel.getName()) : Attribute();
    };

    // Per gpu.module: kernels in order, grouped by hash; each kernel joins
    // the first earlier kernel of its group it equals.
    llvm::DenseMap<std::pair<StringAttr, StringAttr>, StringAttr> survivors;
    SmallVector<gpu::GPUFuncOp> duplicates;
    for (auto kernels : module.getOps<gpu::GPUModuleOp>()) {
      llvm::DenseMap<llvm::hash_code, SmallVector<gpu::GPUFuncOp>> kept;
      for (auto kernel : kernels.getOps<gpu::GPUFuncOp>()) {
        if (!kernel.isKernel())
          continue;
        SmallVector<gpu::GPUFuncOp> &candidates = kept[structuralHash(kernel)];
        auto same = llvm::find_if(candidates, [&](gpu::GPUFuncOp earlier) {
          return costsOf(earlier) == costsOf(kernel) &&
                 equalUpToName(earlier, kernel);
        });
        if (same == candidates.end()) {
          candidates.push_back(kernel);
          continue;
        }
        survivors[{kernels.getNameAttr(), kernel.getNameAttr()}] =
            same->getNameAttr();
        duplicates.push_back(kernel);
      }
    }

    // One walk redirects every launch (per kernel, SymbolTable's
    // replaceAllSymbolUses would walk the module ~2,000 times), and counts
    // the launches per call: each launch site runs once per call, as the
    // host code has no loops.
    llvm::MapVector<StringAttr, int64_t> launches;
    module.walk([&](gpu::LaunchFuncOp launch) {
      auto found =
          survivors.find({launch.getKernelModuleName(), launch.getKernelName()});
      if (found != survivors.end())
        launch.setKernelAttr(SymbolRefAttr::get(
            launch.getKernelModuleName(),
            {FlatSymbolRefAttr::get(found->second)}));
      ++launches[launch.getKernelName()];
      if (launch->getParentOfType<LoopLikeOpInterface>())
        launch.emitWarning("a launch inside a host loop counts as one launch "
                           "per call in the manifest's `launches`");
    });
    for (gpu::GPUFuncOp duplicate : duplicates)
      duplicate.erase();
    if (!costs)
      return;
    Builder b(context);
    NamedAttrList updated;
    for (NamedAttribute entry : costs) {
      auto found = launches.find(entry.getName());
      if (found == launches.end())
        continue; // Merged away, or no longer launched.
      NamedAttrList facts(cast<DictionaryAttr>(entry.getValue()));
      facts.set("launches", b.getI64IntegerAttr(found->second));
      updated.set(entry.getName(), facts.getDictionary(context));
    }
    NamedAttrList newFields(fields);
    newFields.set("kernel_costs", updated.getDictionary(context));
    module->setAttr(NLDialect::getManifestFieldsAttrName(),
                    newFields.getDictionary(context));
  }
};

} // namespace
