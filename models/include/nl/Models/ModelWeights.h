//===- ModelWeights.h - the weights a model function declares ---*- C++ -*-===//
//
// The tensors a weights file must hold for a model: one per function
// argument with role weight (`{nl.weight = "name"}`), under that name, with
// the argument's static shape and element type, and its own initialisation
// (`nl.init`, `nl.init_scale`: nl/Models/SeededWeights.h).
//
//===----------------------------------------------------------------------===//

#ifndef NL_MODELS_MODELWEIGHTS_H
#define NL_MODELS_MODELWEIGHTS_H

#include "nl/Models/SeededWeights.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallVector.h"

#include <string>

namespace mlir::nl::models {

struct WeightSpec {
  std::string name;
  llvm::SmallVector<int64_t> shape;
  /// f64; otherwise f32.
  bool isF64 = false;
  WeightInit init;

  int64_t getNumElements() const;
};

/// The initialisation argument `index` of `function` records (the default
/// without `nl.init` and `nl.init_scale`).
WeightInit getWeightInit(func::FuncOp function, unsigned index);
/// Records `init` on argument `index` (nothing for the default parts).
void setWeightInit(func::FuncOp function, unsigned index,
                   const WeightInit &init);

/// The weights of every function of `module`, in argument order, each name
/// once. Fails, with an error at the argument, on a weight whose shape is not
/// static, whose element type is neither f32 nor f64, or whose name another
/// function declares with another type.
FailureOr<llvm::SmallVector<WeightSpec>> collectWeights(ModuleOp module);

} // namespace mlir::nl::models

#endif // NL_MODELS_MODELWEIGHTS_H
