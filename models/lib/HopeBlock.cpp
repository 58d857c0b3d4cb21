//===- HopeBlock.cpp - the HOPE block -------------------------------------===//
//
// Self-modifying Titans -> CMS (Nested Learning, section 8; semantics doc,
// section 4). models/hope_block.mlir is this builder's output for the
// default HopeBlockConfig.
//
//===----------------------------------------------------------------------===//

#include "ModelBuilder.h"
#include "nl/Models/Models.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::nl;
using namespace mlir::nl::models;

namespace {
/// The memories of self-modifying Titans, in the order of their arguments.
struct TitansMemory {
  const char *name;
  const char *argPrefix;
  /// Output width 1 (a rate) with a learned skip, or the head width.
  bool scalarOutput;
  /// M_mem learns at its own chunk size; the others at chunkOther.
  bool isOutputMemory;
};
constexpr TitansMemory kMemories[] = {
    {"M_k", "mk", false, false},
    {"M_v", "mv", false, false},
    {"M_eta", "meta", true, false},
    {"M_alpha", "malpha", true, false},
    {"M_mem", "mmem", false, true},
};
} // namespace

/// Declares the memories' initial states, in the order of kMemories.
static void addMemoryWeights(ModelBuilder &m,
                             const SelfModifyingTitansConfig &config,
                             StringRef scope = "") {
  const int64_t dh = config.width / config.heads;
  for (const TitansMemory &memory : kMemories) {
    std::string prefix = (scope + memory.argPrefix).str();
    int64_t out = memory.scalarOutput ? 1 : dh;
    m.addArgument(prefix + "_w1",
                  m.tensor({config.heads, config.memoryHidden, dh}));
    m.addArgument(prefix + "_w2",
                  m.tensor({config.heads, out, config.memoryHidden}));
    if (memory.scalarOutput)
      m.addArgument(prefix + "_skip", m.tensor({config.heads, out, dh}));
  }
}

/// The memories, their self-modifying updates and the output read, on the
/// normed input `h` [B, T, D]: o [B, T, D], before the output projection.
/// Weights and memories are named with `scope` first ("layer3." in a
/// language model, "" alone).
static Value selfModifyingTitans(ModelBuilder &m,
                                 const SelfModifyingTitansConfig &config,
                                 Value h, StringRef scope = "") {
  MLIRContext *ctx = m.getContext();
  const int64_t heads = config.heads, dh = config.width / config.heads;
  auto arg = [&](StringRef name) { return m.arg((scope + name).str()); };
  Value c = m.causalConv(h, arg("conv"));
  Value xh = m.splitHeads(c, heads);

  auto objective = L2ObjectiveAttr::get(ctx, Reduction::Sum, /*half=*/false);
  auto rule = DGDAttr::get(ctx, /*momentum=*/false, StepSize::Plain,
                           RateGranularity::Token, RateGranularity::Token);
  SmallVector<Value> memories;
  for (const TitansMemory &memory : kMemories) {
    std::string prefix = memory.argPrefix;
    SmallVector<Value> init{arg(prefix + "_w1"), arg(prefix + "_w2")};
    if (memory.scalarOutput)
      init.push_back(arg(prefix + "_skip"));
    auto model = MLPModelAttr::get(
        ctx, /*depth=*/2, config.memoryHidden, config.activation,
        memory.scalarOutput ? Residual::Learned : Residual::Identity,
        MemoryNorm::None, llvm::APFloat(0.0));
    auto type = MemoryType::get(ctx, heads, dh, memory.scalarOutput ? 1 : dh,
                                m.getElementType());
    int64_t chunk =
        memory.isOutputMemory ? config.chunkMemory : config.chunkOther;
    memories.push_back(m.memory((scope + memory.name).str(), init, type,
                                chunk, model, objective, rule));
  }
  Value mk = memories[0], mv = memories[1], meta = memories[2],
        malpha = memories[3], mmem = memories[4];

  // Keys, values and rates at the chunk-start state.
  Value k = m.l2Normalize(m.read(mk, xh, ReadPoint::ChunkStart),
                          config.l2Epsilon);
  Value v = m.read(mv, xh, ReadPoint::ChunkStart);
  Value eta = m.rate(Activation::Softplus,
                     m.read(meta, xh, ReadPoint::ChunkStart), config.etaScale);
  Value alpha =
      m.rate(Activation::Sigmoid, m.read(malpha, xh, ReadPoint::ChunkStart));

  Value q = m.l2Normalize(m.splitHeads(m.linear(c, arg("w_q")), heads),
                          config.l2Epsilon);

  // Self-generated targets and the updates.
  for (Value memory : memories) {
    Value target = m.stopGradient(m.read(memory, v, ReadPoint::ChunkStart));
    m.update(memory, k, target, eta, alpha);
  }
  return m.mergeHeads(m.read(mmem, q, ReadPoint::ChunkStart));
}

func::FuncOp mlir::nl::models::buildSelfModifyingTitans(
    OpBuilder &builder, Location loc, const SelfModifyingTitansConfig &config,
    StringRef name) {
  ModelBuilder m(builder, loc, config.f64);
  const int64_t d = config.width, dyn = ModelBuilder::kDynamic;
  RankedTensorType sequence = m.tensor({dyn, dyn, d});
  m.addInput("h", sequence);
  m.addArgument("conv", m.tensor({d, config.convWindow}));
  m.addArgument("w_q", m.tensor({d, d}));
  addMemoryWeights(m, config);
  func::FuncOp function = m.beginFunction(name, sequence, "o");
  func::ReturnOp::create(builder, loc,
                         selfModifyingTitans(m, config, m.arg("h")));
  return function;
}

