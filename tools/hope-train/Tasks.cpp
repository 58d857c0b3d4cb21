//===- Tasks.cpp - the generator, batches and the task factory ------------===//

#include "TaskKinds.h"

#include "nl/Models/SeededWeights.h"

using namespace llvm;

namespace hope::train {

SequenceRandom::SequenceRandom(uint64_t seed, Split split, uint64_t index)
    : seed(seed), index(index), split(split) {}

uint32_t SequenceRandom::next() {
  if (used == 4) {
    words = mlir::nl::models::philox4x32_10(
        {uint32_t(index), uint32_t(index >> 32), uint32_t(split), block++},
        {uint32_t(seed), uint32_t(seed >> 32)});
    used = 0;
  }
  return words[used++];
}

int64_t SequenceRandom::below(int64_t bound) {
  return int64_t((uint64_t(next()) * uint64_t(bound)) >> 32);
}

Task::~Task() = default;

Batch Task::makeBatch(Split split, uint64_t first, int64_t batch) const {
  Batch result;
  result.batch = batch;
  result.length = sequenceLength;
  result.tokens.assign(batch * sequenceLength, 0);
  result.targets.assign(batch * sequenceLength, -1);
  for (int64_t b = 0; b < batch; ++b)
    fillSequence(split, first + b,
                 MutableArrayRef(result.tokens).slice(b * sequenceLength,
                                                      sequenceLength),
                 MutableArrayRef(result.targets)
                     .slice(b * sequenceLength, sequenceLength));
  return result;
}

Expected<std::unique_ptr<Task>> createTask(const TaskOptions &options) {
  if (options.length < 1)
    return createStringError("--seq-len=" + Twine(options.length) +
                             ": must be at least 1");
  StringRef spec = options.spec;
  if (spec == "mqar")
    return createMqarTask(options);
  if (spec == "needle")
    return createNeedleTask(options);
  if (spec == "copy")
    return createCopyTask(options);
  if (spec.consume_front("text:")) {
    if (spec.empty())
      return createStringError("--task=text:FILE needs a file name");
    return createTextTask(options, spec);
  }
  return createStringError("unknown task '" + options.spec +
                           "' (expected mqar, needle, copy or text:FILE)");
}

} // namespace hope::train
