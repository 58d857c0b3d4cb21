//===- TitansMemory.cpp - titans-pytorch's NeuralMemory -------------------===//
//
// The chunk-aggregated Titans memory (semantics doc, sections 2 and 9).
// models/titans_memory.mlir is this builder's output for the default
// TitansMemoryConfig.
//
//===----------------------------------------------------------------------===//

#include "ModelBuilder.h"
#include "nl/Models/Models.h"

using namespace mlir;
using namespace mlir::nl;
using namespace mlir::nl::models;

func::FuncOp mlir::nl::models::buildTitansMemory(
    OpBuilder &builder, Location loc, const TitansMemoryConfig &config,
    StringRef name) {
  ModelBuilder m(builder, loc, config.f64);
  MLIRContext *ctx = builder.getContext();
  const int64_t d = config.width, heads = config.heads, dh = d / heads,
                hidden = config.expansion * dh;
  const int64_t dyn = ModelBuilder::kDynamic;
  RankedTensorType sequence = m.tensor({dyn, dyn, d});

  m.addInput("x", sequence);
  m.addArgument("store_norm", m.tensor({d}));
  m.addArgument("retrieve_norm", m.tensor({d}));
  for (const char *projection : {"w_k", "w_v", "w_q"})
    m.addArgument(projection, m.tensor({d, d}));
  for (const char *rateProjection : {"w_lr", "w_momentum", "w_retention"})
    m.addArgument(rateProjection, m.tensor({heads, d}));
  if (config.rateBiases)
    for (const char *bias : {"b_lr", "b_momentum", "b_retention"})
      m.addArgument(bias, m.tensor({heads}));
  if (config.retrievalGate)
    m.addArgument("w_gate", m.tensor({heads, d}));
  m.addArgument("w_out", m.tensor({d, d}));
  m.addArgument("mem_w1", m.tensor({heads, hidden, dh}));
  m.addArgument("mem_w2", m.tensor({heads, dh, hidden}));
  // With an offset, the state is the norm's gamma = scale - offset.
  const char *normName = config.normOffset != 0.0 ? "mem_norm_gamma" : "mem_norm";
  m.addArgument(normName, m.tensor({heads, dh}));
  func::FuncOp function = m.beginFunction(name, sequence);
  auto bias = [&](const char *name) {
    return config.rateBiases && name ? m.arg(name) : Value();
  };
  // A rate per head: kind(W x + b) * scale.
  auto rate = [&](Value input, const char *weight, const char *biasName,
                  double scale = 1.0) {
    return m.rate(Activation::Sigmoid,
                  m.splitHeads(m.linear(input, m.arg(weight), bias(biasName)),
                               heads),
                  scale);
  };

  // Keys, values and the per-token learning rate.
  Value s = m.rmsNorm(m.arg("x"), m.arg("store_norm"), config.rmsEpsilon);
  Value k = m.splitHeads(m.linear(s, m.arg("w_k")), heads);
  Value v = m.splitHeads(m.linear(s, m.arg("w_v")), heads);
  Value lr = rate(s, "w_lr", "b_lr", config.maxLr);

  // Per-chunk momentum and retention.
  Value pooled = m.chunkPool(s, config.chunk);
  Value beta = rate(pooled, "w_momentum", "b_momentum");
  Value alpha = rate(pooled, "w_retention", "b_retention");

  auto model = MLPModelAttr::get(ctx, /*depth=*/2, hidden, Activation::GELU,
                                 Residual::Identity, MemoryNorm::Post,
                                 llvm::APFloat(config.normOffset));
  auto objective = L2ObjectiveAttr::get(ctx, Reduction::Mean, /*half=*/false);
  auto rule = MomentumGDAttr::get(ctx, /*order=*/1, /*newton_schulz=*/false,
                                  RateGranularity::Token, RateGranularity::Chunk,
                                  RateGranularity::Chunk);
  auto type = MemoryType::get(ctx, heads, dh, dh, m.getElementType());
  Value memory = m.memory(
      "memory", {m.arg("mem_w1"), m.arg("mem_w2"), m.arg(normName)}, type,
      config.chunk, model, objective, rule,
      ChunkAggregatedAttr::get(ctx, config.linearizationPeriod));
  m.update(memory, k, v, lr, alpha, {beta});

  // Retrieval, optionally gated per head.
  Value r = m.rmsNorm(m.arg("x"), m.arg("retrieve_norm"), config.rmsEpsilon);
  Value q = m.splitHeads(m.linear(r, m.arg("w_q")), heads);
  Value retrieved = m.read(memory, q, ReadPoint::After);
  if (config.retrievalGate)
    retrieved = m.gate(retrieved, rate(r, "w_gate", nullptr));
  Value y = m.linear(m.mergeHeads(retrieved), m.arg("w_out"));
  func::ReturnOp::create(builder, loc, y);
  return function;
}
