//===- MemrefCopyToLinalg.cpp - nl-memref-copy-to-linalg ------------------===//

#include "nl/Codegen/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLMEMREFCOPYTOLINALG
#include "nl/Codegen/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;

namespace {
struct MemrefCopyToLinalgPass
    : nl::impl::NLMemrefCopyToLinalgBase<MemrefCopyToLinalgPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation()->walk([&](memref::CopyOp copy) { copies.push_back(copy); });
    for (memref::CopyOp copy : copies) {
      OpBuilder builder(copy);
      linalg::CopyOp::create(builder, copy.getLoc(), copy.getSource(),
                             copy.getTarget());
      copy.erase();
    }
  }
};
} // namespace
