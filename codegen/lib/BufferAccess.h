//===- BufferAccess.h - the elements an access touches ----------*- C++ -*-===//
//
// A load or store through views (subviews, reshapes, casts) reaches some
// buffer (its root) at indices that are, per dimension of the root, one
// value or something else (a sum, a range spanned by a vector). Used to
// tell whether a memory's chunk loop touches each (batch, head) slice only
// at that slice's own indices, whatever the target.
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_BUFFERACCESS_H
#define NL_CODEGEN_BUFFERACCESS_H

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>

namespace mlir::nl {

/// One index of a root dimension: zero, exactly `value`, or unknown.
struct RootIndex {
  Value value;
  bool zero = false;
  bool isValue() const { return static_cast<bool>(value); }
};

/// What a load or store touches: the buffer at the end of its views, and the
/// index of each of that buffer's dimensions.
struct BufferAccess {
  Operation *op = nullptr;
  Value root;
  SmallVector<RootIndex> indices;
  bool writes = false;
};

/// The access of `op` when it is a memref or vector load or store
/// (memref.load/store, vector.transfer_read/write, vector.load/store);
/// std::nullopt for any other op. Views that the tracing does not know end
/// the trace: the view itself is then the root.
std::optional<BufferAccess> traceBufferAccess(Operation *op);

/// The buffer at the end of `value`'s views (any ViewLikeOpInterface op).
Value rootBuffer(Value value);

} // namespace mlir::nl

#endif // NL_CODEGEN_BUFFERACCESS_H
