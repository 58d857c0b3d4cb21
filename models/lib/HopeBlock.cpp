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
#include "llvm/Support/ErrorHandling.h"

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

/// M_mem as M(x) = x + W_1 x (#nl.mlp of depth 1), see linearOutputMemory.
static bool isLinear(const TitansMemory &memory,
                     const SelfModifyingTitansConfig &config) {
  return memory.isOutputMemory && config.linearOutputMemory;
}

/// The state parameters of a memory of kMemories: W_1, W_2 (and W_skip);
/// W_1 alone for a linear M_mem.
static SmallVector<StringRef>
getStateParams(const TitansMemory &memory,
               const SelfModifyingTitansConfig &config) {
  if (isLinear(memory, config))
    return {"w1"};
  SmallVector<StringRef> params{"w1", "w2"};
  if (memory.scalarOutput)
    params.push_back("skip");
  return params;
}

/// The shapes [heads, rows, columns] of a memory's state parameters, in the
/// order of getStateParams.
static SmallVector<SmallVector<int64_t, 3>>
getStateShapes(const TitansMemory &memory,
               const SelfModifyingTitansConfig &config) {
  const int64_t heads = config.heads, dh = config.width / config.heads;
  const int64_t out = memory.scalarOutput ? 1 : dh;
  if (isLinear(memory, config))
    return {{heads, dh, dh}};
  SmallVector<SmallVector<int64_t, 3>> shapes{
      {heads, config.memoryHidden, dh}, {heads, out, config.memoryHidden}};
  if (memory.scalarOutput)
    shapes.push_back({heads, out, dh});
  return shapes;
}

/// How a memory's state parameter starts: M_k's and M_v's output matrices
/// scaled by keyValueBranchScale, the others as seeded.
static WeightInit getMemoryWeightInit(const TitansMemory &memory,
                                      StringRef param,
                                      const SelfModifyingTitansConfig &config) {
  WeightInit init;
  if (param == "w2" && (memory.argPrefix == StringRef("mk") ||
                        memory.argPrefix == StringRef("mv")))
    init.scale = config.keyValueBranchScale;
  return init;
}

/// The causal convolution's initialisation.
static WeightInit getConvInit(const SelfModifyingTitansConfig &config) {
  WeightInit init;
  if (config.tokenShiftConv)
    init.rule = InitRule::TokenShift;
  return init;
}

/// Streaming: the state a piece carries to the next, declared as state
/// arguments and results in one order (see SelfModifyingTitansConfig).
static void addStreamingState(ModelBuilder &m,
                              const SelfModifyingTitansConfig &config,
                              StringRef scope, bool asResults) {
  const int64_t dyn = ModelBuilder::kDynamic;
  auto add = [&](const std::string &name, Type type) {
    if (asResults)
      m.addResult(name, type, "state");
    else
      m.addArgument(name, type, "state");
  };
  for (const TitansMemory &memory : kMemories) {
    SmallVector<SmallVector<int64_t, 3>> shapes =
        getStateShapes(memory, config);
    for (StringRef kind : {"", "reference."})
      for (auto [param, shape] :
           llvm::zip(getStateParams(memory, config), shapes)) {
        SmallVector<int64_t> batched{dyn};
        llvm::append_range(batched, shape);
        add((scope + memory.name + "." + kind + param).str(),
            m.tensor(batched));
      }
  }
  add((scope + "conv_history").str(),
      m.tensor({dyn, config.convWindow - 1, config.width}));
}

/// The position of a streamed piece, shared by every memory of a model.
static void addPosition(ModelBuilder &m, bool asResult) {
  auto type = RankedTensorType::get({}, m.getBuilder().getI64Type());
  if (asResult)
    m.addResult("position", type, "state");
  else
    m.addArgument("position", type, "state");
}

