//===- Evaluation.cpp - cross-entropy and accuracy at the targets ---------===//

#include "Evaluation.h"

#include <cmath>
#include <limits>

namespace hope::train {

Score scoreLogits(llvm::ArrayRef<float> logits, int64_t vocabulary,
                  llvm::ArrayRef<int64_t> targets) {
  Score score;
  for (size_t position = 0; position < targets.size(); ++position) {
    int64_t target = targets[position];
    if (target < 0)
      continue;
    ++score.scored;
    if (target >= vocabulary) {
      score.lossSum = std::numeric_limits<double>::infinity();
      continue;
    }
    llvm::ArrayRef<float> row = logits.slice(position * vocabulary, vocabulary);
    int64_t best = 0;
    for (int64_t v = 1; v < vocabulary; ++v)
      if (row[v] > row[best])
        best = v;
    double sum = 0;
    for (float value : row)
      sum += std::exp(double(value) - double(row[best]));
    score.lossSum += std::log(sum) - (double(row[target]) - double(row[best]));
    score.correct += best == target;
  }
  return score;
}

} // namespace hope::train
