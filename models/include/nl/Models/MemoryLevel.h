//===- MemoryLevel.h - one associative memory level as a function -*- C++
//-*-===//
//
// A builder for the building block of nested learning (semantics doc,
// section 2): one `nl.memory` with one `nl.update`, one `nl.read` and its
// `nl.final_state`, as a function the compiler can compile on its own. It
// covers what the dialect can say about a memory; test/parity/memory_ir.py
// writes the same kind of function for the parity tests.
//
//===----------------------------------------------------------------------===//

#ifndef NL_MODELS_MEMORYLEVEL_H
#define NL_MODELS_MEMORYLEVEL_H

#include "nl/IR/NLAttrs.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include <optional>
#include <string>

namespace mlir::nl::models {

/// One memory level. The defaults are a small linear memory learning by
/// momentum GD on the L2 objective, token by token.
struct MemoryLevelConfig {
  /// The memory's name; its weights and states are "<name>.<param>".
  std::string name = "M";
  int64_t heads = 2;
  /// Widths per head: keys and queries are [B, H, T, inputWidth], values
  /// and reads [B, H, T, outputWidth].
  int64_t inputWidth = 8;
  int64_t outputWidth = 8;
  /// Element type of every tensor.
  enum class Dtype { F32, F64 } dtype = Dtype::F32;

  /// The model: `#nl.linear`, or `#nl.mlp<depth, hidden, activation,
  /// residual, norm>`.
  enum class Model { Linear, MLP } model = Model::Linear;
  int64_t depth = 2;
  int64_t hidden = 16;
  Activation activation = Activation::SiLU;
  Residual residual = Residual::Identity;
  MemoryNorm norm = MemoryNorm::None;

  /// The inner objective: `#nl.l2<reduction, half>` or `#nl.dot`.
  enum class Objective { L2, Dot } objective = Objective::L2;
  Reduction reduction = Reduction::Sum;
  bool half = false;

  /// The rule: `#nl.momentum_gd<order, newton_schulz, lr, retention,
  /// momentum>` or `#nl.dgd<momentum, step_size, lr, retention>`.
  enum class Rule { MomentumGD, DGD } rule = Rule::MomentumGD;
  /// Momentum order of momentum GD (0: plain gradient descent).
  int64_t order = 1;
  bool newtonSchulz = false;
  /// DGD with gradient momentum (one momentum rate).
  bool dgdMomentum = false;
  StepSize stepSize = StepSize::Plain;
  RateGranularity lrGranularity = RateGranularity::Token;
  RateGranularity retentionGranularity = RateGranularity::Token;
  /// Momentum GD only (DGD's momentum rate follows the token granularity).
  RateGranularity momentumGranularity = RateGranularity::Token;

  /// Chunk size C: the memory updates every C tokens.
  int64_t chunk = 1;
  /// Chunk-aggregated variant with this linearisation period (a multiple of
  /// the chunk size, 0 for the whole sequence); none for the token variant.
  std::optional<int64_t> linearizationPeriod;
  /// Which state the read of the queries sees.
  ReadPoint readPoint = ReadPoint::After;
  /// Whether the function takes a retention rate (absent means 1).
  bool retention = true;

  /// The number of momentum rates (and buffers per parameter) of the rule.
  int64_t getMomentumOrder() const;
};

/// Builds, at the builder's insertion point,
///
///   func.func @<name>(keys, values, lr, [retention], [momentum0..], queries
///                     {nl.input}, <memory>.<param>... {nl.weight})
///       -> (y {nl.output}, <memory>.<param>... {nl.state})
///
/// with one initial state tensor [H, ...] per parameter of the model's state
/// layout (getMemoryStateLayout) and the final states [B, H, ...]. Rates are
/// [B, H, T] or, per chunk, [B, H, ceil(T/C)]; batch and length are dynamic.
/// The result may not verify if the configuration is inconsistent (e.g. an
/// identity residual between different widths): verify it.
func::FuncOp buildMemoryLevel(OpBuilder &builder, Location loc,
                              const MemoryLevelConfig &config,
                              StringRef name = "memory_level");

/// The attributes of the memory `config` describes.
Attribute getMemoryModelAttr(MLIRContext *context,
                             const MemoryLevelConfig &config);
Attribute getMemoryObjectiveAttr(MLIRContext *context,
                                 const MemoryLevelConfig &config);
Attribute getMemoryRuleAttr(MLIRContext *context,
                            const MemoryLevelConfig &config);

} // namespace mlir::nl::models

#endif // NL_MODELS_MEMORYLEVEL_H
