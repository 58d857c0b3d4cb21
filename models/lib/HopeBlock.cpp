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
                             const SelfModifyingTitansConfig &config) {
  const int64_t dh = config.width / config.heads;
  for (const TitansMemory &memory : kMemories) {
    std::string prefix = memory.argPrefix;
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
static Value selfModifyingTitans(ModelBuilder &m,
                                 const SelfModifyingTitansConfig &config,
                                 Value h) {
  MLIRContext *ctx = m.getContext();
  const int64_t heads = config.heads, dh = config.width / config.heads;
  Value c = m.causalConv(h, m.arg("conv"));
  Value xh = m.splitHeads(c, heads);

  auto objective = L2ObjectiveAttr::get(ctx, Reduction::Sum, /*half=*/false);
  auto rule = DGDAttr::get(ctx, /*momentum=*/false, StepSize::Plain,
                           RateGranularity::Token, RateGranularity::Token);
  SmallVector<Value> memories;
  for (const TitansMemory &memory : kMemories) {
    std::string prefix = memory.argPrefix;
    SmallVector<Value> init{m.arg(prefix + "_w1"), m.arg(prefix + "_w2")};
    if (memory.scalarOutput)
      init.push_back(m.arg(prefix + "_skip"));
    auto model = MLPModelAttr::get(
        ctx, /*depth=*/2, config.memoryHidden, config.activation,
        memory.scalarOutput ? Residual::Learned : Residual::Identity,
        MemoryNorm::None, llvm::APFloat(0.0));
    auto type = MemoryType::get(ctx, heads, dh, memory.scalarOutput ? 1 : dh,
                                m.getElementType());
    int64_t chunk =
        memory.isOutputMemory ? config.chunkMemory : config.chunkOther;
    memories.push_back(
        m.memory(memory.name, init, type, chunk, model, objective, rule));
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

  Value q = m.l2Normalize(m.splitHeads(m.linear(c, m.arg("w_q")), heads),
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

func::FuncOp mlir::nl::models::buildHopeBlock(OpBuilder &builder, Location loc,
                                              const HopeBlockConfig &config,
                                              StringRef name) {
  const SelfModifyingTitansConfig &titans = config.titans;
  ModelBuilder m(builder, loc, titans.f64);
  MLIRContext *ctx = builder.getContext();
  const int64_t d = titans.width;
  const int64_t dyn = ModelBuilder::kDynamic;
  RankedTensorType sequence = m.tensor({dyn, dyn, d});

  m.addInput("x", sequence);
  m.addArgument("titans_norm", m.tensor({d}));
  m.addArgument("conv", m.tensor({d, titans.convWindow}));
  m.addArgument("w_q", m.tensor({d, d}));
  m.addArgument("w_o", m.tensor({d, d}));
  addMemoryWeights(m, titans);
  for (size_t block = 0; block < config.cmsChunks.size(); ++block) {
    std::string prefix = "cms" + std::to_string(block);
    m.addArgument(prefix + "_norm", m.tensor({d}));
    m.addArgument(prefix + "_in", m.tensor({config.cmsHidden, d}));
    m.addArgument(prefix + "_out", m.tensor({d, config.cmsHidden}));
  }
  func::FuncOp function = m.beginFunction(name, sequence);

  // Self-modifying Titans on the normed input, output projection, residual.
  Value h = m.rmsNorm(m.arg("x"), m.arg("titans_norm"));
  Value o = m.linear(selfModifyingTitans(m, titans, h), m.arg("w_o"));
  Value x1 = arith::AddFOp::create(builder, loc, m.arg("x"), o);

  // CMS.
  SmallVector<Value> cmsParams;
  for (size_t block = 0; block < config.cmsChunks.size(); ++block) {
    std::string prefix = "cms" + std::to_string(block);
    cmsParams.append({m.arg(prefix + "_norm"), m.arg(prefix + "_in"),
                      m.arg(prefix + "_out")});
  }
  Value y = CMSOp::create(
      builder, loc, sequence, builder.getStringAttr("cms"), x1, cmsParams,
      builder.getDenseI64ArrayAttr(config.cmsChunks),
      CmsVariantAttr::get(ctx, CmsVariant::Sequential),
      CmsSignalAttr::get(ctx, CmsSignal::None),
      ActivationAttr::get(ctx, Activation::SiLU), /*epsilon=*/nullptr,
      /*lr=*/nullptr, /*local_objective=*/nullptr);
  func::ReturnOp::create(builder, loc, y);
  return function;
}
