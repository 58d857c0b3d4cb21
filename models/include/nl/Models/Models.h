//===- Models.h - nl IR builders of the shipped models ----------*- C++ -*-===//
//
// C++ builders that emit the nl IR of whole models from a configuration. The
// files in models/*.mlir are the output of these builders for their default
// configurations (test/unit/ModelBuilderTest.cpp checks that they agree).
//
//===----------------------------------------------------------------------===//

#ifndef NL_MODELS_MODELS_H
#define NL_MODELS_MODELS_H

#include "nl/IR/NLAttrs.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/SmallVector.h"

namespace mlir::nl::models {

/// Self-modifying Titans (semantics doc, section 4) on its normed input h:
/// causal convolution, memories M_k, M_v, M_eta, M_alpha every `chunkOther`
/// tokens and M_mem every `chunkMemory` tokens, each learning by DGD from
/// targets it generates itself, and the output read o = M_mem(q).
struct SelfModifyingTitansConfig {
  int64_t width = 512;
  int64_t heads = 8;
  /// Hidden width of the per-head memory MLPs.
  int64_t memoryHidden = 64;
  int64_t chunkOther = 8;
  int64_t chunkMemory = 64;
  /// Window of the causal convolution.
  int64_t convWindow = 4;
  /// eta_t = etaScale * softplus(M_eta(x_t)).
  double etaScale = 1e-3;
  /// alpha_t = sigmoid(M_alpha(x_t) + retentionBias): a constant offset of
  /// the retention's pre-activation. The paper's (0) starts alpha near 1/2,
  /// which empties every memory within a few tokens; 4 starts it near 0.98.
  double retentionBias = 0.0;
  /// v_t = l2n(M_v(x_t)), normalised like the keys: bounds the
  /// self-generated targets M_r(v_t), which otherwise grow with the memories
  /// once the retention no longer shrinks them.
  bool normalizeValues = false;
  /// eta_t = etaScale * sigmoid(M_eta(x_t)), bounded by etaScale (titans'
  /// max_lr * sigmoid form), instead of etaScale * softplus(M_eta(x_t)),
  /// which the outer optimizer can grow until the inner steps diverge.
  bool boundedEta = false;
  /// When positive, M_mem's own eta scale (the other memories keep
  /// etaScale): large enough for M_mem to store an association in one token,
  /// small enough elsewhere that the memories computing k, v, eta and alpha
  /// do not diverge. 0: etaScale for every memory.
  double memoryEtaScale = 0.0;
  /// M_mem(x) = x + W x, one matrix W [d, d] per head (#nl.mlp of depth 1,
  /// identity residual; weight `mmem_w1`), instead of the 2-layer MLP: DGD on
  /// it is a gated delta rule, which stores an association per token with
  /// far less interference than the small MLP. The other memories stay MLPs.
  bool linearOutputMemory = false;
  /// The stop-gradient on the self-generated targets vhat = M_r(v) cuts the
  /// inner objective only: the outer gradient flows through vhat into v, M_v
  /// and the memories' initial states (without it, M_v gets no outer
  /// gradient at all, since v only feeds the targets).
  bool targetOuterGradient = false;
  /// The causal convolution `conv` starts as a token shift (`nl.init =
  /// "token_shift"`, nl/Models/SeededWeights.h: even channels the previous
  /// token, odd ones the current one) instead of seeded N(0, 1/W^2) taps,
  /// which mix the window's tokens in every channel.
  bool tokenShiftConv = false;
  /// M_k's and M_v's output matrices (`mk_w2`, `mv_w2`) start at their seeded
  /// values times this (`nl.init_scale`). With their identity skip, k and v
  /// start nearly equal (both ~x), so M_mem's first writes carry little; a
  /// larger branch makes them differ from the start.
  double keyValueBranchScale = 1.0;
  /// Activation of the memory MLPs (nested-learning: GELU).
  Activation activation = Activation::SiLU;
  /// Epsilon of the L2 normalisation of q and k (nested-learning: 1e-6).
  double l2Epsilon = 1e-12;
  bool f64 = false;
  /// The function takes a piece of a sequence and carries, as state inputs
  /// and outputs (role `state`), what the next piece needs: every memory's
  /// state `<M>.<param>` [B, H, ...] and its state at its last chunk boundary
  /// `<M>.reference.<param>`, the convolution's last inputs `conv_history`
  /// [B, W - 1, D] and the `position` of the piece. The memories' weights
  /// are then not arguments: the first piece's states are them (per
  /// sequence), its history zeros and its position 0. Built by buildHopeBlock
  /// and buildHopeLM with the self-modifying Titans mixer only.
  bool streaming = false;
  /// The memories never learn: no inner updates, so every read applies a
  /// memory's initial state (its weights) as a fixed MLP. The baseline a
  /// test-time-learning model is compared with (not with streaming: a
  /// memory that never learns has no state to carry).
  bool frozenMemories = false;
};

/// What mixes tokens in a HOPE block, before its CMS.
enum class HopeMixer {
  /// Self-modifying Titans (the HOPE block of the paper).
  SelfModifyingTitans,
  /// Causal softmax attention, W_q/W_k/W_v/W_o over `titans.heads` heads
  /// (HOPE-Attention); the memory options of `titans` are unused.
  Attention,
};

/// A HOPE block: self-modifying Titans (or attention) on the RMS-normed
/// input, its output projection and residual, then a CMS chain.
struct HopeBlockConfig {
  /// The width, heads and element type; the memories when the mixer is
  /// self-modifying Titans.
  SelfModifyingTitansConfig titans;
  HopeMixer mixer = HopeMixer::SelfModifyingTitans;
  llvm::SmallVector<int64_t> cmsChunks = {1, 16, 256};
  int64_t cmsHidden = 2048;
  /// How the CMS blocks combine (semantics section 3); `independent` adds
  /// the mixing weights `cms_mix : [K]`.
  CmsVariant cmsVariant = CmsVariant::Sequential;
  /// Test-time learning (semantics section 3, docs/training.md): empty
  /// keeps the CMS blocks frozen; else block l learns with the rate
  /// cmsLearningRates[l] > 0, one per block (streaming form only: the
  /// blocks' parameters become streaming states, with their gradient sums
  /// and the last token seen).
  llvm::SmallVector<double> cmsLearningRates;
  /// What learning blocks learn from: the task loss, or (Local) their local
  /// objective #nl.l2<> with the block's input as key and target (no last
  /// token then). The nested variant adds each faster block's meta-learnt
  /// initial state and its gradient sum (`<name>.initial`,
  /// `<name>.initial_grad_sum`).
  CmsSignal cmsSignal = CmsSignal::Task;
};

/// A HOPE language model: token embedding -> `layers` HOPE blocks -> RMSNorm
/// -> LM head (untied), logits [B, T, vocabulary]. Layer l's weights and
/// components are named with getHopeLayerScope(l) first ("layer3.w_q").
struct HopeLMConfig {
  HopeBlockConfig block;
  int64_t layers = 24;
  int64_t vocabulary = 32000;
};

/// "layer<l>.".
std::string getHopeLayerScope(int64_t layer);

/// A named HOPE language model configuration and the parameter count it is
/// designed for (docs/models.md).
struct NamedHopeLMConfig {
  const char *name;
  const char *summary;
  /// The documented size; the built model is within 2% of it (tested).
  int64_t targetParameters;
  HopeLMConfig config;
};

/// tiny (tests, the demo), small (gradient checks at T = 64), 340m, 760m, 1.3b.
llvm::ArrayRef<NamedHopeLMConfig> getHopeLMConfigs();

/// A Titans neural memory in titans-pytorch's NeuralMemory form (the
/// chunk-aggregated variant).
struct TitansMemoryConfig {
  int64_t width = 384;
  int64_t heads = 4;
  /// Hidden width of the memory MLP = expansion * head width.
  int64_t expansion = 4;
  int64_t chunk = 64;
  /// Linearisation period B in tokens; 0 for the whole sequence.
  int64_t linearizationPeriod = 64;
  /// Learning rate max_lr * sigmoid(W_lr x).
  double maxLr = 1e-2;
  bool f64 = false;
  /// Epsilon of the RMSNorms (titans-pytorch: the element type's machine
  /// epsilon, nn.RMSNorm's default).
  double rmsEpsilon = 1e-6;
  /// Biases b_lr, b_momentum, b_retention [heads] on the rate projections.
  bool rateBiases = false;
  /// A retrieval gate y_h *= sigmoid(w_gate_h r), w_gate [heads, width].
  bool retrievalGate = false;
  /// The memory's LayerNorm multiplies by mem_norm + normOffset
  /// (titans-pytorch: 1, its state is gamma).
  double normOffset = 0.0;
};

/// Builds `func.func @<name>` at the builder's insertion point.
func::FuncOp buildHopeBlock(OpBuilder &builder, Location loc,
                            const HopeBlockConfig &config,
                            StringRef name = "hope_block");
func::FuncOp buildHopeLM(OpBuilder &builder, Location loc,
                         const HopeLMConfig &config, StringRef name = "hope_lm");
/// `@name(h) -> o`: self-modifying Titans alone, its output read before the
/// output projection (the form of nested-learning's SelfModifyingTitans).
func::FuncOp buildSelfModifyingTitans(OpBuilder &builder, Location loc,
                                      const SelfModifyingTitansConfig &config,
                                      StringRef name = "self_modifying_titans");
func::FuncOp buildTitansMemory(OpBuilder &builder, Location loc,
                               const TitansMemoryConfig &config,
                               StringRef name = "titans_memory");

} // namespace mlir::nl::models

#endif // NL_MODELS_MODELS_H
