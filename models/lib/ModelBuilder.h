//===- ModelBuilder.h - shared helpers of the model builders ----*- C++ -*-===//

#ifndef NL_MODELS_MODELBUILDER_H
#define NL_MODELS_MODELBUILDER_H

#include "nl/IR/NLOps.h"
#include "nl/Models/SeededWeights.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::nl::models {

/// Builds one function of a model: declare its parameters and results by
/// name, then create the body with the shorthands below. Tensors have one
/// element type throughout (f32 unless given).
class ModelBuilder {
public:
  ModelBuilder(OpBuilder &builder, Location loc, Type elementType = {})
      : builder(builder), loc(loc),
        elementType(elementType ? elementType : builder.getF32Type()) {}
  /// Tensors of f64 or f32.
  ModelBuilder(OpBuilder &builder, Location loc, bool f64)
      : ModelBuilder(builder, loc,
                     f64 ? Type(builder.getF64Type())
                         : Type(builder.getF32Type())) {}

  RankedTensorType tensor(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, elementType);
  }
  Type getElementType() const { return elementType; }
  static constexpr int64_t kDynamic = ShapedType::kDynamic;

  /// Declares the next function argument: data the caller gives (an input)
  /// or a weight bound by name from a weights file; a weight's `init`, when
  /// not the default, is recorded on it (`nl.init`, `nl.init_scale`).
  void addArgument(StringRef name, Type type, StringRef role = "weight",
                   WeightInit init = {});
  void addInput(StringRef name, Type type) { addArgument(name, type, "input"); }
  /// Declares the next function result: a plain output or a state carried
  /// to the next call.
  void addResult(StringRef name, Type type, StringRef role = "output");
  /// Creates `func.func @name` with the declared arguments and results, and
  /// moves the insertion point into its body.
  func::FuncOp beginFunction(StringRef name);
  /// The same with one more result, of `resultType`, named `resultName`.
  func::FuncOp beginFunction(StringRef name, Type resultType,
                             StringRef resultName = "y");
  /// The block argument declared as `name`.
  Value arg(StringRef name) const;

  /// RMSNorm; the epsilon attribute is left out when it is the default.
  Value rmsNorm(Value input, Value scale, double epsilon = 1e-6);
  /// With `history`, the streaming form (the previous pieces' last inputs).
  Value causalConv(Value input, Value weight, Value history = {});
  Value linear(Value input, Value weight, Value bias = {});
  Value gate(Value input, Value gate);
  Value embedding(Value ids, Value table);
  Value splitHeads(Value input, int64_t heads);
  Value mergeHeads(Value input);
  /// L2 normalisation; the epsilon attribute is left out when it is the
  /// default.
  Value l2Normalize(Value input, double epsilon = 1e-12);
  /// A rate `scale * kind(input)`; the scale attribute is left out when it
  /// is the default 1.
  Value rate(Activation kind, Value input, double scale = 1.0);
  /// input + offset for a width-1 input [..., 1] (a rate's pre-activation):
  /// nl.linear with the constant weight 1 and bias `offset`.
  Value addOffset(Value input, double offset);
  Value chunkPool(Value input, int64_t chunk);
  Value stopGradient(Value input);
  Value read(Value memory, Value query, ReadPoint point);
  Value memory(StringRef name, ValueRange init, MemoryType type, int64_t chunk,
               Attribute model, Attribute objective, Attribute rule,
               ChunkAggregatedAttr aggregated = {},
               ValueRange reference = {}, Value position = {});
  void update(Value memory, Value keys, Value values, Value lr, Value retention,
              ValueRange momentum = {});
  /// The memory's state after the last token, one tensor per type.
  ValueRange finalState(Value memory, TypeRange types);

  OpBuilder &getBuilder() { return builder; }
  Location getLoc() const { return loc; }
  MLIRContext *getContext() { return builder.getContext(); }

private:
  OpBuilder &builder;
  Location loc;
  Type elementType;
  /// A function argument or result, with its manifest name and role.
  struct Argument {
    std::string name, role;
    Type type;
    WeightInit init;
  };
  SmallVector<Argument> arguments, results;
  llvm::StringMap<Value> argumentsByName;
};

} // namespace mlir::nl::models

#endif // NL_MODELS_MODELBUILDER_H
