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
  ModelBuilder m(builder, loc);
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
  m.addArgument("w_out", m.tensor({d, d}));
  m.addArgument("mem_w1", m.tensor({heads, hidden, dh}));
  m.addArgument("mem_w2", m.tensor({heads, dh, hidden}));
  m.addArgument("mem_norm", m.tensor({heads, dh}));
  func::FuncOp function = m.beginFunction(name, sequence);

  // Keys, values and the per-token learning rate.
  Value s = m.rmsNorm(m.arg("x"), m.arg("store_norm"));
  Value k = m.splitHeads(m.linear(s, m.arg("w_k")), heads);
  Value v = m.splitHeads(m.linear(s, m.arg("w_v")), heads);
  Value lr = m.rate(Activation::Sigmoid,
                    m.splitHeads(m.linear(s, m.arg("w_lr")), heads),
                    config.maxLr);

  // Per-chunk momentum and retention.
  Value pooled = m.chunkPool(s, config.chunk);
  Value beta = m.rate(Activation::Sigmoid,
                      m.splitHeads(m.linear(pooled, m.arg("w_momentum")), heads));
  Value alpha = m.rate(
      Activation::Sigmoid,
      m.splitHeads(m.linear(pooled, m.arg("w_retention")), heads));

  auto model = MLPModelAttr::get(ctx, /*depth=*/2, hidden, Activation::GELU,
                                 Residual::Identity, MemoryNorm::Post);
  auto objective = L2ObjectiveAttr::get(ctx, Reduction::Mean, /*half=*/false);
  auto rule = MomentumGDAttr::get(ctx, /*order=*/1, /*newton_schulz=*/false,
                                  RateGranularity::Token, RateGranularity::Chunk,
                                  RateGranularity::Chunk);
  auto type = MemoryType::get(ctx, heads, dh, dh, builder.getF32Type());
  Value memory = m.memory(
      "memory", {m.arg("mem_w1"), m.arg("mem_w2"), m.arg("mem_norm")}, type,
      config.chunk, model, objective, rule,
      ChunkAggregatedAttr::get(ctx, config.linearizationPeriod));
  m.update(memory, k, v, lr, alpha, {beta});

  // Retrieval.
  Value r = m.rmsNorm(m.arg("x"), m.arg("retrieve_norm"));
  Value q = m.splitHeads(m.linear(r, m.arg("w_q")), heads);
  Value y = m.linear(m.mergeHeads(m.read(memory, q, ReadPoint::After)),
                     m.arg("w_out"));
  func::ReturnOp::create(builder, loc, y);
  return function;
}
