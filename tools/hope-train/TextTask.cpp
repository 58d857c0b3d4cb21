//===- TextTask.cpp - byte-level language modelling on a file -------------===//
//
// Vocabulary 256 (one token per byte). The last 10% of the file is held
// out: training windows start at random in the first 90%, evaluation
// windows tile the last 10% in order. A window of T tokens needs T + 1
// bytes (the targets are the next bytes).
//
//===----------------------------------------------------------------------===//

#include "TaskKinds.h"

#include "llvm/Support/MemoryBuffer.h"

using namespace llvm;

namespace hope::train {
namespace {

class TextTask : public Task {
public:
  TextTask(std::unique_ptr<MemoryBuffer> text, int64_t length, uint64_t seed)
      : Task(length), text(std::move(text)), seed(seed) {
    int64_t size = int64_t(this->text->getBufferSize());
    trainEnd = size - size / 10;
    evalWindows = (size - trainEnd - 1) / length;
  }

  int64_t vocabulary() const override { return 256; }

  void fillSequence(Split split, uint64_t index, MutableArrayRef<int64_t> tokens,
                    MutableArrayRef<int64_t> targets) const override {
    int64_t start;
    if (split == Split::Train) {
      SequenceRandom random(seed, split, index);
      start = random.below(trainEnd - length());
    } else {
      start = trainEnd + int64_t(index % uint64_t(evalWindows)) * length();
    }
    const auto *bytes =
        reinterpret_cast<const uint8_t *>(text->getBufferStart()) + start;
    for (int64_t i = 0; i < length(); ++i) {
      tokens[i] = bytes[i];
      targets[i] = bytes[i + 1];
    }
  }

private:
  std::unique_ptr<MemoryBuffer> text;
  uint64_t seed;
  int64_t trainEnd = 0, evalWindows = 0;
};

} // namespace

Expected<std::unique_ptr<Task>> createTextTask(const TaskOptions &options,
                                               StringRef path) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> text =
      MemoryBuffer::getFile(path, /*IsText=*/false,
                            /*RequiresNullTerminator=*/false);
  if (!text)
    return createStringError("--task=text:" + path + ": " +
                             text.getError().message());
  int64_t size = int64_t((*text)->getBufferSize());
  int64_t heldOut = size / 10, needed = options.length + 1;
  if (size - heldOut < needed || heldOut < needed)
    return createStringError(
        "--task=text:" + path + ": " + Twine(size) +
        " bytes are too few for --seq-len=" + Twine(options.length) +
        " (both the first 90% and the held-out last 10% need " +
        Twine(needed) + " bytes, i.e. at least " + Twine(10 * needed) +
        " bytes)");
  return std::make_unique<TextTask>(std::move(*text), options.length,
                                    options.seed);
}

} // namespace hope::train