/// Declares the memories' initial states, in the order of kMemories.
static void addMemoryWeights(ModelBuilder &m,
                             const SelfModifyingTitansConfig &config,
                             StringRef scope = "") {
  if (config.streaming)
    return addStreamingState(m, config, scope, /*asResults=*/false);
  for (const TitansMemory &memory : kMemories) {
    std::string prefix = (scope + memory.argPrefix).str();
    for (auto [param, shape] : llvm::zip(getStateParams(memory, config),
                                         getStateShapes(memory, config)))
      m.addArgument(prefix + "_" + param.str(), m.tensor(shape), "weight",
                    getMemoryWeightInit(memory, param, config));
  }
}

/// The memories, their self-modifying updates and the output read, on the
/// normed input `h` [B, T, D]: o [B, T, D], before the output projection.
/// Weights and memories are named with `scope` first ("layer3." in a
/// language model, "" alone).
/// Streaming: appends what the next piece needs to `carried`, in the order
/// of addStreamingState (the position is the caller's).
static Value selfModifyingTitans(ModelBuilder &m,
                                 const SelfModifyingTitansConfig &config,
                                 Value h, StringRef scope = "",
                                 SmallVectorImpl<Value> *carried = nullptr,
                                 Value *nextPosition = nullptr) {
  MLIRContext *ctx = m.getContext();
  const int64_t heads = config.heads, dh = config.width / config.heads;
  auto arg = [&](StringRef name) { return m.arg((scope + name).str()); };
  Value history = config.streaming ? arg("conv_history") : Value();
  Value c = m.causalConv(h, arg("conv"), history);
  Value xh = m.splitHeads(c, heads);

  auto objective = L2ObjectiveAttr::get(ctx, Reduction::Sum, /*half=*/false);
  auto rule = DGDAttr::get(ctx, /*momentum=*/false, StepSize::Plain,
                           RateGranularity::Token, RateGranularity::Token);
  SmallVector<Value> memories;
  for (const TitansMemory &memory : kMemories) {
    std::string prefix = memory.argPrefix;
    SmallVector<Value> init, reference;
    for (StringRef param : getStateParams(memory, config)) {
      if (!config.streaming) {
        init.push_back(arg(prefix + "_" + param.str()));
        continue;
      }
      init.push_back(arg((memory.name + Twine(".") + param).str()));
      reference.push_back(
          arg((memory.name + Twine(".reference.") + param).str()));
    }
    bool linear = isLinear(memory, config);
    auto model = MLPModelAttr::get(
        ctx, /*depth=*/linear ? 1 : 2, linear ? dh : config.memoryHidden,
        config.activation,
        memory.scalarOutput ? Residual::Learned : Residual::Identity,
        MemoryNorm::None, llvm::APFloat(0.0));
    auto type = MemoryType::get(ctx, heads, dh, memory.scalarOutput ? 1 : dh,
                                m.getElementType());
    int64_t chunk =
        memory.isOutputMemory ? config.chunkMemory : config.chunkOther;
    memories.push_back(m.memory(
        (scope + memory.name).str(), init, type, chunk, model, objective, rule,
        /*aggregated=*/{}, reference,
        config.streaming ? m.arg("position") : Value()));
  }
  Value mk = memories[0], mv = memories[1], meta = memories[2],
        malpha = memories[3], mmem = memories[4];

  // Keys, values and rates at the chunk-start state.
  Value k = m.l2Normalize(m.read(mk, xh, ReadPoint::ChunkStart),
                          config.l2Epsilon);
  Value v = m.read(mv, xh, ReadPoint::ChunkStart);
  if (config.normalizeValues)
    v = m.l2Normalize(v, config.l2Epsilon);
  Value etaRaw = m.read(meta, xh, ReadPoint::ChunkStart);
  Activation etaKind =
      config.boundedEta ? Activation::Sigmoid : Activation::Softplus;
  Value eta = m.rate(etaKind, etaRaw, config.etaScale);
  Value memoryEta = config.memoryEtaScale > 0
                        ? m.rate(etaKind, etaRaw, config.memoryEtaScale)
                        : eta;
  Value alphaRaw = m.read(malpha, xh, ReadPoint::ChunkStart);
  if (config.retentionBias != 0)
    alphaRaw = m.addOffset(alphaRaw, config.retentionBias);
  Value alpha = m.rate(Activation::Sigmoid, alphaRaw);

  Value q = m.l2Normalize(m.splitHeads(m.linear(c, arg("w_q")), heads),
                          config.l2Epsilon);

  // Self-generated targets and the updates (none when frozen: then k, v,
  // eta and alpha are unused and fold away).
  // The update's inner gradient takes its target as data whatever it is
  // computed from; the stop-gradient cuts the outer gradient as well, unless
  // targetOuterGradient.
  for (Value memory : config.frozenMemories ? ArrayRef<Value>() : memories) {
    Value target = m.read(memory, v, ReadPoint::ChunkStart);
    if (!config.targetOuterGradient)
      target = m.stopGradient(target);
    m.update(memory, k, target, memory == mmem ? memoryEta : eta, alpha);
  }
  Value o = m.mergeHeads(m.read(mmem, q, ReadPoint::ChunkStart));
  if (config.streaming) {
    for (auto [memory, value] : llvm::zip(kMemories, memories)) {
      auto inits = cast<MemoryOp>(value.getDefiningOp()).getInit();
      llvm::append_range(*carried, m.finalState(value, inits.getTypes()));
      auto stream = StreamStateOp::create(
          m.getBuilder(), m.getLoc(), inits.getTypes(), TypeRange(),
          RankedTensorType::get({}, m.getBuilder().getI64Type()), value);
      llvm::append_range(*carried, stream.getReference());
      if (!*nextPosition)
        *nextPosition = stream.getPosition();
    }
    carried->push_back(SequenceTailOp::create(m.getBuilder(), m.getLoc(),
                                              history, h));
  }
  return o;
}

