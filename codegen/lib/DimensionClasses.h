//===- DimensionClasses.h - which dynamic sizes are equal -------*- C++ -*-===//

#ifndef NL_CODEGEN_DIMENSIONCLASSES_H
#define NL_CODEGEN_DIMENSIONCLASSES_H

#include "mlir/IR/Value.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir::nl {

/// Groups the dynamic dimensions of a function's tensors that must have the
/// same size, from what the ops of the function imply (e.g. keys and values
/// of an nl.update share batch, heads and tokens). The runtime checks these
/// equalities before calling compiled code, which relies on them.
class DimensionClasses {
public:
  explicit DimensionClasses(FunctionOpInterface function);

  /// A representative of the class of dimension `dim` of `value`.
  std::pair<Value, unsigned> find(Value value, unsigned dim);

private:
  using Key = std::pair<Value, unsigned>;
  void unite(Value a, unsigned dimA, Value b, unsigned dimB);
  void uniteAll(Value a, Value b, unsigned numDims);
  DenseMap<Key, Key> parent;
};

} // namespace mlir::nl

#endif // NL_CODEGEN_DIMENSIONCLASSES_H
