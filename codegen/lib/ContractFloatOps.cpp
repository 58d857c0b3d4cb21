//===- ContractFloatOps.cpp - nl-contract-float-ops -----------------------===//

#include "nl/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLCONTRACTFLOATOPS
#include "nl/Codegen/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;

namespace {
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
  }
};
} // namespace
