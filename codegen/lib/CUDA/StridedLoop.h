//===- StridedLoop.h - a loop shared by a block's threads -------*- C++ -*-===//

#ifndef NL_CODEGEN_CUDA_STRIDEDLOOP_H
#define NL_CODEGEN_CUDA_STRIDEDLOOP_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"

namespace mlir::nl::cuda {

/// Emits `for (i = first; i < count; i += stride) body(delinearise(i))` over
/// a row-major iteration space of `extents` (thread-strided when `first` is
/// the thread id and `stride` the block size).
inline void
emitStridedLoop(OpBuilder &b, Location loc, Value first, Value stride,
                ArrayRef<Value> extents,
                function_ref<void(OpBuilder &, ArrayRef<Value>)> body) {
  Value count = arith::ConstantIndexOp::create(b, loc, 1);
  for (Value extent : extents)
    count = arith::MulIOp::create(b, loc, count, extent);
  scf::ForOp::create(
      b, loc, first, count, stride, ValueRange{},
      [&](OpBuilder &nb, Location nloc, Value linear, ValueRange) {
        SmallVector<Value> indices(extents.size());
        Value rest = linear;
        for (int64_t d = static_cast<int64_t>(extents.size()) - 1; d >= 0;
             --d) {
          indices[d] = arith::RemUIOp::create(nb, nloc, rest, extents[d]);
          rest = arith::DivUIOp::create(nb, nloc, rest, extents[d]);
        }
        body(nb, indices);
        scf::YieldOp::create(nb, nloc);
      });
}

} // namespace mlir::nl::cuda

#endif // NL_CODEGEN_CUDA_STRIDEDLOOP_H
