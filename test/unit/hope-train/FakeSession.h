//===- FakeSession.h - a deterministic TrainingSession for tests -*- C++ -*-===//
//
// TEST CODE ONLY: stands in for a compiled artifact's train_step until the
// compiler emits it, so that the loop, checkpoints and resume can be tested
// in-process. The model is a bigram table: logits[b, t, v] = table[v,
// tokens[b, t]]; a step is SGD with momentum on the mean cross-entropy over
// the non-negative targets, in plain C++ (deterministic: no threads, one
// summation order). It can be told to poison a weight at a chosen step.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_TEST_UNIT_HOPETRAIN_FAKESESSION_H
#define HOPE_TEST_UNIT_HOPETRAIN_FAKESESSION_H

#include "TrainingSession.h"

#include <cmath>
#include <limits>

namespace hope::train::test {

class FakeSession : public TrainingSession {
public:
  explicit FakeSession(int64_t vocabulary, std::string model = "bigram")
      : vocab(vocabulary), model(std::move(model)),
        table(size_t(vocabulary * vocabulary)), momentum(table.size()) {
    buffers.push_back({"table", HOPE_DTYPE_F32, {vocab, vocab}, true,
                       reinterpret_cast<char *>(table.data()),
                       table.size() * sizeof(float)});
    buffers.push_back({"table.sgd_momentum", HOPE_DTYPE_F32, {vocab, vocab},
                       false, reinterpret_cast<char *>(momentum.data()),
                       momentum.size() * sizeof(float)});
  }

  /// At step `step`, the update writes `value` into table[0] (NaN, inf).
  void poisonAt(int64_t step, float value) {
    poisonStep = step;
    poisonValue = value;
  }

  /// At step `step`, the loss returned is NaN.
  void poisonLossAt(int64_t step) { poisonLossStep = step; }

  llvm::ArrayRef<WeightBuffer> weights() const override { return buffers; }
  int64_t vocabulary() const override { return vocab; }
  std::string fingerprint() const override {
    return model + "-" + std::to_string(vocab);
  }

  llvm::Expected<StepResult> step(const Batch &batch, float lr,
                                  int64_t step) override {
    std::vector<double> grad(table.size(), 0.0);
    double loss = 0;
    int64_t scored = 0;
    std::vector<double> p(vocab);
    for (size_t i = 0; i < batch.tokens.size(); ++i) {
      int64_t target = batch.targets[i];
      if (target < 0)
        continue;
      ++scored;
      int64_t token = batch.tokens[i];
      double top = -std::numeric_limits<double>::infinity();
      for (int64_t v = 0; v < vocab; ++v)
        top = std::max(top, double(table[v * vocab + token]));
      double sum = 0;
      for (int64_t v = 0; v < vocab; ++v)
        sum += p[v] = std::exp(double(table[v * vocab + token]) - top);
      loss += std::log(sum) - (double(table[target * vocab + token]) - top);
      for (int64_t v = 0; v < vocab; ++v)
        grad[v * vocab + token] += p[v] / sum - (v == target ? 1.0 : 0.0);
    }
    double norm = 0;
    for (double &g : grad) {
      g /= double(std::max<int64_t>(scored, 1));
      norm += g * g;
    }
    for (size_t i = 0; i < table.size(); ++i) {
      momentum[i] = 0.9f * momentum[i] + float(grad[i]);
      table[i] -= lr * momentum[i];
    }
    if (step == poisonStep)
      table[0] = poisonValue;
    if (step == poisonLossStep)
      return StepResult{std::nan(""), std::sqrt(norm)};
    return StepResult{scored ? loss / double(scored) : 0.0, std::sqrt(norm)};
  }

  llvm::Expected<std::vector<float>> logits(const Batch &batch) override {
    std::vector<float> out;
    out.reserve(batch.tokens.size() * vocab);
    for (int64_t token : batch.tokens)
      for (int64_t v = 0; v < vocab; ++v)
        out.push_back(table[v * vocab + token]);
    return out;
  }

private:
  int64_t vocab;
  std::string model;
  std::vector<float> table, momentum;
  std::vector<WeightBuffer> buffers;
  int64_t poisonStep = -1, poisonLossStep = -1;
  float poisonValue = 0;
};

} // namespace hope::train::test

#endif // HOPE_TEST_UNIT_HOPETRAIN_FAKESESSION_H
