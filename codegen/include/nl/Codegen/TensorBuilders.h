//===- TensorBuilders.h - building linalg on tensors ------------*- C++ -*-===//
//
// Short-hands for the tensor computations the nl lowerings emit: empty and
// zero tensors with dynamic sizes, element-wise and reducing linalg.generic
// ops given by indexing maps and a scalar body.
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_TENSORBUILDERS_H
#define NL_CODEGEN_TENSORBUILDERS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

namespace mlir::nl {

/// The body of a linalg.generic: block arguments in, yielded values out.
using ScalarBody =
    function_ref<Value(OpBuilder &, Location, ValueRange /*args*/)>;

class TensorBuilder {
public:
  TensorBuilder(OpBuilder &builder, Location loc) : b(builder), loc(loc) {}

  /// Sizes of `tensor`, static where known.
  SmallVector<OpFoldResult> sizes(Value tensor);
  /// Size `dim` of `tensor` as an index value.
  Value dim(Value tensor, int64_t dim);

  Value empty(ArrayRef<OpFoldResult> sizes, Type elementType);
  Value filled(ArrayRef<OpFoldResult> sizes, Type elementType, double value);
  Value floatConstant(Type type, double value);
  Value indexConstant(int64_t value);

  /// A linalg.generic over `rank` loops: `inputs` read through
  /// `inputMaps`, one output of `outputSizes` written through `outputMap`
  /// and initialised to `init` (or left uninitialised when `init` is
  /// null and every loop is parallel). Loops listed in `reductions` reduce:
  /// the body receives the running output value last.
  Value generic(ValueRange inputs, ArrayRef<AffineMap> inputMaps,
                ArrayRef<OpFoldResult> outputSizes, AffineMap outputMap,
                Type elementType, ArrayRef<unsigned> reductions,
                std::optional<double> init, ScalarBody body);

  /// Element-wise map over tensors of one shape (the shape of inputs[0]).
  Value map(ValueRange inputs, ScalarBody body);

  /// Sum of term(x) over the last dimension: [..., n] -> [...].
  Value sumLastDim(Value input,
                   function_ref<Value(OpBuilder &, Location, Value)> term =
                       nullptr);

  /// An einsum-style linalg.generic: `spec` names each input's and the
  /// output's dimensions by letter ("bhti,bhoi->bhto"); letters missing from
  /// the output are reduced. Sizes come from the inputs. The default body
  /// multiplies the inputs (and adds to the running sum when reducing); a
  /// custom body receives the input scalars, then the running output value
  /// when reducing, and returns the new value. Reductions start from
  /// `init`.
  Value einsum(StringRef spec, ValueRange inputs, ScalarBody body = nullptr,
               double init = 0.0);

  /// Identity map over `rank` loops, and the map dropping the last loop.
  AffineMap identity(unsigned rank);
  AffineMap dropLast(unsigned rank);

  OpBuilder &builder() { return b; }
  Location location() const { return loc; }

private:
  OpBuilder &b;
  Location loc;
};

/// Scalar math helpers for generic bodies.
Value sigmoidScalar(OpBuilder &b, Location loc, Value x);
/// log(1 + exp(x)) computed without overflow.
Value softplusScalar(OpBuilder &b, Location loc, Value x);
Value siluScalar(OpBuilder &b, Location loc, Value x);
/// The exact (erf) GELU.
Value geluScalar(OpBuilder &b, Location loc, Value x);

} // namespace mlir::nl

#endif // NL_CODEGEN_TENSORBUILDERS_H
