//===- MemoryModel.h - a memory's model, forward and backward ---*- C++ -*-===//
//
// The model M_theta of an nl.memory (#nl.linear, #nl.mlp) applied to the
// tokens of a chunk at one state, batched over batch, heads and tokens, and
// the per-token gradient of the inner objective with respect to every state
// parameter. Gradients of matrices are kept factored, g_t = rows_t cols_t^T,
// so that rules can weight and sum them as one contraction over tokens (or
// apply them as rank-1 updates) without ever forming one matrix per token.
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_MEMORY_MEMORYMODEL_H
#define NL_CODEGEN_MEMORY_MEMORYMODEL_H

#include "nl/Codegen/TensorBuilders.h"
#include "nl/IR/NLOps.h"

namespace mlir::nl {

/// Epsilon of the LayerNorm inside MLP memories (PyTorch's default).
constexpr double kMemoryLayerNormEpsilon = 1e-5;

class MemoryModel {
public:
  /// Checks that `memory`'s model is one this lowering implements.
  static LogicalResult verifySupported(MemoryOp memory);

  MemoryModel(TensorBuilder &tb, MemoryOp memory);

  /// Everything the backward pass needs of the forward pass.
  struct Forward {
    /// Input of every matrix layer: a_0 = x, a_l = s(z_l).
    SmallVector<Value> layerInputs;
    /// Pre-activations z_l of the hidden layers.
    SmallVector<Value> preActivations;
    /// With norm = post: the normalised branch and 1/std per token.
    Value normalized, inverseStd;
    Value output;
  };

  /// The gradient of one state parameter, per token: rows_t cols_t^T for a
  /// matrix (rows [B,H,n,r], cols [B,H,n,c]) or `vector` [B,H,n,d].
  struct ParamGradient {
    Value rows, cols, vector;
  };

  /// x: [B, H, n, d_in]; params: [B, H, ...] in the model's layout order.
  Forward forward(ArrayRef<Value> params, Value x);
  /// dL/d output per token, [B, H, n, d_out], for the memory's objective.
  Value objectiveGradient(Value output, Value target);
  SmallVector<ParamGradient> backward(ArrayRef<Value> params,
                                      const Forward &forward, Value dOutput);

  /// The parameter whose gradient's columns are the keys and that DGD's
  /// rank-1 term acts on (W for linear, W_1 and W_skip for an MLP).
  bool takesRankOneTerm(unsigned param) const;

private:
  Value activation(Value z);
  Value activationDerivative(Value z);
  Value normScale(Value state);

  TensorBuilder &tb;
  MemoryOp memory;
  Attribute model;
  Type element;
};

} // namespace mlir::nl

#endif // NL_CODEGEN_MEMORY_MEMORYMODEL_H
