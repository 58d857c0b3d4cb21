//===- ModelCatalog.cpp - the models and configs hope-models knows --------===//
//
// Each model is a builder of models/ with named configurations. `default`
// configurations are the shipped models/*.mlir; the others are small, for
// tests.
//
//===----------------------------------------------------------------------===//

#include "ModelCatalog.h"

#include "nl/Models/MemoryLevel.h"
#include "nl/Models/Models.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FormatVariadic.h"

#include <limits>

using namespace mlir;
using namespace mlir::nl;
using namespace mlir::nl::models;
using namespace hope::models;

unsigned Overrides::getGiven() const {
  unsigned given = 0;
  given |= width ? kWidth : 0;
  given |= heads ? kHeads : 0;
  given |= chunk ? kChunk : 0;
  given |= hidden ? kHidden : 0;
  given |= f64 ? kDtype : 0;
  given |= readPoint ? kReadPoint : 0;
  given |= linearize ? kLinearize : 0;
  given |= maxLr ? kMaxLr : 0;
  given |= chunkMemory ? kChunkMemory : 0;
  given |= etaScale ? kEtaScale : 0;
  given |= layers ? kLayers : 0;
  given |= cmsVariant ? kCmsVariant : 0;
  given |= mixer ? kMixer : 0;
  given |= streaming ? kStreaming : 0;
  given |= memorySpec ? kMemorySpec : 0;
  given |= cmsLearningRates ? kCmsLearning : 0;
  given |= cmsSignal ? kCmsSignal : 0;
  given |= frozenMemories ? kFrozenMemories : 0;
  given |= retentionBias ? kRetentionBias : 0;
  given |= normalizeValues ? kNormalizeValues : 0;
  given |= boundedEta ? kBoundedEta : 0;
  given |= memoryEtaScale ? kMemoryEtaScale : 0;
  given |= linearOutputMemory ? kMemoryModel : 0;
  given |= targetOuterGradient ? kTargetOuterGradient : 0;
  given |= tokenShiftConv ? kConvInit : 0;
  given |= keyValueBranchScale ? kKeyValueBranchScale : 0;
  return given;
}

llvm::StringRef hope::models::getOverrideFlag(Override override) {
  switch (override) {
  case kWidth:
    return "--width";
  case kHeads:
    return "--heads";
  case kChunk:
    return "--chunk";
  case kHidden:
    return "--hidden";
  case kDtype:
    return "--dtype";
  case kReadPoint:
    return "--read-point";
  case kLinearize:
    return "--linearize";
  case kMaxLr:
    return "--max-lr";
  case kChunkMemory:
    return "--chunk-memory";
  case kEtaScale:
    return "--eta-scale";
  case kLayers:
    return "--layers";
  case kCmsVariant:
    return "--cms";
  case kMixer:
    return "--mixer";
  case kStreaming:
    return "--streaming";
  case kMemorySpec:
    return "--memory-spec";
  case kCmsLearning:
    return "--cms-learning";
  case kCmsSignal:
    return "--cms-signal";
  case kFrozenMemories:
    return "--frozen-memories";
  case kRetentionBias:
    return "--retention-bias";
  case kNormalizeValues:
    return "--normalize-values";
  case kBoundedEta:
    return "--bounded-eta";
  case kMemoryEtaScale:
    return "--memory-eta-scale";
  case kMemoryModel:
    return "--memory-model";
  case kTargetOuterGradient:
    return "--target-outer-gradient";
  case kConvInit:
    return "--conv-init";
  case kKeyValueBranchScale:
    return "--kv-branch-scale";
  }
  return "?";
}

/// The named configs of models/ (HopeLMConfigs.cpp), as --help lists them.
static std::vector<ConfigInfo> getHopeLMConfigInfos() {
  std::vector<ConfigInfo> infos;
  for (const NamedHopeLMConfig &named : getHopeLMConfigs())
    infos.push_back({named.name, named.summary});
  return infos;
}