func::FuncOp mlir::nl::models::buildSelfModifyingTitans(
    OpBuilder &builder, Location loc, const SelfModifyingTitansConfig &config,
    StringRef name) {
  if (config.streaming)
    llvm::report_fatal_error("buildSelfModifyingTitans: the streaming form is "
                             "built by buildHopeBlock and buildHopeLM only");
  ModelBuilder m(builder, loc, config.f64);
  const int64_t d = config.width, dyn = ModelBuilder::kDynamic;
  RankedTensorType sequence = m.tensor({dyn, dyn, d});
  m.addInput("h", sequence);
  m.addArgument("conv", m.tensor({d, config.convWindow}), "weight",
                getConvInit(config));
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
  auto add = [&](StringRef name, ArrayRef<int64_t> shape,
                 WeightInit init = {}) {
    m.addArgument((scope + name).str(), m.tensor(shape), "weight", init);
  };
  if (config.mixer == HopeMixer::Attention) {
    add("attn_norm", {d});
    for (StringRef name : {"w_q", "w_k", "w_v", "w_o"})
      add(name, {d, d});
  } else {
    add("titans_norm", {d});
    add("conv", {d, titans.convWindow}, getConvInit(titans));
    add("w_q", {d, d});
    add("w_o", {d, d});
    addMemoryWeights(m, titans, scope);
  }
  // Blocks that learn at test time carry their parameters as states
  // (addCmsLearningState declares the results and the gradient sums).
  const char *cmsRole = config.cmsLearningRates.empty() ? "weight" : "state";
  for (size_t block = 0; block < config.cmsChunks.size(); ++block) {
    std::string prefix = (scope + "cms" + std::to_string(block)).str();
    m.addArgument(prefix + "_norm", m.tensor({d}), cmsRole);
    m.addArgument(prefix + "_in", m.tensor({config.cmsHidden, d}), cmsRole);
    m.addArgument(prefix + "_out", m.tensor({d, config.cmsHidden}), cmsRole);
  }
  if (config.cmsVariant == CmsVariant::Independent)
    add("cms_mix", {static_cast<int64_t>(config.cmsChunks.size())});
}

