//===- hope-models.cpp - write a model's nl IR and seeded weights ---------===//
//
// hope-models NAME --config=CFG -o model.mlir [--weights-out=w.safetensors
// --seed=N]: builds one of the models of models/ (ModelCatalog.h) and writes
// its IR, and optionally one weight per `nl.weight` argument from the
// portable seeded generator (nl/Models/SeededWeights.h). Every failure is
// one line on stderr and exit 1.
//
//===----------------------------------------------------------------------===//

#include "BuildContext.h"
#include "InitialState.h"
#include "MemorySpec.h"
#include "OptimizerStepCommand.h"
#include "ModelCatalog.h"
#include "ToolSupport.h"
#include "WeightsFile.h"

#include "nl/IR/NLDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/ToolOutputFile.h"

#include <cmath>

using namespace mlir;
using namespace hope::models;
namespace cl = llvm::cl;

namespace {
cl::OptionCategory category("hope-models options");
cl::OptionCategory overrideCategory(
    "Overrides (change one size or type of the config; see the list of "
    "models for which apply)");

cl::opt<std::string> modelName(cl::Positional, cl::desc("<model>"),
                               cl::cat(category));
cl::opt<std::string>
    configName("config",
               cl::desc("Configuration of the model (default: its first)"),
               cl::value_desc("name"), cl::cat(category));
cl::opt<std::string> outputFile("o",
                                cl::desc("Where the IR goes (default: stdout)"),
                                cl::value_desc("file"), cl::init("-"),
                                cl::cat(category));
cl::opt<std::string> weightsOut(
    "weights-out",
    cl::desc("Also write seeded weights, one tensor per `nl.weight` argument, "
             "to this safetensors file"),
    cl::value_desc("file"), cl::cat(category));
cl::opt<uint64_t> seed("seed", cl::value_desc("N"),
                       cl::desc("Seed of the weights (default 0): same seed, "
                                "same bits on every platform"),
                       cl::init(0), cl::cat(category));
cl::opt<std::string> initialStateOut(
    "initial-state-out",
    cl::desc("--streaming: also write the state of the first piece (every "
             "state input at position 0: memories at their seeded weights, "
             "everything else zero) to this safetensors file, for hope-run "
             "--state-in"),
    cl::value_desc("file"), cl::cat(category));
cl::opt<int64_t> stateBatch(
    "state-batch",
    cl::desc("Sequences (batch size) of --initial-state-out (default 1)"),
    cl::value_desc("N"), cl::init(1), cl::cat(category));
cl::opt<uint64_t> maxWeightsGiB(
    "max-weights-size",
    cl::desc("Refuse models whose weights would exceed this many GiB "
             "(default 64)"),
    cl::value_desc("GiB"), cl::init(64), cl::cat(category));
cl::opt<uint64_t> maxOps(
    "max-ops",
    cl::desc("Refuse models whose IR would exceed this many operations "
             "(default 1000000)"),
    cl::value_desc("N"), cl::init(1000000), cl::cat(category));
cl::opt<bool> listWeightsFlag(
    "list-weights",
    cl::desc("Print the weights (name, dtype, shape, initialisation) instead "
             "of the IR"),
    cl::init(false), cl::cat(category));

cl::opt<int64_t> width("width",
                       cl::desc("Model width (memory-level: d_in = d_out)"),
                       cl::value_desc("N"), cl::cat(overrideCategory));
cl::opt<int64_t> heads("heads", cl::desc("Number of heads"),
                       cl::value_desc("N"), cl::cat(overrideCategory));
cl::opt<int64_t> chunk("chunk",
                       cl::desc("Chunk size of the memory (a finite "
                                "linearisation period scales with it)"),
                       cl::value_desc("N"), cl::cat(overrideCategory));
cl::opt<int64_t> hidden("hidden", cl::desc("Hidden width of MLP memories"),
                        cl::value_desc("N"), cl::cat(overrideCategory));
cl::opt<std::string> dtype("dtype", cl::desc("Element type: f32 or f64"),
                           cl::value_desc("type"), cl::cat(overrideCategory));
cl::opt<std::string> readPoint("read-point",
                               cl::desc("Read point: after or chunk_start"),
                               cl::value_desc("point"),
                               cl::cat(overrideCategory));
cl::opt<std::string> linearize(
    "linearize",
    cl::desc("Chunk-aggregated linearisation period: N tokens or 'sequence' "
             "(makes a memory-level chunk-aggregated)"),
    cl::value_desc("N|sequence"), cl::cat(overrideCategory));

cl::opt<int64_t> chunkMemory(
    "chunk-memory",
    cl::desc("self-modifying-titans: chunk size of M_mem (--chunk sets the "
             "other memories')"),
    cl::value_desc("N"), cl::cat(overrideCategory));
cl::opt<double> etaScale(
    "eta-scale",
    cl::desc("self-modifying-titans: eta = scale * softplus(M_eta(x)) "
             "(default 0.001)"),
    cl::value_desc("x"), cl::cat(overrideCategory));
cl::opt<int64_t> layers("layers",
                        cl::desc("hope-lm: number of HOPE blocks"),
                        cl::value_desc("N"), cl::cat(overrideCategory));
cl::opt<std::string> cmsVariant(
    "cms",
    cl::desc("hope-block, hope-lm: how the CMS blocks combine: sequential "
             "(default), independent (sum_l w_l block_l(x), weights cms_mix) "
             "or nested (frozen: as sequential)"),
    cl::value_desc("variant"), cl::cat(overrideCategory));
cl::opt<std::string> mixer(
    "mixer",
    cl::desc("hope-block, hope-lm: what mixes tokens before the CMS: titans "
             "(self-modifying Titans, default) or attention (causal softmax "
             "attention: HOPE-Attention, weights attn_norm, w_q, w_k, w_v, "
             "w_o)"),
    cl::value_desc("titans|attention"), cl::cat(overrideCategory));
cl::opt<bool> frozenMemories(
    "frozen-memories",
    cl::desc("hope-block, hope-lm, self-modifying-titans: the memories never "
             "learn (no inner updates): each read applies the memory's "
             "initial weights as a fixed MLP; the baseline of test-time "
             "learning"),
    cl::cat(overrideCategory));
cl::opt<double> retentionBias(
    "retention-bias",
    cl::desc("hope-block, hope-lm, self-modifying-titans: alpha = "
             "sigmoid(M_alpha(x) + bias), a constant offset of the "
             "retention's pre-activation (default 0; 4 starts alpha near "
             "0.98)"),
    cl::value_desc("x"), cl::cat(overrideCategory));
cl::opt<bool> normalizeValues(
    "normalize-values",
    cl::desc("hope-block, hope-lm, self-modifying-titans: v = l2n(M_v(x)), "
             "values L2-normalised like the keys"),
    cl::cat(overrideCategory));
cl::opt<bool> boundedEta(
    "bounded-eta",
    cl::desc("hope-block, hope-lm, self-modifying-titans: eta = scale * "
             "sigmoid(M_eta(x)), bounded by the scale, instead of scale * "
             "softplus(M_eta(x))"),
    cl::cat(overrideCategory));
cl::opt<double> memoryEtaScale(
    "memory-eta-scale",
    cl::desc("hope-block, hope-lm, self-modifying-titans: M_mem's own eta "
             "scale; the other memories keep --eta-scale (default: M_mem's "
             "is --eta-scale too)"),
    cl::value_desc("x"), cl::cat(overrideCategory));
cl::opt<std::string> memoryModel(
    "memory-model",
    cl::desc("hope-block, hope-lm, self-modifying-titans: M_mem's model: mlp "
             "(the paper's 2-layer MLP, default) or linear (M_mem(x) = x + W "
             "x, one weight mmem_w1 [H, d, d]: DGD on it is a gated delta "
             "rule)"),
    cl::value_desc("mlp|linear"), cl::cat(overrideCategory));
cl::opt<bool> targetOuterGradient(
    "target-outer-gradient",
    cl::desc("hope-block, hope-lm, self-modifying-titans: the stop-gradient "
             "on the self-generated targets M_r(v) cuts the inner objective "
             "only; the outer gradient flows through them into v (default: "
             "cut for both)"),
    cl::cat(overrideCategory));
cl::opt<std::string> convInit(
    "conv-init",
    cl::desc("hope-block, hope-lm, self-modifying-titans: the causal "
             "convolution's initial taps: seeded (N(0, 1/W^2), default) or "
             "token-shift (even channels the previous token, odd ones the "
             "current one; recorded as nl.init on `conv`)"),
    cl::value_desc("seeded|token-shift"), cl::cat(overrideCategory));
cl::opt<double> keyValueBranchScale(
    "kv-branch-scale",
    cl::desc("hope-block, hope-lm, self-modifying-titans: M_k's and M_v's "
             "output matrices (mk_w2, mv_w2) start at their seeded values "
             "times this (default 1; recorded as nl.init_scale)"),
    cl::value_desc("x"), cl::cat(overrideCategory));
cl::opt<bool> streaming(
    "streaming",
    cl::desc("hope-block, hope-lm: the streaming form: memory states, their "
             "states at the last chunk boundary, the convolution's last "
             "inputs and the position are state inputs and outputs, carried "
             "from one piece of a sequence to the next"),
    cl::cat(overrideCategory));
cl::opt<std::string> cmsLearning(
    "cms-learning",
    cl::desc("hope-lm --streaming: the CMS blocks learn at test time with "
             "these learning rates: one for every CMS level, or one per "
             "level, fastest first, comma-separated (0.05,0.02,0.01); "
             "docs/training.md, \"CMS test-time learning\"; their "
             "parameters, gradient sums and the last token become streaming "
             "states"),
    cl::value_desc("lr[,lr...]"), cl::cat(overrideCategory));
cl::opt<std::string> cmsSignal(
    "cms-signal",
    cl::desc("hope-lm --cms-learning: what the CMS blocks learn from: task "
             "(the language-model loss, default) or local (each block's MLP "
             "branch regresses its input, #nl.l2<>; docs/training.md)"),
    cl::value_desc("signal"), cl::cat(overrideCategory));
cl::opt<double> maxLr("max-lr",
                      cl::desc("titans-memory: bound of the learning rate, "
                               "max_lr * sigmoid(W_lr x) (default 0.01; "
                               "--config=titans-pytorch: 1)"),
                      cl::value_desc("x"), cl::cat(overrideCategory));

cl::opt<std::string> memorySpec(
    "memory-spec",
    cl::desc("memory-level: every field of the memory level from a JSON "
             "object (keys: see docs/models.md); replaces the config and "
             "the other overrides"),
    cl::value_desc("file.json"), cl::cat(overrideCategory));

/// "hope-models: <message>" on stderr; returns the exit code 1.
int fail(const llvm::Twine &message) {
  llvm::errs() << "hope-models: " << message << "\n";
  return 1;
}

std::string listNames(llvm::ArrayRef<const char *> names) {
  return llvm::join(names, ", ");
}

std::string getOverview() {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "hope-models: writes the nl IR of a model (and seeded weights)\n\n"
        "  hope-models NAME [--config=CFG] [-o model.mlir]\n"
        "              [--weights-out=w.safetensors [--seed=N]]\n"
        "  hope-models NAME --streaming ... --initial-state-out=s0.safetensors"
        "   (hope-run --state-in)\n"
     << getOptimizerStepUsage() << "\n"
        "Models and their configs (the first is the default):\n";
  for (const ModelInfo &model : getModels()) {
    os << "  " << model.name << ": " << model.summary << "\n";
    for (const ConfigInfo &config : model.configs)
      os << llvm::formatv("    {0,-18} {1}\n", config.name, config.summary);
    SmallVector<StringRef> flags;
    for (unsigned bit = 1; bit <= kLastOverride; bit <<= 1)
      if (model.overrides & bit)
        flags.push_back(getOverrideFlag(static_cast<Override>(bit)));
    os << "    overrides: "
       << (flags.empty() ? "none" : llvm::join(flags, " "))
       << "\n";
  }
  os << "\nWeights: one tensor per argument {nl.weight = NAME}, shaped as "
        "declared; norm scales are 1,\nconv kernels N(0, 1/W^2), matrices "
        "N(0, 1/fan_in), norm gammas (*gamma) and other vectors N(0, 0.01), "
        "from\nPhilox4x32-10 keyed "
        "by (seed, name) (models/include/nl/Models/SeededWeights.h).\n"
        "An argument's nl.init = \"token_shift\" (--conv-init=token-shift) "
        "starts a convolution as a\ntoken shift; nl.init_scale = s "
        "(--kv-branch-scale) multiplies its values by s.\n";
  return text;
}

/// Parses the override options into `overrides`; an error message if one
/// is malformed or does not apply to `model`.
std::optional<std::string> parseOverrides(const ModelInfo &model,
                                          Overrides &overrides) {
  for (cl::opt<int64_t> *size : {&width, &heads, &chunk, &hidden, &chunkMemory, &layers})
    if (size->getNumOccurrences() && *size <= 0)
      return "--" + size->ArgStr.str() + " must be positive, got " +
             std::to_string(*size);
  if (width.getNumOccurrences())
    overrides.width = width;
  if (heads.getNumOccurrences())
    overrides.heads = heads;
  if (chunk.getNumOccurrences())
    overrides.chunk = chunk;
  if (hidden.getNumOccurrences())
    overrides.hidden = hidden;
  if (dtype.getNumOccurrences()) {
    if (dtype != "f32" && dtype != "f64")
      return "unknown --dtype '" + dtype + "'; dtypes: f32, f64";
    overrides.f64 = dtype == "f64";
  }
  if (readPoint.getNumOccurrences()) {
    overrides.readPoint = nl::symbolizeReadPoint(readPoint);
    if (!overrides.readPoint)
      return "unknown --read-point '" + readPoint +
             "'; read points: after, chunk_start";
  }
  if (linearize.getNumOccurrences()) {
    int64_t period = 0;
    if (linearize != "sequence" &&
        (StringRef(linearize).getAsInteger(10, period) || period <= 0))
      return "--linearize must be a positive number of tokens or "
             "'sequence', got '" +
             linearize + "'";
    overrides.linearize = period;
  }
  if (chunkMemory.getNumOccurrences())
    overrides.chunkMemory = chunkMemory;
  if (layers.getNumOccurrences())
    overrides.layers = layers;
  if (streaming.getNumOccurrences())
    overrides.streaming = streaming.getValue();
  if (cmsLearning.getNumOccurrences()) {
    SmallVector<StringRef> texts;
    StringRef(cmsLearning).split(texts, ',');
    std::vector<double> rates;
    for (StringRef text : texts) {
      double rate = 0;
      if (text.trim().getAsDouble(rate))
        return "--cms-learning: '" + text.str() +
               "' is not a number (rates: lr or lr,lr,...)";
      if (!(rate > 0) || !std::isfinite(rate))
        return "--cms-learning rates must be positive, got " + text.str();
      rates.push_back(rate);
    }
    overrides.cmsLearningRates = std::move(rates);
  }
  if (cmsSignal.getNumOccurrences()) {
    overrides.cmsSignal = nl::symbolizeCmsSignal(cmsSignal);
    if (!overrides.cmsSignal || *overrides.cmsSignal == nl::CmsSignal::None)
      return "unknown --cms-signal '" + cmsSignal + "'; signals: task, local";
  }
  if (frozenMemories.getNumOccurrences())
    overrides.frozenMemories = frozenMemories.getValue();
  if (retentionBias.getNumOccurrences()) {
    if (!std::isfinite(retentionBias))
      return "--retention-bias must be finite, got " +
             std::to_string(retentionBias);
    overrides.retentionBias = retentionBias;
  }
  if (normalizeValues.getNumOccurrences())
    overrides.normalizeValues = normalizeValues.getValue();
  if (boundedEta.getNumOccurrences())
    overrides.boundedEta = boundedEta.getValue();
  if (memoryEtaScale.getNumOccurrences()) {
    if (!(memoryEtaScale > 0) || !std::isfinite(memoryEtaScale))
      return "--memory-eta-scale must be positive, got " +
             std::to_string(memoryEtaScale);
    overrides.memoryEtaScale = memoryEtaScale;
  }
  if (memoryModel.getNumOccurrences()) {
    if (memoryModel != "mlp" && memoryModel != "linear")
      return "unknown --memory-model '" + memoryModel +
             "'; models: mlp, linear";
    overrides.linearOutputMemory = memoryModel == "linear";
  }
  if (targetOuterGradient.getNumOccurrences())
    overrides.targetOuterGradient = targetOuterGradient.getValue();
  if (convInit.getNumOccurrences()) {
    if (convInit != "seeded" && convInit != "token-shift")
      return "unknown --conv-init '" + convInit +
             "'; initialisations: seeded, token-shift";
    overrides.tokenShiftConv = convInit == "token-shift";
  }
  if (keyValueBranchScale.getNumOccurrences()) {
    if (!std::isfinite(keyValueBranchScale))
      return "--kv-branch-scale must be finite, got " +
             std::to_string(keyValueBranchScale);
    overrides.keyValueBranchScale = keyValueBranchScale;
  }
  if (mixer.getNumOccurrences()) {
    if (mixer == "titans")
      overrides.mixer = mlir::nl::models::HopeMixer::SelfModifyingTitans;
    else if (mixer == "attention")
      overrides.mixer = mlir::nl::models::HopeMixer::Attention;
    else
      return "unknown --mixer '" + mixer + "'; mixers: titans, attention";
  }
  if (cmsVariant.getNumOccurrences()) {
    overrides.cmsVariant = nl::symbolizeCmsVariant(cmsVariant);
    if (!overrides.cmsVariant)
      return "unknown --cms '" + cmsVariant +
             "'; variants: sequential, independent, nested";
  }
  if (etaScale.getNumOccurrences()) {
    if (!(etaScale > 0))
      return "--eta-scale must be positive, got " + std::to_string(etaScale);
    overrides.etaScale = etaScale;
  }
  if (maxLr.getNumOccurrences()) {
    if (!(maxLr > 0))
      return "--max-lr must be positive, got " + std::to_string(maxLr);
    overrides.maxLr = maxLr;
  }
  if (memorySpec.getNumOccurrences()) {
    if (overrides.getGiven())
      return "--memory-spec gives every field of the memory level: do not "
             "combine it with other overrides";
    llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> file =
        hope::tools::readInput(memorySpec);
    if (!file)
      return llvm::toString(file.takeError());
    llvm::Expected<mlir::nl::models::MemoryLevelConfig> spec =
        parseMemorySpec((*file)->getBuffer());
    if (!spec)
      return memorySpec + ": " + llvm::toString(spec.takeError());
    overrides.memorySpec = *spec;
  }
  unsigned unsupported = overrides.getGiven() & ~model.overrides;
  for (unsigned bit = 1; bit <= kLastOverride; bit <<= 1)
    if (unsupported & bit)
      return getOverrideFlag(static_cast<Override>(bit)).str() +
             " does not apply to " + model.name + " (see --help)";
  return std::nullopt;
}

/// The command that rebuilds the IR (without file names), for its header.
std::string describeCommand(const ModelInfo &model, const ConfigInfo &config) {
  std::string text =
      "hope-models " + std::string(model.name) + " --config=" + config.name;
  for (cl::opt<int64_t> *size : {&width, &heads, &chunk, &hidden, &chunkMemory, &layers})
    if (size->getNumOccurrences())
      text += " --" + size->ArgStr.str() + "=" + std::to_string(*size);
  for (cl::opt<std::string> *option :
       {&dtype, &readPoint, &linearize, &cmsVariant, &mixer, &memoryModel,
        &convInit, &cmsLearning, &cmsSignal})
    if (option->getNumOccurrences())
      text += " --" + option->ArgStr.str() + "=" + option->getValue();
  if (streaming)
    text += " --streaming";
  if (frozenMemories)
    text += " --frozen-memories";
  if (normalizeValues)
    text += " --normalize-values";
  if (boundedEta)
    text += " --bounded-eta";
  if (targetOuterGradient)
    text += " --target-outer-gradient";
  if (memorySpec.getNumOccurrences())
    text += " --memory-spec=" + memorySpec;
  for (cl::opt<double> *scale :
       {&maxLr, &etaScale, &retentionBias, &memoryEtaScale,
        &keyValueBranchScale})
    if (scale->getNumOccurrences())
      text += (" --" + scale->ArgStr + "=" +
               llvm::formatv("{0}", llvm::format("%g", scale->getValue())).str())
                  .str();
  return text;
}

std::string describeModelNames() {
  SmallVector<const char *> names;
  for (const ModelInfo &model : getModels())
    names.push_back(model.name);
  return listNames(names);
}

/// What a model takes: its weights' bytes and its IR's operations.
struct ModelSize {
  uint64_t weightBytes = 0, ops = 0;
};

/// Builds `model` into a scratch module and measures it; nullopt when it
/// does not build (the real build reports why).
std::optional<ModelSize> measure(const ModelInfo &model,
                                 const ConfigInfo &config,
                                 const Overrides &overrides,
                                 MLIRContext &context) {
  OpBuilder builder(&context);
  Location loc = builder.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  builder.setInsertionPointToEnd(module->getBody());
  if (buildModel(model, config, overrides, builder, loc))
    return std::nullopt;
  ModelSize size;
  module->walk([&](Operation *) { ++size.ops; });
  FailureOr<SmallVector<nl::models::WeightSpec>> weights =
      nl::models::collectWeights(*module);
  if (failed(weights))
    return std::nullopt;
  for (const nl::models::WeightSpec &weight : *weights) {
    uint64_t bytes = weight.isF64 ? 8 : 4;
    for (int64_t dim : weight.shape)
      bytes = llvm::SaturatingMultiply(bytes, static_cast<uint64_t>(dim));
    size.weightBytes = llvm::SaturatingAdd(size.weightBytes, bytes);
  }
  return size;
}

/// The size of `model` as `overrides` ask, without building it whole: a
/// model with many layers is measured with one and two, and extrapolated
/// (the IR is built op by op, so a huge --layers would exhaust memory before
/// anything could be checked). Sizes alone never allocate their tensors.
std::optional<ModelSize> estimate(const ModelInfo &model,
                                  const ConfigInfo &config,
                                  const Overrides &overrides,
                                  MLIRContext &context) {
  constexpr int64_t kMeasuredLayers = 8;
  if (!overrides.layers || *overrides.layers <= kMeasuredLayers)
    return measure(model, config, overrides, context);
  Overrides one = overrides, two = overrides;
  one.layers = 1;
  two.layers = 2;
  std::optional<ModelSize> first = measure(model, config, one, context);
  std::optional<ModelSize> second = measure(model, config, two, context);
  if (!first || !second)
    return std::nullopt;
  uint64_t more = static_cast<uint64_t>(*overrides.layers - 1);
  auto extend = [&](uint64_t base, uint64_t next) {
    return llvm::SaturatingAdd(
        base, llvm::SaturatingMultiply(more, next - std::min(next, base)));
  };
  return ModelSize{extend(first->weightBytes, second->weightBytes),
                   extend(first->ops, second->ops)};
}

/// Refuses a model whose size exceeds --max-weights-size or --max-ops.
std::optional<std::string> checkSize(const ModelSize &size) {
  uint64_t maxBytes = maxWeightsGiB >= (UINT64_MAX >> 30)
                          ? UINT64_MAX
                          : maxWeightsGiB.getValue() << 30;
  auto gib = [](uint64_t bytes) {
    return llvm::formatv("{0:f1}", static_cast<double>(bytes) / (1ull << 30))
        .str();
  };
  if (size.weightBytes > maxBytes)
    return "the weights would take about " + gib(size.weightBytes) +
           " GiB, more than --max-weights-size=" +
           std::to_string(maxWeightsGiB) + " GiB";
  if (size.ops > maxOps)
    return "the IR would have about " + std::to_string(size.ops) +
           " operations, more than --max-ops=" + std::to_string(maxOps);
  return std::nullopt;
}

/// The model's entry point: the one function buildModel adds.
func::FuncOp getEntryPoint(ModuleOp module) {
  auto functions = module.getOps<func::FuncOp>();
  return functions.empty() ? func::FuncOp() : *functions.begin();
}

int run() {
  if (modelName.empty())
    return fail("give a model: " + describeModelNames() + " (see --help)");
  if (modelName == "optimizer-step")
    return runOptimizerStep(outputFile, dtype);
  const ModelInfo *model = findModel(modelName);
  if (!model)
    return fail("unknown model '" + modelName +
                "'; models: " + describeModelNames());
  const ConfigInfo *config = configName.getNumOccurrences()
                                 ? findConfig(*model, configName)
                                 : &model->configs.front();
  if (!config) {
    SmallVector<const char *> names;
    for (const ConfigInfo &info : model->configs)
      names.push_back(info.name);
    return fail("unknown config '" + configName + "' of " + model->name +
                "; configs: " + listNames(names));
  }
  Overrides overrides;
  if (std::optional<std::string> error = parseOverrides(*model, overrides))
    return fail(*error);
  if (!initialStateOut.empty() && !overrides.streaming.value_or(false))
    return fail("--initial-state-out needs --streaming: only the streaming "
                "form carries a state");
  if (stateBatch <= 0)
    return fail("--state-batch must be positive, got " +
                std::to_string(stateBatch));
  // Every output is checked before anything is written: a missing folder
  // leaves no file behind.
  SmallVector<StringRef> outputs = {weightsOut, initialStateOut};
  if (!listWeightsFlag)
    outputs.push_back(outputFile);
  for (StringRef path : outputs)
    if (!path.empty())
      if (llvm::Error error = hope::tools::checkOutputPath(path))
        return fail(llvm::toString(std::move(error)));

  hope::models::BuildContext build;
  MLIRContext &context = build.context();
  const std::string &diagnostics = build.firstError();

  if (std::optional<ModelSize> size =
          estimate(*model, *config, overrides, context))
    if (std::optional<std::string> error = checkSize(*size))
      return fail(llvm::formatv("{0} --config={1}: {2}", model->name,
                                config->name, *error));

  OpBuilder builder(&context);
  Location loc = builder.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  builder.setInsertionPointToEnd(module->getBody());
  if (std::optional<std::string> error =
          buildModel(*model, *config, overrides, builder, loc))
    return fail(*error);
  if (failed(verify(*module)))
    return fail(llvm::formatv("{0} --config={1} does not verify: {2}",
                              model->name, config->name, diagnostics));
  FailureOr<SmallVector<nl::models::WeightSpec>> weights =
      nl::models::collectWeights(*module);
  if (failed(weights))
    return fail(diagnostics);

  if (listWeightsFlag) {
    listWeights(llvm::outs(), *weights);
  } else {
    std::string error;
    auto output = openOutputFile(outputFile, &error);
    if (!output)
      return fail("cannot write '" + outputFile + "': " + error);
    output->os() << "// " << describeCommand(*model, *config) << "\n";
    module->print(output->os());
    output->keep();
    if (outputFile != "-")
      llvm::errs() << "hope-models: wrote " << model->name << " ("
                   << config->name << ") to " << outputFile << "\n";
  }

  if (!weightsOut.empty()) {
    nl::models::SeededWeights generator(seed);
    if (llvm::Error error = writeWeights(weightsOut, *weights, generator))
      return fail("cannot write '" + weightsOut +
                  "': " + llvm::toString(std::move(error)));
    llvm::errs() << "hope-models: wrote " << weights->size() << " tensors ("
                 << countParameters(*weights) << " parameters, seed " << seed
                 << ") to " << weightsOut << "\n";
  }

  if (!initialStateOut.empty()) {
    // The memories start from the weights the plain form would take.
    Overrides plainOverrides = overrides;
    plainOverrides.streaming = false;
    plainOverrides.cmsLearningRates = std::nullopt; // its blocks are weights
    plainOverrides.cmsSignal = std::nullopt;
    OwningOpRef<ModuleOp> plain = ModuleOp::create(loc);
    builder.setInsertionPointToEnd(plain->getBody());
    if (std::optional<std::string> error =
            buildModel(*model, *config, plainOverrides, builder, loc))
      return fail(*error);
    nl::models::SeededWeights generator(seed);
    if (llvm::Error error = writeInitialState(
            initialStateOut, getEntryPoint(*module), getEntryPoint(*plain),
            stateBatch, generator))
      return fail("cannot write '" + initialStateOut +
                  "': " + llvm::toString(std::move(error)));
    llvm::errs() << "hope-models: wrote the initial state (" << stateBatch
                 << (stateBatch == 1 ? " sequence" : " sequences")
                 << ", seed " << seed << ") to " << initialStateOut << "\n";
  }
  return 0;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  hope::tools::setBugReportMessage();
  cl::HideUnrelatedOptions(
      {&category, &overrideCategory, &getOptimizerStepCategory()});
  cl::ParseCommandLineOptions(argc, argv, getOverview());
  return run();
}
