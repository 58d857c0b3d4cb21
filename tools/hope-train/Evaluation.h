//===- Evaluation.h - held-out loss and accuracy from logits ----*- C++ -*-===//
//
// Scores the forward pass's logits at the target positions (target >= 0):
// the mean cross-entropy (natural log, computed with the max subtracted) and
// the fraction whose argmax is the target (ties: the lowest index).
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_TOOLS_HOPETRAIN_EVALUATION_H
#define HOPE_TOOLS_HOPETRAIN_EVALUATION_H

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>

namespace hope::train {

struct Score {
  double lossSum = 0;
  int64_t correct = 0;
  int64_t scored = 0;

  void add(const Score &other) {
    lossSum += other.lossSum;
    correct += other.correct;
    scored += other.scored;
  }
  double loss() const { return scored ? lossSum / double(scored) : 0.0; }
  double accuracy() const {
    return scored ? double(correct) / double(scored) : 0.0;
  }
};

/// `logits` is [positions, vocabulary], `targets` [positions]; a target
/// outside [0, vocabulary) other than a negative one counts as wrong with
/// an infinite loss.
Score scoreLogits(llvm::ArrayRef<float> logits, int64_t vocabulary,
                  llvm::ArrayRef<int64_t> targets);

} // namespace hope::train

#endif // HOPE_TOOLS_HOPETRAIN_EVALUATION_H