/// x + Titans(norm(x)) W_o, then the CMS chain; names with `scope` first.
static Value hopeBlock(ModelBuilder &m, const HopeBlockConfig &config, Value x,
                       StringRef scope = "",
                       SmallVectorImpl<Value> *carried = nullptr,
                       Value *nextPosition = nullptr) {
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
    mixed = selfModifyingTitans(m, config.titans, h, scope, carried,
                                nextPosition);
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
  const bool learns = !config.cmsLearningRates.empty();
  return CMSOp::create(
      builder, loc, x.getType(), builder.getStringAttr((scope + "cms").str()),
      x1, cmsParams, builder.getDenseI64ArrayAttr(config.cmsChunks),
      CmsVariantAttr::get(ctx, config.cmsVariant),
      CmsSignalAttr::get(ctx, learns ? config.cmsSignal : CmsSignal::None),
      ActivationAttr::get(ctx, Activation::SiLU), /*epsilon=*/nullptr,
      /*lr=*/learns ? builder.getDenseF64ArrayAttr(config.cmsLearningRates)
                    : nullptr,
      /*local_objective=*/learns && config.cmsSignal == CmsSignal::Local
          ? L2ObjectiveAttr::get(ctx, Reduction::Sum, /*half=*/false)
          : nullptr);
}

func::FuncOp mlir::nl::models::buildHopeBlock(OpBuilder &builder, Location loc,
                                              const HopeBlockConfig &config,
                                              StringRef name) {
  ModelBuilder m(builder, loc, config.titans.f64);
  const int64_t dyn = ModelBuilder::kDynamic;
  RankedTensorType sequence = m.tensor({dyn, dyn, config.titans.width});
  m.addInput("x", sequence);
  if (config.titans.streaming && config.mixer == HopeMixer::Attention)
    llvm::report_fatal_error("buildHopeBlock: HOPE-Attention does not stream "
                             "(no key/value cache yet)");
  addHopeBlockWeights(m, config);
  if (!config.titans.streaming) {
    func::FuncOp function = m.beginFunction(name, sequence);
    func::ReturnOp::create(builder, loc, hopeBlock(m, config, m.arg("x")));
    return function;
  }
  addPosition(m, /*asResult=*/false);
  m.addResult("y", sequence);
  addStreamingState(m, config.titans, "", /*asResults=*/true);
  addPosition(m, /*asResult=*/true);
  func::FuncOp function = m.beginFunction(name);
  SmallVector<Value> carried;
  Value position;
  Value y = hopeBlock(m, config, m.arg("x"), "", &carried, &position);
  SmallVector<Value> results{y};
  llvm::append_range(results, carried);
  results.push_back(position);
  func::ReturnOp::create(builder, loc, results);
  return function;
}

std::string mlir::nl::models::getHopeLayerScope(int64_t layer) {
  return "layer" + std::to_string(layer) + ".";
}

/// The suffixes of a learnt parameter's states beside the parameter itself.
static constexpr const char *kCmsStateSuffixes[] = {
    ".initial_grad_sum", ".grad_sum", ".initial"}; // longest first
static constexpr llvm::StringLiteral kLastTokenName = "cms_last_token";

/// The states of CMS test-time learning, in order: every block's parameters
/// (layer by layer), their gradient sums (`<name>.grad_sum`); with the
/// nested CMS, every block's but the slowest meta-learnt initial state
/// (`<name>.initial`) and its gradient sum (`<name>.initial_grad_sum`); the
/// last token (signal = task).
static SmallVector<std::string>
getCmsLearningStateNames(const HopeLMConfig &config) {
  const HopeBlockConfig &block = config.block;
  SmallVector<std::string> params, faster;
  for (int64_t layer = 0; layer < config.layers; ++layer)
    for (size_t index = 0; index < block.cmsChunks.size(); ++index)
      for (StringRef part : {"_norm", "_in", "_out"}) {
        params.push_back(getHopeLayerScope(layer) + "cms" +
                         std::to_string(index) + part.str());
        if (index + 1 < block.cmsChunks.size())
          faster.push_back(params.back());
      }
  SmallVector<std::string> names(params);
  for (const std::string &param : params)
    names.push_back(param + ".grad_sum");
  if (block.cmsVariant == CmsVariant::Nested) {
    for (const std::string &param : faster)
      names.push_back(param + ".initial");
    for (const std::string &param : faster)
      names.push_back(param + ".initial_grad_sum");
  }
  if (block.cmsSignal == CmsSignal::Task)
    names.push_back(kLastTokenName.str());
  return names;
}