llvm::ArrayRef<ModelInfo> hope::models::getModels() {
  static const std::vector<ModelInfo> models = {
      {"hope-block",
       "a HOPE block: self-modifying Titans, then a CMS chain (@hope_block)",
       {{"default", "models/hope_block.mlir: width 512, 8 heads, C_other 8, "
                    "C_mem 64, CMS 1/16/256 of hidden 2048"},
        {"tiny", "width 32, 2 heads, memory hidden 16, C_other 2, C_mem 4, "
                 "CMS 1/4/8 of hidden 64"},
        {"small", "hope-lm small's block: width 64, 4 heads, memory hidden 16, "
                  "C_other 4, C_mem 16, CMS 1/4/16 of hidden 128"}},
       kWidth | kHeads | kHidden | kChunk | kChunkMemory | kEtaScale |
           kCmsVariant | kMixer | kStreaming | kFrozenMemories | kDtype |
           kSelfModifyingRates},
      {"hope-lm",
       "a HOPE language model: embedding, HOPE blocks, RMSNorm, LM head "
       "(@hope_lm(tokens) -> logits)",
       getHopeLMConfigInfos(),
       kEtaScale | kDtype | kLayers | kCmsVariant | kMixer | kStreaming |
           kCmsLearning | kCmsSignal | kFrozenMemories | kSelfModifyingRates},
      {"self-modifying-titans",
       "self-modifying Titans alone, o = M_mem(q) before the output "
       "projection (@self_modifying_titans(h) -> o)",
       {{"default", "the HOPE block's: width 512, 8 heads, memory hidden 64, "
                    "C_other 8, C_mem 64, SiLU"},
        {"tiny", "width 32, 2 heads, memory hidden 16, C_other 2, C_mem 4"},
        {"small", "hope-lm small's: width 64, 4 heads, memory hidden 16, "
                  "C_other 4, C_mem 16"},
        {"nested-learning",
         "nested-learning 0.2.0's SelfModifyingTitans (defaults): one head, "
         "width 64, memory hidden = width, C_other 1, C_mem = C_other, eta "
         "scale 1e-3, GELU memories, q and k normalised with epsilon 1e-6; "
         "weights from tools/export_weights.py nested-learning"}},
       kWidth | kHeads | kHidden | kChunk | kChunkMemory | kEtaScale | kDtype |
           kFrozenMemories | kSelfModifyingRates},
      {"titans-memory",
       "titans-pytorch's NeuralMemory, chunk-aggregated (@titans_memory)",
       {{"default", "models/titans_memory.mlir: width 384, 4 heads, chunk 64, "
                    "linearisation period 64"},
        {"tiny", "width 32, 2 heads, expansion 2, chunk 4, linearisation "
                 "period 8"},
        {"small", "titans-pytorch's options at width 64, 4 heads, expansion "
                  "2, chunk 8, linearisation period 16"},
        {"titans-pytorch",
         "the default's sizes with every option of titans-pytorch's "
         "NeuralMemory (0.5.x defaults): max_lr 1, biases "
         "b_lr/b_momentum/b_retention on the rate projections, retrieval "
         "gate w_gate (heads > 1), mem_norm_gamma holding the LayerNorm's "
         "gamma (scale gamma + 1), RMSNorm epsilon = the element type's "
         "machine epsilon; weights from "
         "tools/export_weights.py --titans-pytorch-norm"}},
       kWidth | kHeads | kChunk | kLinearize | kDtype | kMaxLr},
      {"memory-level",
       "one memory level: keys, values, rates, queries and initial state in; "
       "read and final state out (@memory_level)",
       {{"linear-momentum", "linear, L2, momentum GD of order 1, chunk 4"},
        {"linear-dgd", "linear, L2, DGD, chunk 4"},
        {"mlp-momentum", "MLP (depth 2, hidden 16, SiLU, identity skip), L2, "
                         "momentum GD of order 1, chunk 4"},
        {"mlp-dgd", "MLP (depth 2, hidden 16, SiLU, identity skip), L2, "
                    "DGD, chunk 4"},
        {"chunk-aggregated",
         "titans-pytorch's form: MLP (GELU, post-norm), mean L2, momentum GD "
         "with per-chunk retention and momentum, chunk 4, linearisation "
         "period 8"},
        {"gated-delta", "linear, dot-product objective, DGD (the gated delta "
                        "rule), chunk 4"}},
       kWidth | kHeads | kChunk | kHidden | kDtype | kReadPoint | kLinearize |
           kMemorySpec},
  };
  return models;
}

