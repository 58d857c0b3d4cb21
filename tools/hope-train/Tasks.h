//===- Tasks.h - hope-train's tasks: deterministic batches ------*- C++ -*-===//
//
// Each task turns (seed, split, sequence index) into one sequence of tokens
// and the targets to predict at each position (-1: not scored). A sequence
// is a pure function of those three numbers (a counter-based generator,
// SequenceRandom), so the data position of a run -- how many training
// sequences it consumed -- and the seed reproduce every later batch: this is
// what makes `--resume` bit-identical. Training and evaluation sequences
// come from separate streams (the split is part of the generator's counter;
// for text, separate parts of the file). Formats: docs/training.md,
// "hope-train".
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_TOOLS_HOPETRAIN_TASKS_H
#define HOPE_TOOLS_HOPETRAIN_TASKS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace hope::train {

/// Where a sequence comes from: the training stream or the held-out one.
enum class Split : uint32_t { Train = 0, Eval = 1 };

/// Tokens and targets, both i64 [batch, length], row-major.
struct Batch {
  int64_t batch = 0;
  int64_t length = 0;
  std::vector<int64_t> tokens;
  std::vector<int64_t> targets;
};

/// The random numbers of one sequence: Philox4x32-10 with key = the seed and
/// counter = (index low, index high, split, block).
class SequenceRandom {
public:
  SequenceRandom(uint64_t seed, Split split, uint64_t index);
  /// The next 32 random bits.
  uint32_t next();
  /// A number in [0, bound) (bound > 0; multiply-shift, bias < bound/2^32).
  int64_t below(int64_t bound);

private:
  uint64_t seed, index;
  Split split;
  uint32_t block = 0;
  unsigned used = 4;
  std::array<uint32_t, 4> words{};
};

/// What every task is told.
struct TaskOptions {
  /// "mqar", "needle", "copy" or "text:FILE".
  std::string spec = "mqar";
  int64_t vocabulary = 64;
  int64_t pairs = 8;
  int64_t length = 64;
  double depth = 0.5;
  uint64_t seed = 0;
};

class Task {
public:
  virtual ~Task();
  /// The vocabulary its tokens and targets lie in: [0, vocabulary()).
  virtual int64_t vocabulary() const = 0;
  /// Sequence `index` of `split` into `tokens` and `targets` (both of the
  /// task's length).
  virtual void fillSequence(Split split, uint64_t index,
                            llvm::MutableArrayRef<int64_t> tokens,
                            llvm::MutableArrayRef<int64_t> targets) const = 0;

  int64_t length() const { return sequenceLength; }
  /// Sequences first, first + 1, ..., first + batch - 1 of `split`.
  Batch makeBatch(Split split, uint64_t first, int64_t batch) const;

protected:
  explicit Task(int64_t length) : sequenceLength(length) {}
  int64_t sequenceLength;
};

/// The task `options.spec` names, its options checked: an unknown task, a
/// missing or too short text file, sizes that do not fit are errors that
/// say so.
llvm::Expected<std::unique_ptr<Task>> createTask(const TaskOptions &options);

} // namespace hope::train

#endif // HOPE_TOOLS_HOPETRAIN_TASKS_H
