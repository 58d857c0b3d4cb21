//===- TileContractions.cpp - nl-cuda-tile-contractions -------------------===//
//
// Each top-level contraction (MatchContraction.cpp) becomes one tiled
// gpu.launch (ContractionKernel.cpp) with its accumulator's fill, the
// elementwise producers of its inputs and its elementwise consumer fused
// (ContractionFusion.cpp); Passes.td says which generics and why.
//
//===----------------------------------------------------------------------===//

#include "nl/Codegen/CUDA/Passes.h"

#include "ContractionFusion.h"
#include "ContractionKernel.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLCUDATILECONTRACTIONS
#include "nl/Codegen/CUDA/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;
using namespace mlir::nl::cuda;

namespace {

struct TileContractionsPass
    : nl::impl::NLCUDATileContractionsBase<TileContractionsPass> {
  using Base::Base;

  unsigned tiled = 0;
  /// Producers and consumers fused into a tiled kernel (erased).
  DenseSet<Operation *> fused;
  /// Fills whose buffer a launch only writes: (launch, buffer).
  DenseSet<std::pair<Operation *, Value>> writeOnly;

  void runOnOperation() override {
    SmallVector<linalg::GenericOp> generics;
    for (auto function : getOperation().getOps<func::FuncOp>())
      if (!function.isExternal())
        for (auto generic :
             function.getBody().front().getOps<linalg::GenericOp>())
          generics.push_back(generic);
    for (linalg::GenericOp generic : generics) {
      if (fused.contains(generic))
        continue;
      std::string why;
      FailureOr<ContractionShape> shape =
          matchContraction(generic, minExtent, why);
      if (failed(shape))
        continue;
      tile(generic, *shape);
    }
    eraseUnreadFills();
  }

  /// Fills whose buffer nothing reads any more (each reader now starts from
  /// the scalar): only the fill, deallocations and launches that only
  /// write it use it.
  void eraseUnreadFills() {
    SmallVector<linalg::FillOp> dead;
    getOperation().walk([&](linalg::FillOp fill) {
      if (!fill.hasPureBufferSemantics())
        return;
      Value buffer = fill.getDpsInits()[0];
      if (!buffer.getDefiningOp<memref::AllocOp>())
        return;
      for (Operation *user : buffer.getUsers())
        if (user != fill && !isa<memref::DeallocOp>(user) &&
            !writeOnly.contains(
                {user->getParentOfType<gpu::LaunchOp>(), buffer}))
          return;
      dead.push_back(fill);
    });
    for (linalg::FillOp fill : dead)
      fill.erase();
  }

  void tile(linalg::GenericOp generic, const ContractionShape &shape) {
    Value c = generic.getDpsInits()[0];
    ContractionFusions fusions;
    InitSource init = findInit(generic, c);
    if (init.deadCopy)
      init.deadCopy.erase();
    fusions.initScalar = init.scalar;
    fusions.epilogue = findEpilogue(generic, c);
    SmallVector<Value> kernelWrites = {c};
    if (fusions.epilogue)
      kernelWrites.push_back(fusions.epilogue.getDpsInits()[0]);
    for (unsigned input : {0u, 1u})
      fusions.prologues[input] = findPrologue(generic, input, kernelWrites);

    gpu::LaunchOp launch = buildTiledContraction(
        generic, shape, fusions, "contraction_" + std::to_string(tiled++));
    if (init.scalar)
      writeOnly.insert({launch, c});
    generic.erase();
    eraseProducers(fusions);
    if (linalg::GenericOp epilogue = fusions.epilogue) {
      fused.insert(epilogue);
      epilogue.erase();
      // The contraction's own output is then unused when it started from a
      // scalar (its prologue reads it otherwise).
      if (c.use_empty())
        c.getDefiningOp()->erase();
    }
  }

  /// The fused producers and their buffers, which only the contraction
  /// (erased) read: one producer may feed both inputs.
  void eraseProducers(const ContractionFusions &fusions) {
    for (linalg::GenericOp producer : fusions.prologues) {
      if (!producer || fused.contains(producer))
        continue;
      fused.insert(producer);
      Value buffer = producer.getDpsInits()[0];
      producer.erase();
      if (buffer.use_empty())
        buffer.getDefiningOp()->erase();
    }
  }
};

} // namespace