const ModelInfo *hope::models::findModel(llvm::StringRef name) {
  for (const ModelInfo &model : getModels())
    if (name == model.name)
      return &model;
  return nullptr;
}

const ConfigInfo *hope::models::findConfig(const ModelInfo &model,
                                           llvm::StringRef config) {
  for (const ConfigInfo &info : model.configs)
    if (config == info.name)
      return &info;
  return nullptr;
}

/// The new linearisation period after --chunk: the given --linearize, or the
/// config's period scaled with the chunk (0, the whole sequence, stays).
static int64_t rescalePeriod(int64_t period, int64_t oldChunk,
                             const Overrides &overrides) {
  if (overrides.linearize)
    return *overrides.linearize;
  if (!overrides.chunk || period == 0 || period % oldChunk != 0)
    return period;
  return period / oldChunk * *overrides.chunk;
}

static std::optional<std::string> checkHeads(int64_t width, int64_t heads) {
  if (heads <= 0 || width <= 0 || width % heads != 0)
    return "the width " + std::to_string(width) +
           " must be a positive "
           "multiple of the number of heads " +
           std::to_string(heads);
  return std::nullopt;
}

/// The block of a named hope-lm config (HopeLMConfigs.cpp): the `small`
/// hope-block and self-modifying Titans are hope-lm small's.
static const HopeBlockConfig &getHopeLMBlock(StringRef name) {
  for (const NamedHopeLMConfig &named : getHopeLMConfigs())
    if (name == named.name)
      return named.config.block;
  llvm_unreachable("no such hope-lm config");
}

/// The self-modifying Titans of the tiny configs.
static SelfModifyingTitansConfig getTinySelfModifyingTitans() {
  SelfModifyingTitansConfig titans;
  titans.width = 32;
  titans.heads = 2;
  titans.memoryHidden = 16;
  titans.chunkOther = 2;
  titans.chunkMemory = 4;
  return titans;
}

/// --retention-bias, --normalize-values, --bounded-eta, --memory-eta-scale,
/// --memory-model, --target-outer-gradient, --conv-init, --kv-branch-scale.
static void applyRateOverrides(SelfModifyingTitansConfig &titans,
                               const Overrides &overrides) {
  titans.retentionBias =
      overrides.retentionBias.value_or(titans.retentionBias);
  titans.normalizeValues =
      overrides.normalizeValues.value_or(titans.normalizeValues);
  titans.boundedEta = overrides.boundedEta.value_or(titans.boundedEta);
  titans.memoryEtaScale =
      overrides.memoryEtaScale.value_or(titans.memoryEtaScale);
  titans.linearOutputMemory =
      overrides.linearOutputMemory.value_or(titans.linearOutputMemory);
  titans.targetOuterGradient =
      overrides.targetOuterGradient.value_or(titans.targetOuterGradient);
  titans.tokenShiftConv =
      overrides.tokenShiftConv.value_or(titans.tokenShiftConv);
  titans.keyValueBranchScale =
      overrides.keyValueBranchScale.value_or(titans.keyValueBranchScale);
}

