//===- Progress.cpp - progress and evaluation lines -----------------------===//

#include "Progress.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace llvm;

namespace hope::train {

std::string formatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0)
    return "?";
  int64_t whole = int64_t(std::llround(seconds));
  if (whole < 60)
    return formatv("{0}s", whole);
  if (whole < 3600)
    return formatv("{0}m{1}s", whole / 60, format("%02d", int(whole % 60)));
  return formatv("{0}h{1}m", whole / 3600,
                 format("%02d", int(whole / 60 % 60)));
}

std::string formatProgressLine(int64_t step, int64_t steps, double loss,
                               double tokensPerSecond, double secondsLeft) {
  constexpr int64_t kBarWidth = 20;
  int64_t filled = steps > 0 ? kBarWidth * step / steps : kBarWidth;
  std::string bar(size_t(filled), '#');
  bar.resize(kBarWidth, '.');
  return formatv("step {0}/{1} [{2}] loss {3} | {4} tok/s | ETA {5}", step,
                 steps, bar, format("%.4f", loss),
                 format("%.0f", tokensPerSecond), formatDuration(secondsLeft));
}

std::string formatEvaluationLine(int64_t step, int64_t steps, double evalLoss,
                                 double accuracy, double trainLoss,
                                 double tokensPerSecond) {
  return formatv("eval step {0}/{1}: held-out loss {2}, accuracy {3}% "
                 "(train loss {4}, {5} tok/s)",
                 step, steps, format("%.4f", evalLoss),
                 format("%.2f", 100 * accuracy), format("%.4f", trainLoss),
                 format("%.0f", tokensPerSecond));
}

void ProgressBar::step(int64_t step, int64_t steps, double loss,
                       double tokensPerSecond, double secondsLeft) {
  if (!terminal)
    return;
  // Clear to the end of the line: the new text may be shorter.
  os << "\r" << formatProgressLine(step, steps, loss, tokensPerSecond,
                                   secondsLeft)
     << "\x1b[K";
  os.flush();
  lineOpen = true;
}

void ProgressBar::evaluation(const std::string &line) {
  if (lineOpen)
    os << "\r\x1b[K";
  lineOpen = false;
  os << line << "\n";
  os.flush();
}

void ProgressBar::finish() {
  if (lineOpen)
    os << "\n";
  lineOpen = false;
  os.flush();
}

} // namespace hope::train
