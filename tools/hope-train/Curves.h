//===- Curves.h - training curves: CSV, SVG, and JSON for checkpoints -*- C++ -*-===//
//
// One point per evaluation: the mean training loss since the previous one,
// the held-out loss and accuracy, and the throughput. The SVG is drawn here
// (no plotting library): loss on the left panel, accuracy on the right, both
// against the step.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_TOOLS_HOPETRAIN_CURVES_H
#define HOPE_TOOLS_HOPETRAIN_CURVES_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace hope::train {

struct CurvePoint {
  int64_t step = 0;
  double trainLoss = 0;
  double evalLoss = 0;
  double evalAccuracy = 0;
  double tokensPerSecond = 0;
};

/// "step,train_loss,eval_loss,eval_accuracy,tokens_per_second" and a row per
/// point.
std::string formatCurvesCsv(llvm::ArrayRef<CurvePoint> points);
/// A standalone SVG document.
std::string renderCurvesSvg(llvm::ArrayRef<CurvePoint> points,
                            llvm::StringRef title);

/// The points as JSON text (a checkpoint's "curves"), and back.
std::string formatCurvesJson(llvm::ArrayRef<CurvePoint> points);
llvm::Expected<std::vector<CurvePoint>> parseCurvesJson(llvm::StringRef text);

} // namespace hope::train

#endif // HOPE_TOOLS_HOPETRAIN_CURVES_H