static void applyOverrides(SelfModifyingTitansConfig &titans,
                           const Overrides &overrides) {
  titans.width = overrides.width.value_or(titans.width);
  titans.heads = overrides.heads.value_or(titans.heads);
  titans.memoryHidden = overrides.hidden.value_or(titans.memoryHidden);
  titans.chunkOther = overrides.chunk.value_or(titans.chunkOther);
  titans.chunkMemory = overrides.chunkMemory.value_or(titans.chunkMemory);
  titans.etaScale = overrides.etaScale.value_or(titans.etaScale);
  titans.f64 = overrides.f64.value_or(titans.f64);
  titans.frozenMemories =
      overrides.frozenMemories.value_or(titans.frozenMemories);
  applyRateOverrides(titans, overrides);
}

/// --frozen-memories needs memories (the self-modifying Titans mixer), and a
/// frozen memory has no state to carry from one piece to the next.
static std::optional<std::string>
checkFrozenMemories(const SelfModifyingTitansConfig &titans,
                    HopeMixer mixer = HopeMixer::SelfModifyingTitans) {
  if (!titans.frozenMemories)
    return std::nullopt;
  if (mixer == HopeMixer::Attention)
    return std::string("--frozen-memories: --mixer=attention has no memories");
  if (titans.streaming)
    return std::string("--frozen-memories: memories that never learn have no "
                       "state to stream; drop --streaming");
  return std::nullopt;
}

/// --conv-init and --kv-branch-scale initialise weights of self-modifying
/// Titans, which --mixer=attention does not have.
static std::optional<std::string>
checkInitOptions(const SelfModifyingTitansConfig &titans, HopeMixer mixer) {
  if (mixer == HopeMixer::Attention &&
      (titans.tokenShiftConv || titans.keyValueBranchScale != 1.0))
    return std::string("--conv-init, --kv-branch-scale: --mixer=attention has "
                       "no convolution and no memories M_k, M_v");
  return std::nullopt;
}

static std::optional<std::string>
buildHopeBlockModel(StringRef config, const Overrides &overrides,
                    OpBuilder &builder, Location loc) {
  HopeBlockConfig hope;
  if (config == "tiny") {
    hope.titans = getTinySelfModifyingTitans();
    hope.cmsChunks = {1, 4, 8};
    hope.cmsHidden = 64;
  }
  if (config == "small")
    hope = getHopeLMBlock("small");
  applyOverrides(hope.titans, overrides);
  hope.cmsVariant = overrides.cmsVariant.value_or(hope.cmsVariant);
  hope.mixer = overrides.mixer.value_or(hope.mixer);
  hope.titans.streaming = overrides.streaming.value_or(false);
  if (hope.titans.streaming && hope.mixer == HopeMixer::Attention)
    return std::string("--streaming needs a key/value cache with "
                       "--mixer=attention, which is not written yet");
  if (auto error = checkHeads(hope.titans.width, hope.titans.heads))
    return error;
  if (auto error = checkFrozenMemories(hope.titans, hope.mixer))
    return error;
  if (auto error = checkInitOptions(hope.titans, hope.mixer))
    return error;
  buildHopeBlock(builder, loc, hope);
  return std::nullopt;
}

static std::optional<std::string>
buildSelfModifyingTitansModel(StringRef config, const Overrides &overrides,
                              OpBuilder &builder, Location loc) {
  SelfModifyingTitansConfig titans;
  if (config == "tiny")
    titans = getTinySelfModifyingTitans();
  if (config == "small")
    titans = getHopeLMBlock("small").titans;
  if (config == "nested-learning") {
    // SelfModifyingTitansConfig's defaults; its dim has none (64 here).
    titans = getTinySelfModifyingTitans();
    titans.width = 64;
    titans.heads = 1;
    titans.chunkOther = 1;
    titans.activation = Activation::GELU;
    titans.l2Epsilon = 1e-6;
  }
  applyOverrides(titans, overrides);
  if (config == "nested-learning") {
    // The package's derived sizes: the memories' hidden width is dim, and
    // chunk_size_memory defaults to chunk_size_other.
    titans.memoryHidden = overrides.hidden.value_or(titans.width);
    titans.chunkMemory = overrides.chunkMemory.value_or(titans.chunkOther);
  }
  if (auto error = checkHeads(titans.width, titans.heads))
    return error;
  buildSelfModifyingTitans(builder, loc, titans);
  return std::nullopt;
}

