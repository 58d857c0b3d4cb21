//===- SyntheticTasks.cpp - mqar, needle and copy -------------------------===//
//
// The synthetic tasks' formats (docs/training.md, "hope-train"); every
// random choice comes from the sequence's SequenceRandom.
//
//===----------------------------------------------------------------------===//

#include "TaskKinds.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <numeric>

using namespace llvm;

namespace hope::train {
namespace {

/// What the synthetic tasks share: a vocabulary, a seed, and sequences that
/// start as filler 0 with no target before `generate` fills them from the
/// sequence's own random numbers.
class SyntheticTask : public Task {
public:
  int64_t vocabulary() const override { return vocab; }

  void fillSequence(Split split, uint64_t index, MutableArrayRef<int64_t> tokens,
                    MutableArrayRef<int64_t> targets) const final {
    SequenceRandom random(seed, split, index);
    std::fill(tokens.begin(), tokens.end(), 0);
    std::fill(targets.begin(), targets.end(), -1);
    generate(random, tokens, targets);
  }

protected:
  SyntheticTask(int64_t vocabulary, int64_t length, uint64_t seed)
      : Task(length), vocab(vocabulary), seed(seed) {}
  virtual void generate(SequenceRandom &random, MutableArrayRef<int64_t> tokens,
                        MutableArrayRef<int64_t> targets) const = 0;

  int64_t vocab;
  uint64_t seed;
};

/// Multi-query associative recall: pairs k v at the start, then each key
/// once more at a random slot, followed by its value; the target at a query
/// key is its value.
class MqarTask : public SyntheticTask {
public:
  MqarTask(int64_t vocabulary, int64_t pairs, int64_t length, uint64_t seed)
      : SyntheticTask(vocabulary, length, seed), pairs(pairs) {}

private:
  void generate(SequenceRandom &random, MutableArrayRef<int64_t> tokens,
                MutableArrayRef<int64_t> targets) const override {
    // Distinct keys from [1, V/2): a partial Fisher-Yates shuffle.
    std::vector<int64_t> keys(vocab / 2 - 1);
    std::iota(keys.begin(), keys.end(), 1);
    for (int64_t i = 0; i < pairs; ++i)
      std::swap(keys[i], keys[i + random.below(int64_t(keys.size()) - i)]);
    std::vector<int64_t> values(pairs);
    for (int64_t i = 0; i < pairs; ++i) {
      values[i] = vocab / 2 + random.below(vocab - vocab / 2);
      tokens[2 * i] = keys[i];
      tokens[2 * i + 1] = values[i];
    }
    // P of the (T - 2P) / 2 query slots, in increasing order, get the pairs
    // in a random order.
    std::vector<int64_t> slots((length() - 2 * pairs) / 2);
    std::iota(slots.begin(), slots.end(), 0);
    for (int64_t i = 0; i < pairs; ++i)
      std::swap(slots[i], slots[i + random.below(int64_t(slots.size()) - i)]);
    std::sort(slots.begin(), slots.begin() + pairs);
    std::vector<int64_t> order(pairs);
    std::iota(order.begin(), order.end(), 0);
    for (int64_t i = pairs - 1; i > 0; --i)
      std::swap(order[i], order[random.below(i + 1)]);
    for (int64_t j = 0; j < pairs; ++j) {
      int64_t at = 2 * pairs + 2 * slots[j];
      tokens[at] = keys[order[j]];
      tokens[at + 1] = values[order[j]];
      targets[at] = values[order[j]];
    }
  }

  int64_t pairs;
};

/// A passkey at a chosen depth in random filler, asked for at the end.
class NeedleTask : public SyntheticTask {
public:
  static constexpr int64_t kNeedleMarker = 1, kQueryMarker = 2, kFirstFiller = 3;

  NeedleTask(int64_t vocabulary, int64_t length, double depth, uint64_t seed)
      : SyntheticTask(vocabulary, length, seed),
        position(std::clamp<int64_t>(int64_t(depth * double(length - 4)), 0,
                                     length - 4)) {}

private:
  void generate(SequenceRandom &random, MutableArrayRef<int64_t> tokens,
                MutableArrayRef<int64_t> targets) const override {
    int64_t passkey = kFirstFiller + random.below(vocab - kFirstFiller);
    for (int64_t &token : tokens)
      token = kFirstFiller + random.below(vocab - kFirstFiller);
    int64_t length = int64_t(tokens.size());
    tokens[position] = kNeedleMarker;
    tokens[position + 1] = passkey;
    tokens[length - 2] = kQueryMarker;
    tokens[length - 1] = passkey;
    targets[length - 2] = passkey;
  }

  int64_t position;
};

/// x_1 .. x_L, a separator, x_1 .. x_L: the second half is scored.
class CopyTask : public SyntheticTask {
public:
  static constexpr int64_t kSeparator = 1, kFirstSymbol = 2;

  CopyTask(int64_t vocabulary, int64_t length, uint64_t seed)
      : SyntheticTask(vocabulary, length, seed) {}

private:
  void generate(SequenceRandom &random, MutableArrayRef<int64_t> tokens,
                MutableArrayRef<int64_t> targets) const override {
    int64_t half = (length() - 1) / 2;
    for (int64_t i = 0; i < half; ++i) {
      int64_t symbol = kFirstSymbol + random.below(vocab - kFirstSymbol);
      tokens[i] = symbol;
      tokens[half + 1 + i] = symbol;
      targets[half + i] = symbol;
    }
    tokens[half] = kSeparator;
  }
};

/// The sizes every synthetic task needs at least.
Error checkLeast(StringRef task, const TaskOptions &options,
                 int64_t vocabulary, int64_t length) {
  if (options.vocabulary < vocabulary)
    return createStringError("--task=" + task + ": --vocab=" +
                             Twine(options.vocabulary) + " is below " +
                             Twine(vocabulary));
  if (options.length < length)
    return createStringError("--task=" + task + ": --seq-len=" +
                             Twine(options.length) + " is below " +
                             Twine(length));
  return Error::success();
}

} // namespace

Expected<std::unique_ptr<Task>> createMqarTask(const TaskOptions &options) {
  if (Error error = checkLeast("mqar", options, 4, 1))
    return std::move(error);
  if (options.pairs < 1 || options.pairs > options.vocabulary / 2 - 1)
    return createStringError(
        "--task=mqar: --pairs=" + Twine(options.pairs) +
        " must be between 1 and " + Twine(options.vocabulary / 2 - 1) +
        " (distinct keys from [1, vocab/2))");
  if (4 * options.pairs > options.length)
    return createStringError("--task=mqar: --seq-len=" + Twine(options.length) +
                             " is below 4 x --pairs = " +
                             Twine(4 * options.pairs));
  return std::make_unique<MqarTask>(options.vocabulary, options.pairs,
                                    options.length, options.seed);
}

Expected<std::unique_ptr<Task>> createNeedleTask(const TaskOptions &options) {
  if (Error error = checkLeast("needle", options, 4, 6))
    return std::move(error);
  if (!(options.depth >= 0.0 && options.depth <= 1.0))
    return createStringError("--task=needle: --depth=" +
                             formatv("{0}", format("%g", options.depth)) +
                             " is not in [0, 1]");
  return std::make_unique<NeedleTask>(options.vocabulary, options.length,
                                      options.depth, options.seed);
}

Expected<std::unique_ptr<Task>> createCopyTask(const TaskOptions &options) {
  if (Error error = checkLeast("copy", options, 3, 3))
    return std::move(error);
  return std::make_unique<CopyTask>(options.vocabulary, options.length,
                                    options.seed);
}

} // namespace hope::train
