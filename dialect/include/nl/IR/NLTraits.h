//===- NLTraits.h - op traits of the nl dialect -----------------*- C++ -*-===//
//
// The C++ side of the traits NLOps.td declares (NL_TokenLocal).
//
//===----------------------------------------------------------------------===//

#ifndef NL_IR_NLTRAITS_H
#define NL_IR_NLTRAITS_H

#include "mlir/IR/OpDefinition.h"

// In mlir::OpTrait::nl, as upstream dialects' traits, so that `OpTrait::`
// keeps naming MLIR's traits inside namespace mlir::nl.
namespace mlir::OpTrait::nl {
/// Each token's result depends on that token's operands alone.
template <typename ConcreteType>
class TokenLocal : public TraitBase<ConcreteType, TokenLocal> {};
} // namespace mlir::OpTrait::nl

namespace mlir::nl {
/// True for ops that compute each token from that token alone: nl ops with
/// the TokenLocal trait and elementwise ops of any dialect.
inline bool isTokenLocal(Operation *op) {
  return op->hasTrait<mlir::OpTrait::nl::TokenLocal>() ||
         op->hasTrait<mlir::OpTrait::Elementwise>();
}
} // namespace mlir::nl

#endif // NL_IR_NLTRAITS_H
