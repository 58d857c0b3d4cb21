//===- HopeLMConfigs.cpp - the named HOPE language models -----------------===//
//
// Sizes follow the usual practice of this line of work (Titans, Atlas,
// Nested Learning's HOPE): 24 layers, hidden 1024 / 1536 / 2048, 16 heads,
// vocabulary 32000, untied LM head; memory MLPs of the head width; CMS of
// three levels (chunks 1, 16, 256) whose hidden width brings the model to its
// nominal size. docs/models.md lists the numbers.
//
//===----------------------------------------------------------------------===//

#include "nl/Models/Models.h"

using namespace mlir::nl::models;

static HopeLMConfig makeConfig(int64_t width, int64_t heads, int64_t layers,
                               int64_t vocabulary, int64_t cmsHidden) {
  HopeLMConfig config;
  config.layers = layers;
  config.vocabulary = vocabulary;
  SelfModifyingTitansConfig &titans = config.block.titans;
  titans.width = width;
  titans.heads = heads;
  titans.memoryHidden = width / heads;
  titans.chunkOther = 8;
  titans.chunkMemory = 64;
  config.block.cmsChunks = {1, 16, 256};
  config.block.cmsHidden = cmsHidden;
  return config;
}

static HopeLMConfig makeTiny() {
  HopeLMConfig config = makeConfig(32, 2, 2, 256, 64);
  config.block.titans.memoryHidden = 16;
  config.block.titans.chunkOther = 2;
  config.block.titans.chunkMemory = 4;
  config.block.cmsChunks = {1, 4, 8};
  return config;
}

/// The next size up from tiny, for gradient checks at T = 64: every level
/// (C_other 4, C_mem 16, CMS 1/4/16) chunks several times within 64 tokens.
static HopeLMConfig makeSmall() {
  HopeLMConfig config = makeConfig(64, 4, 2, 256, 128);
  config.block.titans.chunkOther = 4;
  config.block.titans.chunkMemory = 16;
  config.block.cmsChunks = {1, 4, 16};
  return config;
}

llvm::ArrayRef<NamedHopeLMConfig> mlir::nl::models::getHopeLMConfigs() {
  static const NamedHopeLMConfig configs[] = {
      {"tiny",
       "2 layers, width 32, 2 heads, vocabulary 256, C_other 2, C_mem 4, CMS "
       "1/4/8 of hidden 64",
       /*targetParameters=*/0, makeTiny()},
      {"small",
       "2 layers, width 64, 4 heads, vocabulary 256, C_other 4, C_mem 16, "
       "CMS 1/4/16 of hidden 128",
       /*targetParameters=*/0, makeSmall()},
      {"340m",
       "24 layers, width 1024, 16 heads, vocabulary 32000, CMS 1/16/256 of "
       "hidden 1408",
       340'000'000, makeConfig(1024, 16, 24, 32000, 1408)},
      {"760m",
       "24 layers, width 1536, 16 heads, vocabulary 32000, CMS 1/16/256 of "
       "hidden 2368",
       760'000'000, makeConfig(1536, 16, 24, 32000, 2368)},
      {"1.3b",
       "24 layers, width 2048, 16 heads, vocabulary 32000, CMS 1/16/256 of "
       "hidden 3136",
       1'300'000'000, makeConfig(2048, 16, 24, 32000, 3136)},
  };
  return configs;
}
