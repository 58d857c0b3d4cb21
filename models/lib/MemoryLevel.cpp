//===- MemoryLevel.cpp - one associative memory level ---------------------===//
//
// The building block of nested learning (semantics doc, section 2) as a
// function of its own: keys, values, rates and queries in, the read and the
// final state out.
//
//===----------------------------------------------------------------------===//

#include "nl/Models/MemoryLevel.h"
#include "ModelBuilder.h"

using namespace mlir;
using namespace mlir::nl;
using namespace mlir::nl::models;

int64_t MemoryLevelConfig::getMomentumOrder() const {
  if (rule == Rule::MomentumGD)
    return order;
  return dgdMomentum ? 1 : 0;
}

Attribute
mlir::nl::models::getMemoryModelAttr(MLIRContext *context,
                                     const MemoryLevelConfig &config) {
  if (config.model == MemoryLevelConfig::Model::Linear)
    return LinearModelAttr::get(context);
  return MLPModelAttr::get(context, config.depth, config.hidden,
                           config.activation, config.residual, config.norm,
                           llvm::APFloat(0.0));
}

Attribute
mlir::nl::models::getMemoryObjectiveAttr(MLIRContext *context,
                                         const MemoryLevelConfig &config) {
  if (config.objective == MemoryLevelConfig::Objective::Dot)
    return DotObjectiveAttr::get(context);
  return L2ObjectiveAttr::get(context, config.reduction, config.half);
}

Attribute mlir::nl::models::getMemoryRuleAttr(MLIRContext *context,
                                              const MemoryLevelConfig &config) {
  if (config.rule == MemoryLevelConfig::Rule::DGD)
    return DGDAttr::get(context, config.dgdMomentum, config.stepSize,
                        config.lrGranularity, config.retentionGranularity);
  return MomentumGDAttr::get(context, config.order, config.newtonSchulz,
                             config.lrGranularity, config.retentionGranularity,
                             config.momentumGranularity);
}

func::FuncOp mlir::nl::models::buildMemoryLevel(OpBuilder &builder,
                                                Location loc,
                                                const MemoryLevelConfig &config,
                                                StringRef name) {
  MLIRContext *ctx = builder.getContext();
  Type element = config.dtype == MemoryLevelConfig::Dtype::F64
                     ? Type(builder.getF64Type())
                     : Type(builder.getF32Type());
  ModelBuilder m(builder, loc, element);
  const int64_t heads = config.heads, dIn = config.inputWidth,
                dOut = config.outputWidth, dyn = ModelBuilder::kDynamic;
  Attribute model = getMemoryModelAttr(ctx, config);
  SmallVector<MemoryStateParam> layout = getMemoryStateLayout(model, dIn, dOut);
  auto stateName = [&](const MemoryStateParam &param) {
    return config.name + "." + param.name;
  };
  auto stateType = [&](const MemoryStateParam &param, bool batched) {
    SmallVector<int64_t> shape;
    if (batched)
      shape.push_back(dyn);
    shape.push_back(heads);
    llvm::append_range(shape, param.shape);
    return m.tensor(shape);
  };

  RankedTensorType queries = m.tensor({dyn, heads, dyn, dIn});
  RankedTensorType reads = m.tensor({dyn, heads, dyn, dOut});
  RankedTensorType rate = m.tensor({dyn, heads, dyn});
  const int64_t order = config.getMomentumOrder();
  m.addInput("keys", queries);
  m.addInput("values", reads);
  m.addInput("lr", rate);
  if (config.retention)
    m.addInput("retention", rate);
  for (int64_t i = 0; i < order; ++i)
    m.addInput("momentum" + std::to_string(i), rate);
  m.addInput("queries", queries);
  for (const MemoryStateParam &param : layout)
    m.addArgument(stateName(param), stateType(param, /*batched=*/false));
  m.addResult("y", reads);
  SmallVector<Type> finalTypes;
  for (const MemoryStateParam &param : layout) {
    finalTypes.push_back(stateType(param, /*batched=*/true));
    m.addResult(stateName(param), finalTypes.back(), "state");
  }
  func::FuncOp function = m.beginFunction(name);

  SmallVector<Value> init;
  for (const MemoryStateParam &param : layout)
    init.push_back(m.arg(stateName(param)));
  ChunkAggregatedAttr aggregated;
  if (config.linearizationPeriod)
    aggregated = ChunkAggregatedAttr::get(ctx, *config.linearizationPeriod);
  auto type = MemoryType::get(ctx, heads, dIn, dOut, element);
  Value memory = m.memory(config.name, init, type, config.chunk, model,
                          getMemoryObjectiveAttr(ctx, config),
                          getMemoryRuleAttr(ctx, config), aggregated);

  SmallVector<Value> momentum;
  for (int64_t i = 0; i < order; ++i)
    momentum.push_back(m.arg("momentum" + std::to_string(i)));
  m.update(memory, m.arg("keys"), m.arg("values"), m.arg("lr"),
           config.retention ? m.arg("retention") : Value(), momentum);

  SmallVector<Value> results{
      m.read(memory, m.arg("queries"), config.readPoint)};
  llvm::append_range(results, m.finalState(memory, finalTypes));
  func::ReturnOp::create(builder, loc, results);
  return function;
}
