//===- CMSChain.cpp - a CMS op as the nl ops it is made of ----------------===//

#include "nl/Codegen/CMSChain.h"

#include "nl/Codegen/TensorBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::nl;

Value nl::buildCMSBranch(OpBuilder &b, Location loc, CMSOp op, Value x,
                         unsigned block) {
  ValueRange params = op.getParams().slice(3 * block, 3);
  Value normed = RMSNormOp::create(b, loc, x, params[0], op.getEpsilonAttr());
  Value hidden = LinearOp::create(b, loc, normed, params[1]);
  Value activated = ActivationOp::create(b, loc, op.getActivation(), hidden);
  return LinearOp::create(b, loc, activated, params[2]);
}

Value nl::buildCMSChain(OpBuilder &b, Location loc, CMSOp op,
                        function_ref<Value(Value, unsigned)> block) {
  unsigned numBlocks = op.getChunks().size();
  if (op.getVariant() != CmsVariant::Independent) {
    Value x = op.getInput();
    for (unsigned l = 0; l < numBlocks; ++l)
      x = block(x, l);
    return x;
  }
  // y = sum_l w_l block_l(x). w_l is read as an input of the product (the
  // slice [l, l + 1) of the weights, contracted), not as a scalar captured
  // by its body, so that nl-differentiate differentiates through it
  // (test-time learning and training take VJPs of this IR).
  TensorBuilder tb(b, loc);
  Value mix = op.getParams().back();
  unsigned rank = cast<RankedTensorType>(op.getType()).getRank();
  std::string dims = std::string("abcdefgh").substr(0, rank);
  std::string spec = dims + ",z->" + dims;
  Value sum;
  for (unsigned l = 0; l < numBlocks; ++l) {
    Value weight = tensor::ExtractSliceOp::create(
        b, loc, mix, ArrayRef<OpFoldResult>{b.getIndexAttr(l)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
    Value scaled = tb.einsum(spec, {block(op.getInput(), l), weight});
    sum = sum ? arith::AddFOp::create(b, loc, sum, scaled).getResult()
              : scaled;
  }
  return sum;
}
