//===- ModelCatalog.h - the models and configs hope-models knows -*- C++
//-*-===//

#ifndef HOPE_MODELS_MODELCATALOG_H
#define HOPE_MODELS_MODELCATALOG_H

#include "nl/IR/NLAttrs.h"
#include "nl/Models/MemoryLevel.h"
#include "nl/Models/Models.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>
#include <vector>

namespace hope::models {

/// Options that change one size or type of a config.
enum Override : unsigned {
  kWidth = 1 << 0,
  kHeads = 1 << 1,
  kChunk = 1 << 2,
  kHidden = 1 << 3,
  kDtype = 1 << 4,
  kReadPoint = 1 << 5,
  kLinearize = 1 << 6,
  kMaxLr = 1 << 7,
  kChunkMemory = 1 << 8,
  kEtaScale = 1 << 9,
  kLayers = 1 << 10,
  kCmsVariant = 1 << 11,
  kMixer = 1 << 12,
  kStreaming = 1 << 13,
  kMemorySpec = 1 << 14,
  kCmsLearning = 1 << 15,
  kFrozenMemories = 1 << 16,
  kRetentionBias = 1 << 17,
  kNormalizeValues = 1 << 18,
  kBoundedEta = 1 << 19,
  kMemoryEtaScale = 1 << 20,
  kMemoryModel = 1 << 21,
  kTargetOuterGradient = 1 << 22,
  kConvInit = 1 << 23,
  kKeyValueBranchScale = 1 << 24,
  kCmsSignal = 1 << 25,
  kLastOverride = kCmsSignal,
  /// The options of self-modifying Titans' rates, values, M_mem's model, the
  /// targets' gradient and the initial weights.
  kSelfModifyingRates = kRetentionBias | kNormalizeValues | kBoundedEta |
                        kMemoryEtaScale | kMemoryModel | kTargetOuterGradient |
                        kConvInit | kKeyValueBranchScale,
};

/// The overrides given on the command line (unset: the config's value).
struct Overrides {
  std::optional<int64_t> width, heads, chunk, hidden;
  /// Linearisation period; 0 for the whole sequence.
  std::optional<int64_t> linearize;
  std::optional<bool> f64;
  std::optional<mlir::nl::ReadPoint> readPoint;
  /// titans-memory: the learning rate's bound max_lr.
  std::optional<double> maxLr;
  /// self-modifying-titans: M_mem's chunk size (--chunk sets the others').
  std::optional<int64_t> chunkMemory;
  /// self-modifying-titans: the scale of eta = scale * softplus(M_eta(x)).
  std::optional<double> etaScale;
  /// hope-lm: the number of HOPE blocks.
  std::optional<int64_t> layers;
  /// hope-block, hope-lm: how the CMS blocks combine.
  std::optional<mlir::nl::CmsVariant> cmsVariant;
  /// hope-block, hope-lm: self-modifying Titans or attention (HOPE-Attention).
  std::optional<mlir::nl::models::HopeMixer> mixer;
  /// hope-block: the streaming form (state carried between pieces).
  std::optional<bool> streaming;
  /// hope-lm: CMS test-time learning with these learning rates (one for
  /// every CMS level, or one per level).
  std::optional<std::vector<double>> cmsLearningRates;
  /// hope-lm: what the learning CMS blocks learn from (task or local).
  std::optional<mlir::nl::CmsSignal> cmsSignal;
  /// hope-block, hope-lm, self-modifying-titans: no inner updates.
  std::optional<bool> frozenMemories;
  /// hope-block, hope-lm, self-modifying-titans: alpha = sigmoid(M_alpha(x) +
  /// bias).
  std::optional<double> retentionBias;
  /// hope-block, hope-lm, self-modifying-titans: v = l2n(M_v(x)).
  std::optional<bool> normalizeValues;
  /// hope-block, hope-lm, self-modifying-titans: eta = scale * sigmoid(.).
  std::optional<bool> boundedEta;
  /// hope-block, hope-lm, self-modifying-titans: M_mem's own eta scale.
  std::optional<double> memoryEtaScale;
  /// hope-block, hope-lm, self-modifying-titans: M_mem(x) = x + W x.
  std::optional<bool> linearOutputMemory;
  /// hope-block, hope-lm, self-modifying-titans: the outer gradient flows
  /// through the targets (their stop-gradient cuts the inner objective only).
  std::optional<bool> targetOuterGradient;
  /// hope-block, hope-lm, self-modifying-titans: the convolution starts as a
  /// token shift.
  std::optional<bool> tokenShiftConv;
  /// hope-block, hope-lm, self-modifying-titans: mk_w2 and mv_w2 start at
  /// their seeded values times this.
  std::optional<double> keyValueBranchScale;
  /// memory-level: the whole level, from --memory-spec.
  std::optional<mlir::nl::models::MemoryLevelConfig> memorySpec;

  /// The set of overrides given (a mask of Override).
  unsigned getGiven() const;
};

/// The command-line spelling of one override ("--width").
llvm::StringRef getOverrideFlag(Override override);

struct ConfigInfo {
  const char *name;
  const char *summary;
};

struct ModelInfo {
  const char *name;
  const char *summary;
  /// The first is the default.
  std::vector<ConfigInfo> configs;
  /// The overrides that apply (a mask of Override).
  unsigned overrides;
};

/// Every model, in the order --help lists them.
llvm::ArrayRef<ModelInfo> getModels();
const ModelInfo *findModel(llvm::StringRef name);
const ConfigInfo *findConfig(const ModelInfo &model, llvm::StringRef config);

/// Builds the function of `model` in `config` with `overrides` at the
/// builder's insertion point. Returns an error message for sizes that do not
/// fit (e.g. a width that the heads do not divide); the caller verifies the
/// result.
std::optional<std::string> buildModel(const ModelInfo &model,
                                      const ConfigInfo &config,
                                      const Overrides &overrides,
                                      mlir::OpBuilder &builder,
                                      mlir::Location loc);

} // namespace hope::models

#endif // HOPE_MODELS_MODELCATALOG_H