/// Declares a HOPE block's weights, named with `scope` first.
static void addHopeBlockWeights(ModelBuilder &m, const HopeBlockConfig &config,
                                StringRef scope = "") {
  const SelfModifyingTitansConfig &titans = config.titans;
  const int64_t d = titans.width;
  auto add = [&](StringRef name, ArrayRef<int64_t> shape) {
    m.addArgument((scope + name).str(), m.tensor(shape));
  };
  if (config.mixer == HopeMixer::Attention) {
    add("attn_norm", {d});
    for (StringRef name : {"w_q", "w_k", "w_v", "w_o"})
      add(name, {d, d});
  } else {
    add("titans_norm", {d});
    add("conv", {d, titans.convWindow});
    add("w_q", {d, d});
    add("w_o", {d, d});
    addMemoryWeights(m, titans, scope);
  }
  for (size_t block = 0; block < config.cmsChunks.size(); ++block) {
    std::string prefix = "cms" + std::to_string(block);
    add(prefix + "_norm", {d});
    add(prefix + "_in", {config.cmsHidden, d});
    add(prefix + "_out", {d, config.cmsHidden});
  }
  if (config.cmsVariant == CmsVariant::Independent)
    add("cms_mix", {static_cast<int64_t>(config.cmsChunks.size())});
}

/// x + Titans(norm(x)) W_o, then the CMS chain; names with `scope` first.
static Value hopeBlock(ModelBuilder &m, const HopeBlockConfig &config, Value x,
                       StringRef scope = "") {
  OpBuilder &builder = m.getBuilder();
  Location loc = m.getLoc();
  MLIRContext *ctx = m.getContext();
  auto arg = [&](StringRef name) { return m.arg((scope + name).str()); };

  // Self-modifying Titans (or attention) on the normed input, output
  // projection, residual.
  Value mixed;
  if (config.mixer == HopeMixer::Attention) {
    Value h = m.rmsNorm(x, arg("attn_norm"));
    int64_t heads = config.titans.heads;
    auto project = [&](StringRef weight) {
      return m.splitHeads(m.linear(h, arg(weight)), heads);
    };
    Value attended = CausalAttentionOp::create(
        builder, loc, project("w_q"), project("w_k"), project("w_v"),
        /*scale=*/nullptr);
    mixed = m.mergeHeads(attended);
  } else {
    Value h = m.rmsNorm(x, arg("titans_norm"));
    mixed = selfModifyingTitans(m, config.titans, h, scope);
  }
  Value o = m.linear(mixed, arg("w_o"));
  Value x1 = arith::AddFOp::create(builder, loc, x, o);

  // CMS.
  SmallVector<Value> cmsParams;
  for (size_t block = 0; block < config.cmsChunks.size(); ++block) {
    std::string prefix = "cms" + std::to_string(block);
    cmsParams.append(
        {arg(prefix + "_norm"), arg(prefix + "_in"), arg(prefix + "_out")});
  }
  if (config.cmsVariant == CmsVariant::Independent)
    cmsParams.push_back(arg("cms_mix"));
  return CMSOp::create(
      builder, loc, x.getType(), builder.getStringAttr((scope + "cms").str()),
      x1, cmsParams, builder.getDenseI64ArrayAttr(config.cmsChunks),
      CmsVariantAttr::get(ctx, config.cmsVariant),
      CmsSignalAttr::get(ctx, CmsSignal::None),
      ActivationAttr::get(ctx, Activation::SiLU), /*epsilon=*/nullptr,
      /*lr=*/nullptr, /*local_objective=*/nullptr);
}

func::FuncOp mlir::nl::models::buildHopeBlock(OpBuilder &builder, Location loc,
                                              const HopeBlockConfig &config,
                                              StringRef name) {
  ModelBuilder m(builder, loc, config.titans.f64);
  const int64_t dyn = ModelBuilder::kDynamic;
  RankedTensorType sequence = m.tensor({dyn, dyn, config.titans.width});
  m.addInput("x", sequence);
  addHopeBlockWeights(m, config);
  func::FuncOp function = m.beginFunction(name, sequence);
  func::ReturnOp::create(builder, loc, hopeBlock(m, config, m.arg("x")));
  return function;
}

std::string mlir::nl::models::getHopeLayerScope(int64_t layer) {
  return "layer" + std::to_string(layer) + ".";
}

func::FuncOp mlir::nl::models::buildHopeLM(OpBuilder &builder, Location loc,
                                           const HopeLMConfig &config,
                                           StringRef name) {
  ModelBuilder m(builder, loc, config.block.titans.f64);
  const int64_t d = config.block.titans.width, dyn = ModelBuilder::kDynamic;
  m.addInput("tokens", RankedTensorType::get({dyn, dyn}, builder.getI64Type()));
  m.addArgument("embedding", m.tensor({config.vocabulary, d}));
  for (int64_t layer = 0; layer < config.layers; ++layer)
    addHopeBlockWeights(m, config.block, getHopeLayerScope(layer));
  m.addArgument("final_norm", m.tensor({d}));
  m.addArgument("lm_head", m.tensor({config.vocabulary, d}));
  func::FuncOp function =
      m.beginFunction(name, m.tensor({dyn, dyn, config.vocabulary}), "logits");

  Value x = m.embedding(m.arg("tokens"), m.arg("embedding"));
  for (int64_t layer = 0; layer < config.layers; ++layer)
    x = hopeBlock(m, config.block, x, getHopeLayerScope(layer));
  Value logits =
      m.linear(m.rmsNorm(x, m.arg("final_norm")), m.arg("lm_head"));
  func::ReturnOp::create(builder, loc, logits);
  return function;
}
