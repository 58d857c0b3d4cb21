//===- NLInterfaces.h - interfaces of the nl dialect ------------*- C++ -*-===//

#ifndef NL_IR_NLINTERFACES_H
#define NL_IR_NLINTERFACES_H

#include "mlir/IR/OpDefinition.h"
#include "nl/IR/NLAttrs.h"

namespace mlir::nl {
/// One component whose state a value carries (see StateReaderOpInterface).
struct StateSource {
  /// The op that declares the component.
  Operation *component;
  /// Which of that op's components.
  unsigned index;
  /// True if the value at token t needs the component's state at token t;
  /// false if it only needs an earlier state (a `chunk_start` read).
  bool sameToken;
};
} // namespace mlir::nl

#include "nl/IR/NLInterfaces.h.inc"

#endif // NL_IR_NLINTERFACES_H
