//===- Progress.h - the progress bar on stderr ------------------*- C++ -*-===//
//
// On a terminal: one line redrawn in place after every step (step, a bar,
// the loss, tokens/s, the time left), and a line kept per evaluation. Not on
// a terminal (a log file, CI): only the evaluation lines, so that a log
// holds one line per evaluation and no carriage returns.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_TOOLS_HOPETRAIN_PROGRESS_H
#define HOPE_TOOLS_HOPETRAIN_PROGRESS_H

#include "llvm/Support/raw_ostream.h"

#include <string>

namespace hope::train {

/// "42s", "3m05s", "2h07m".
std::string formatDuration(double seconds);

/// "step 120/1000 [###.......] loss 2.3456 | 12345 tok/s | ETA 1m23s".
std::string formatProgressLine(int64_t step, int64_t steps, double loss,
                               double tokensPerSecond, double secondsLeft);

/// "eval step 120/1000: held-out loss 1.2345, accuracy 87.50% (train loss
/// 1.3000, 12345 tok/s)".
std::string formatEvaluationLine(int64_t step, int64_t steps, double evalLoss,
                                 double accuracy, double trainLoss,
                                 double tokensPerSecond);

class ProgressBar {
public:
  ProgressBar(llvm::raw_ostream &os, bool terminal) : os(os), terminal(terminal) {}
  void step(int64_t step, int64_t steps, double loss, double tokensPerSecond,
            double secondsLeft);
  void evaluation(const std::string &line);
  /// Ends the redrawn line (before an error or the end).
  void finish();

private:
  llvm::raw_ostream &os;
  bool terminal;
  bool lineOpen = false;
};

} // namespace hope::train

#endif // HOPE_TOOLS_HOPETRAIN_PROGRESS_H
