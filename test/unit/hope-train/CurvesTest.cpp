//===- CurvesTest.cpp - CSV, SVG, JSON curves; progress lines; scoring ----===//

#include "Curves.h"
#include "Evaluation.h"
#include "Progress.h"

#include "gtest/gtest.h"

#include <cmath>

using namespace hope::train;

namespace {

const std::vector<CurvePoint> points = {{50, 3.5, 3.25, 0.0625, 1000},
                                        {100, 2.0, 1.5, 0.5, 1200.25}};

TEST(Curves, Csv) {
  EXPECT_EQ(formatCurvesCsv(points),
            "step,train_loss,eval_loss,eval_accuracy,tokens_per_second\n"
            "50,3.5,3.25,0.0625,1000\n"
            "100,2,1.5,0.5,1200.25\n");
}

TEST(Curves, SvgDrawsBothPanels) {
  std::string svg = renderCurvesSvg(points, "mqar <tiny>");
  llvm::StringRef text(svg);
  EXPECT_TRUE(text.starts_with("<svg xmlns='http://www.w3.org/2000/svg'"));
  EXPECT_TRUE(text.ends_with("</svg>\n"));
  EXPECT_TRUE(text.contains("mqar &lt;tiny&gt;"));
  EXPECT_EQ(text.count("<polyline"), 3u); // train, held-out, accuracy
  // The accuracy panel spans 0..1 over 260 pixels from y = 60: 0.5 -> 190.
  EXPECT_TRUE(text.contains(",190.00'/>")) << svg;
  // The first and last steps sit on the panels' edges.
  EXPECT_TRUE(text.contains("points='70.00,")) << svg;
  EXPECT_TRUE(text.contains("points='530.00,")) << svg;
}

TEST(Curves, SvgSkipsNonFiniteValues) {
  std::vector<CurvePoint> withNan = points;
  withNan[0].trainLoss = NAN;
  std::string svg = renderCurvesSvg(withNan, "t");
  EXPECT_FALSE(llvm::StringRef(svg).contains("nan"));
  EXPECT_FALSE(llvm::StringRef(svg).contains("inf"));
}

TEST(Curves, JsonRoundTripsExactly) {
  std::vector<CurvePoint> exact = points;
  exact[0].trainLoss = 1.0 / 3.0;
  exact[1].trainLoss = NAN;
  llvm::Expected<std::vector<CurvePoint>> back =
      parseCurvesJson(formatCurvesJson(exact));
  ASSERT_TRUE(bool(back)) << llvm::toString(back.takeError());
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].trainLoss, 1.0 / 3.0);
  EXPECT_TRUE(std::isnan((*back)[1].trainLoss));
  EXPECT_EQ((*back)[1].step, 100);
  EXPECT_FALSE(bool(parseCurvesJson("[[1, 2]]")) ? true : false);
}

TEST(Progress, Lines) {
  EXPECT_EQ(formatDuration(42.4), "42s");
  EXPECT_EQ(formatDuration(185), "3m05s");
  EXPECT_EQ(formatDuration(7620), "2h07m");
  EXPECT_EQ(formatProgressLine(25, 100, 2.34567, 12345.4, 65),
            "step 25/100 [#####...............] loss 2.3457 | 12345 tok/s | "
            "ETA 1m05s");
  EXPECT_EQ(formatEvaluationLine(50, 100, 1.5, 0.875, 1.75, 999.6),
            "eval step 50/100: held-out loss 1.5000, accuracy 87.50% (train "
            "loss 1.7500, 1000 tok/s)");
}

TEST(Progress, NotATerminalPrintsOnlyEvaluations) {
  std::string text;
  llvm::raw_string_ostream os(text);
  ProgressBar bar(os, /*terminal=*/false);
  bar.step(1, 10, 2.0, 100, 9);
  bar.evaluation("eval line");
  bar.step(2, 10, 2.0, 100, 8);
  bar.finish();
  EXPECT_EQ(text, "eval line\n");
}

TEST(Progress, ATerminalRedrawsOneLine) {
  std::string text;
  llvm::raw_string_ostream os(text);
  ProgressBar bar(os, /*terminal=*/true);
  bar.step(1, 2, 2.0, 100, 1);
  bar.evaluation("eval line");
  bar.step(2, 2, 1.0, 100, 0);
  bar.finish();
  EXPECT_EQ(text, "\rstep 1/2 [##########..........] loss 2.0000 | 100 tok/s "
                  "| ETA 1s\x1b[K"
                  "\r\x1b[Keval line\n"
                  "\rstep 2/2 [####################] loss 1.0000 | 100 tok/s "
                  "| ETA 0s\x1b[K\n");
}

TEST(Evaluation, ScoresOnlyTargets) {
  // Two positions, vocabulary 3; the first is scored (target 2, argmax 2),
  // the second ignored.
  std::vector<float> logits = {0, 0, std::log(2.0f), 5, 0, 0};
  Score score = scoreLogits(logits, 3, {2, -1});
  EXPECT_EQ(score.scored, 1);
  EXPECT_EQ(score.correct, 1);
  EXPECT_NEAR(score.loss(), std::log(4.0) - std::log(2.0), 1e-6);
  Score wrong = scoreLogits(logits, 3, {0, -1});
  EXPECT_EQ(wrong.accuracy(), 0.0);
  EXPECT_NEAR(wrong.loss(), std::log(4.0), 1e-6);
}

} // namespace
