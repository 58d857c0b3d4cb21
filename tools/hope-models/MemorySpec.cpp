//===- MemorySpec.cpp - a memory level described in JSON ------------------===//

#include "MemorySpec.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/JSON.h"

using namespace hope::models;
using namespace mlir::nl;
using namespace mlir::nl::models;
using llvm::StringRef;

namespace {
using Config = MemoryLevelConfig;

constexpr StringRef kKeys =
    "name, heads, input_width, output_width, dtype (f32|f64), model "
    "(linear|mlp), depth, hidden, activation, residual, norm, objective "
    "(l2|dot), reduction, half, rule (momentum_gd|dgd), order, "
    "newton_schulz, dgd_momentum, step_size, lr, retention_rate, "
    "momentum_rate (token|chunk), chunk, linearize (tokens|\"sequence\"|null), "
    "read_point, retention";

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "memory spec: " + message);
}

/// Reads the fields of one object and keeps the first error, which names
/// the key it could not read.
class SpecReader {
public:
  explicit SpecReader(const llvm::json::Object &object) : object(object) {}

  /// The first error, or else the first key no reader asked for.
  llvm::Error finish() {
    if (!firstError.empty())
      return fail(firstError);
    for (const auto &entry : object)
      if (!known.contains(entry.first))
        return fail("unknown key '" + entry.first.str() +
                    "' (the keys are: " + kKeys + ")");
    return llvm::Error::success();
  }

  void integer(StringRef key, int64_t &out) {
    if (const llvm::json::Value *value = find(key)) {
      std::optional<int64_t> number = value->getAsInteger();
      if (!number)
        return error("'" + key + "' must be an integer");
      out = *number;
    }
  }

  void boolean(StringRef key, bool &out) {
    if (const llvm::json::Value *value = find(key)) {
      std::optional<bool> flag = value->getAsBoolean();
      if (!flag)
        return error("'" + key + "' must be true or false");
      out = *flag;
    }
  }

  /// A string among `choices`, or the spelling `symbolize` accepts.
  template <typename T, typename Symbolize>
  void symbol(StringRef key, T &out, Symbolize symbolize, StringRef choices) {
    if (const llvm::json::Value *value = find(key)) {
      std::optional<StringRef> text = value->getAsString();
      std::optional<T> parsed;
      if (text)
        parsed = symbolize(*text);
      if (!parsed)
        return error("'" + key + "' must be one of " + choices);
      out = *parsed;
    }
  }

  /// The linearisation period: an integer, "sequence" (0), or null (the
  /// token variant).
  void period(StringRef key, std::optional<int64_t> &out) {
    if (const llvm::json::Value *value = find(key)) {
      if (value->kind() == llvm::json::Value::Null) {
        out.reset();
      } else if (std::optional<int64_t> number = value->getAsInteger()) {
        out = *number;
      } else if (value->getAsString() == std::optional<StringRef>("sequence")) {
        out = 0;
      } else {
        return error("'" + key +
                     "' must be a period in tokens, \"sequence\" or null");
      }
    }
  }

  void string(StringRef key, std::string &out) {
    if (const llvm::json::Value *value = find(key)) {
      std::optional<StringRef> text = value->getAsString();
      if (!text)
        return error("'" + key + "' must be a string");
      out = text->str();
    }
  }

private:
  void error(const llvm::Twine &message) {
    if (firstError.empty())
      firstError = message.str();
  }

  const llvm::json::Value *find(StringRef key) {
    known.insert(key);
    return object.get(key);
  }

  const llvm::json::Object &object;
  llvm::StringSet<> known;
  std::string firstError;
};

template <typename T>
std::function<std::optional<T>(StringRef)>
choice(std::initializer_list<std::pair<StringRef, T>> spellings) {
  std::vector<std::pair<StringRef, T>> table(spellings);
  return [table](StringRef text) -> std::optional<T> {
    for (const auto &[spelling, value] : table)
      if (text == spelling)
        return value;
    return std::nullopt;
  };
}

} // namespace

StringRef hope::models::getMemorySpecKeys() { return kKeys; }

llvm::Expected<Config> hope::models::parseMemorySpec(StringRef json) {
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(json);
  if (!parsed)
    return fail("not valid JSON: " + llvm::toString(parsed.takeError()));
  const llvm::json::Object *object = parsed->getAsObject();
  if (!object)
    return fail("not a JSON object");

  Config config;
  SpecReader r(*object);
  auto dtype = choice<Config::Dtype>(
      {{"f32", Config::Dtype::F32}, {"f64", Config::Dtype::F64}});
  auto model = choice<Config::Model>(
      {{"linear", Config::Model::Linear}, {"mlp", Config::Model::MLP}});
  auto objective = choice<Config::Objective>(
      {{"l2", Config::Objective::L2}, {"dot", Config::Objective::Dot}});
  auto rule = choice<Config::Rule>({{"momentum_gd", Config::Rule::MomentumGD},
                                    {"dgd", Config::Rule::DGD}});
  auto granularity = [](StringRef text) {
    return symbolizeRateGranularity(text);
  };
  r.string("name", config.name);
  r.integer("heads", config.heads);
  r.integer("input_width", config.inputWidth);
  r.integer("output_width", config.outputWidth);
  r.symbol("dtype", config.dtype, dtype, "f32, f64");
  r.symbol("model", config.model, model, "linear, mlp");
  r.integer("depth", config.depth);
  r.integer("hidden", config.hidden);
  r.symbol("activation", config.activation,
           [](StringRef t) { return symbolizeActivation(t); },
           "the nl dialect's activations");
  r.symbol("residual", config.residual,
           [](StringRef t) { return symbolizeResidual(t); },
           "the nl dialect's residuals");
  r.symbol("norm", config.norm,
           [](StringRef t) { return symbolizeMemoryNorm(t); },
           "the nl dialect's memory norms");
  r.symbol("objective", config.objective, objective, "l2, dot");
  r.symbol("reduction", config.reduction,
           [](StringRef t) { return symbolizeReduction(t); },
           "the nl dialect's reductions");
  r.boolean("half", config.half);
  r.symbol("rule", config.rule, rule, "momentum_gd, dgd");
  r.integer("order", config.order);
  r.boolean("newton_schulz", config.newtonSchulz);
  r.boolean("dgd_momentum", config.dgdMomentum);
  r.symbol("step_size", config.stepSize,
           [](StringRef t) { return symbolizeStepSize(t); },
           "the nl dialect's step sizes");
  r.symbol("lr", config.lrGranularity, granularity, "token, chunk");
  r.symbol("retention_rate", config.retentionGranularity, granularity,
           "token, chunk");
  r.symbol("momentum_rate", config.momentumGranularity, granularity,
           "token, chunk");
  r.integer("chunk", config.chunk);
  r.period("linearize", config.linearizationPeriod);
  r.symbol("read_point", config.readPoint,
           [](StringRef t) { return symbolizeReadPoint(t); },
           "the nl dialect's read points");
  r.boolean("retention", config.retention);
  if (llvm::Error error = r.finish())
    return std::move(error);
  if (config.heads < 1 || config.inputWidth < 1 || config.outputWidth < 1 ||
      config.depth < 1 || config.hidden < 1 || config.chunk < 1 ||
      config.order < 0)
    return fail("heads, widths, depth, hidden and chunk must be positive, "
                "order not negative");
  return config;
}
