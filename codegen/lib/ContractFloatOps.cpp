//===- ContractFloatOps.cpp - nl-contract-float-ops -----------------------===//

#include "nl/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLCONTRACTFLOATOPS
#include "nl/Codegen/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;

namespace {
/// `a * b + c` (or `c + a * b`) with a product used only there, as
/// `llvm.intr.fmuladd`: what C compilers emit under -ffp-contract=on. LLVM
/// makes it one FMA where the target has one and a multiply and an add
/// elsewhere, and vectorises it like any arithmetic.
void fuseMultiplyAdd(arith::AddFOp add) {
  for (unsigned side = 0; side < 2; ++side) {
    auto mul = add->getOperand(side).getDefiningOp<arith::MulFOp>();
    if (!mul || !mul->hasOneUse() || mul->getBlock() != add->getBlock())
      continue;
    OpBuilder builder(add);
    Value fused = LLVM::FMulAddOp::create(builder, add.getLoc(), mul.getLhs(),
                                          mul.getRhs(),
                                          add->getOperand(1 - side));
    add.replaceAllUsesWith(fused);
    add.erase();
    mul.erase();
    return;
  }
}

struct ContractFloatOpsPass
    : nl::impl::NLContractFloatOpsBase<ContractFloatOpsPass> {
  void runOnOperation() override {
    getOperation()->walk([](arith::ArithFastMathInterface op) {
      arith::FastMathFlags flags = arith::FastMathFlags::none;
      if (arith::FastMathFlagsAttr current = op.getFastMathFlagsAttr())
        flags = current.getValue();
      op->setAttr(op.getFastMathAttrName(),
                  arith::FastMathFlagsAttr::get(
                      op->getContext(), flags | arith::FastMathFlags::contract));
    });
    SmallVector<arith::AddFOp> adds;
    getOperation()->walk([&](arith::AddFOp add) {
      if (isa<FloatType>(add.getType()))
        adds.push_back(add);
    });
    for (arith::AddFOp add : adds)
      fuseMultiplyAdd(add);
    // vector.fma would become llvm.intr.fma, a libm call per element on a
    // CPU without FMA; fmuladd is the same fused operation where it has one.
    getOperation()->walk([](vector::FMAOp fma) {
      if (fma.getVectorType().getRank() != 1)
        return;
      OpBuilder builder(fma);
      Value fused = LLVM::FMulAddOp::create(builder, fma.getLoc(), fma.getLhs(),
                                            fma.getRhs(), fma.getAcc());
      fma.replaceAllUsesWith(fused);
      fma.erase();
    });
  }
};
} // namespace