/// One rate for every CMS level, or one per level (the fastest first).
static std::optional<std::string>
setCmsLearningRates(HopeBlockConfig &block, ArrayRef<double> rates) {
  const size_t levels = block.cmsChunks.size();
  if (rates.size() != 1 && rates.size() != levels)
    return llvm::formatv("--cms-learning has {0} rates but the CMS has {1} "
                         "levels (chunks {2}): give one rate, or one per "
                         "level",
                         rates.size(), levels,
                         llvm::join(llvm::map_range(block.cmsChunks,
                                                    [](int64_t chunk) {
                                                      return std::to_string(
                                                          chunk);
                                                    }),
                                    ","))
        .str();
  block.cmsLearningRates.assign(rates.begin(), rates.end());
  if (rates.size() == 1)
    block.cmsLearningRates.assign(levels, rates.front());
  return std::nullopt;
}

static std::optional<std::string>
buildHopeLMModel(StringRef config, const Overrides &overrides,
                 OpBuilder &builder, Location loc) {
  for (const NamedHopeLMConfig &named : getHopeLMConfigs())
    if (config == named.name) {
      HopeLMConfig lm = named.config;
      SelfModifyingTitansConfig &titans = lm.block.titans;
      titans.etaScale = overrides.etaScale.value_or(titans.etaScale);
      titans.f64 = overrides.f64.value_or(titans.f64);
      titans.frozenMemories =
          overrides.frozenMemories.value_or(titans.frozenMemories);
      applyRateOverrides(titans, overrides);
      lm.layers = overrides.layers.value_or(lm.layers);
      lm.block.cmsVariant = overrides.cmsVariant.value_or(lm.block.cmsVariant);
      lm.block.mixer = overrides.mixer.value_or(lm.block.mixer);
      lm.block.titans.streaming = overrides.streaming.value_or(false);
      if (lm.block.titans.streaming && lm.block.mixer == HopeMixer::Attention)
        return std::string("--streaming needs a key/value cache with "
                           "--mixer=attention, which is not written yet");
      if (auto error = checkFrozenMemories(titans, lm.block.mixer))
        return error;
      if (auto error = checkInitOptions(titans, lm.block.mixer))
        return error;
      if (overrides.cmsLearningRates) {
        if (!lm.block.titans.streaming)
          return std::string("--cms-learning needs --streaming");
        if (auto error = setCmsLearningRates(lm.block,
                                             *overrides.cmsLearningRates))
          return error;
      }
      if (overrides.cmsSignal && !overrides.cmsLearningRates)
        return std::string("--cms-signal needs --cms-learning");
      lm.block.cmsSignal = overrides.cmsSignal.value_or(CmsSignal::Task);
      buildHopeLM(builder, loc, lm);
      return std::nullopt;
    }
  return "no hope-lm config '" + config.str() + "'";
}