/// Declares the states of CMS test-time learning. The parameters are
/// declared as state arguments with the block's weights
/// (addHopeBlockWeights); here: the other states as arguments, or all of
/// them as results.
static void addCmsLearningState(ModelBuilder &m, const HopeLMConfig &config,
                                bool asResults) {
  const int64_t d = config.block.titans.width;
  const int64_t hidden = config.block.cmsHidden;
  for (const std::string &name : getCmsLearningStateNames(config)) {
    StringRef base = name;
    for (const char *suffix : kCmsStateSuffixes)
      if (base.ends_with(suffix)) {
        base = base.drop_back(StringRef(suffix).size());
        break;
      }
    Type type;
    if (name == kLastTokenName)
      type = RankedTensorType::get({ModelBuilder::kDynamic, 1},
                                   m.getBuilder().getI64Type());
    else if (base.ends_with("_norm"))
      type = m.tensor({d});
    else if (base.ends_with("_in"))
      type = m.tensor({hidden, d});
    else
      type = m.tensor({d, hidden});
    if (asResults)
      m.addResult(name, type, "state");
    else if (base != name || name == kLastTokenName)
      m.addArgument(name, type, "state");
  }
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
  const bool streaming = config.block.titans.streaming;
  if (streaming && config.block.mixer == HopeMixer::Attention)
    llvm::report_fatal_error("buildHopeLM: HOPE-Attention does not stream "
                             "(no key/value cache yet)");
  const bool learns = !config.block.cmsLearningRates.empty();
  if (learns && !streaming)
    llvm::report_fatal_error("buildHopeLM: CMS test-time learning needs the "
                             "streaming form");
  if (streaming)
    addPosition(m, /*asResult=*/false);
  if (learns)
    addCmsLearningState(m, config, /*asResults=*/false);
  m.addResult("logits", m.tensor({dyn, dyn, config.vocabulary}));
  if (streaming) {
    for (int64_t layer = 0; layer < config.layers; ++layer)
      addStreamingState(m, config.block.titans, getHopeLayerScope(layer),
                        /*asResults=*/true);
    addPosition(m, /*asResult=*/true);
  }
  if (learns)
    addCmsLearningState(m, config, /*asResults=*/true);
  func::FuncOp function = m.beginFunction(name);

  // Streaming: every layer's carried state, in the order declared above.
  SmallVector<Value> carried;
  Value position;
  Value x = m.embedding(m.arg("tokens"), m.arg("embedding"));
  for (int64_t layer = 0; layer < config.layers; ++layer)
    x = hopeBlock(m, config.block, x, getHopeLayerScope(layer),
                  streaming ? &carried : nullptr, &position);
  Value logits =
      m.linear(m.rmsNorm(x, m.arg("final_norm")), m.arg("lm_head"));
  SmallVector<Value> results{logits};
  if (streaming) {
    llvm::append_range(results, carried);
    results.push_back(position);
  }
  // The learning states pass through: nl-build-test-time-learning makes the
  // loop that updates them (the CMS ops declare it: signal = task or local).
  if (learns)
    for (const std::string &stateName : getCmsLearningStateNames(config))
      results.push_back(m.arg(stateName));
  func::ReturnOp::create(builder, loc, results);
  return function;
}