static std::optional<std::string>
buildTitansMemoryModel(StringRef config, const Overrides &overrides,
                       OpBuilder &builder, Location loc) {
  TitansMemoryConfig titans;
  if (config == "tiny") {
    titans.width = 32;
    titans.heads = 2;
    titans.expansion = 2;
    titans.chunk = 4;
    titans.linearizationPeriod = 8;
  }
  if (config == "small") {
    titans.width = 64;
    titans.heads = 4;
    titans.expansion = 2;
    titans.chunk = 8;
    titans.linearizationPeriod = 16;
  }
  // `small` has every option the builder knows: titans-pytorch's.
  bool packageOptions = config == "titans-pytorch" || config == "small";
  titans.width = overrides.width.value_or(titans.width);
  titans.heads = overrides.heads.value_or(titans.heads);
  titans.f64 = overrides.f64.value_or(false);
  if (packageOptions)
    titans.maxLr = 1.0; // default_step_transform_max_lr
  titans.maxLr = overrides.maxLr.value_or(titans.maxLr);
  if (packageOptions) {
    titans.rateBiases = true;
    titans.retrievalGate = titans.heads > 1;
    titans.normOffset = 1.0;
    // nn.RMSNorm(eps=None): torch.finfo(dtype).eps.
    titans.rmsEpsilon = titans.f64 ? std::numeric_limits<double>::epsilon()
                                   : std::numeric_limits<float>::epsilon();
  }
  titans.linearizationPeriod =
      rescalePeriod(titans.linearizationPeriod, titans.chunk, overrides);
  titans.chunk = overrides.chunk.value_or(titans.chunk);
  if (auto error = checkHeads(titans.width, titans.heads))
    return error;
  buildTitansMemory(builder, loc, titans);
  return std::nullopt;
}

static std::optional<std::string>
buildMemoryLevelModel(StringRef config, const Overrides &overrides,
                      OpBuilder &builder, Location loc) {
  using Config = MemoryLevelConfig;
  if (overrides.memorySpec) {
    buildMemoryLevel(builder, loc, *overrides.memorySpec);
    return std::nullopt;
  }
  Config level;
  level.chunk = 4;
  if (config.starts_with("mlp-")) {
    level.model = Config::Model::MLP;
    level.depth = 2;
    level.hidden = 16;
  }
  if (config.ends_with("-dgd"))
    level.rule = Config::Rule::DGD;
  if (config == "chunk-aggregated") {
    level.model = Config::Model::MLP;
    level.activation = Activation::GELU;
    level.norm = MemoryNorm::Post;
    level.reduction = Reduction::Mean;
    level.retentionGranularity = RateGranularity::Chunk;
    level.momentumGranularity = RateGranularity::Chunk;
    level.linearizationPeriod = 8;
  }
  if (config == "gated-delta") {
    level.objective = Config::Objective::Dot;
    level.rule = Config::Rule::DGD;
  }
  if (overrides.width)
    level.inputWidth = level.outputWidth = *overrides.width;
  level.heads = overrides.heads.value_or(level.heads);
  level.hidden = overrides.hidden.value_or(level.hidden);
  if (overrides.f64)
    level.dtype = *overrides.f64 ? Config::Dtype::F64 : Config::Dtype::F32;
  level.readPoint = overrides.readPoint.value_or(level.readPoint);
  if (level.linearizationPeriod || overrides.linearize) {
    level.linearizationPeriod = rescalePeriod(
        level.linearizationPeriod.value_or(0), level.chunk, overrides);
    // The chunk-aggregated variant decays once per chunk.
    level.retentionGranularity = RateGranularity::Chunk;
    level.momentumGranularity = RateGranularity::Chunk;
  }
  level.chunk = overrides.chunk.value_or(level.chunk);
  buildMemoryLevel(builder, loc, level);
  return std::nullopt;
}

std::optional<std::string> hope::models::buildModel(const ModelInfo &model,
                                                    const ConfigInfo &config,
                                                    const Overrides &overrides,
                                                    OpBuilder &builder,
                                                    Location loc) {
  StringRef name = model.name;
  if (name == "hope-block")
    return buildHopeBlockModel(config.name, overrides, builder, loc);
  if (name == "titans-memory")
    return buildTitansMemoryModel(config.name, overrides, builder, loc);
  if (name == "hope-lm")
    return buildHopeLMModel(config.name, overrides, builder, loc);
  if (name == "self-modifying-titans")
    return buildSelfModifyingTitansModel(config.name, overrides, builder, loc);
  return buildMemoryLevelModel(config.name, overrides, builder, loc);
}
