//===- Curves.cpp - CSV, SVG and JSON of the training curves --------------===//

#include "Curves.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace llvm;

namespace hope::train {

/// Shortest text that reads back as the same double ("inf", "nan" too).
static std::string formatNumber(double value) {
  return formatv("{0}", format("%.17g", value)).str();
}

std::string formatCurvesCsv(ArrayRef<CurvePoint> points) {
  std::string text = "step,train_loss,eval_loss,eval_accuracy,tokens_per_second\n";
  for (const CurvePoint &point : points)
    text += formatv("{0},{1},{2},{3},{4}\n", point.step,
                    format("%.9g", point.trainLoss),
                    format("%.9g", point.evalLoss),
                    format("%.9g", point.evalAccuracy),
                    format("%.6g", point.tokensPerSecond))
                .str();
  return text;
}

std::string formatCurvesJson(ArrayRef<CurvePoint> points) {
  json::Array rows;
  for (const CurvePoint &point : points)
    rows.push_back(json::Array{point.step, formatNumber(point.trainLoss),
                               formatNumber(point.evalLoss),
                               formatNumber(point.evalAccuracy),
                               formatNumber(point.tokensPerSecond)});
  return formatv("{0}", json::Value(std::move(rows))).str();
}

Expected<std::vector<CurvePoint>> parseCurvesJson(StringRef text) {
  auto fail = [] { return createStringError("malformed curves"); };
  Expected<json::Value> value = json::parse(text);
  if (!value) {
    consumeError(value.takeError());
    return fail();
  }
  const json::Array *rows = value->getAsArray();
  if (!rows)
    return fail();
  std::vector<CurvePoint> points;
  for (const json::Value &row : *rows) {
    const json::Array *fields = row.getAsArray();
    if (!fields || fields->size() != 5 || !(*fields)[0].getAsInteger())
      return fail();
    double numbers[4];
    for (size_t i = 0; i < 4; ++i) {
      std::optional<StringRef> field = (*fields)[i + 1].getAsString();
      if (!field || field->getAsDouble(numbers[i], /*AllowInexact=*/true))
        return fail();
    }
    points.push_back({*(*fields)[0].getAsInteger(), numbers[0], numbers[1],
                      numbers[2], numbers[3]});
  }
  return points;
}

namespace {

/// One panel of the figure: a frame, axes with ticks, and polylines.
class Panel {
public:
  Panel(raw_ostream &os, double left, double top, double width, double height,
        double xMin, double xMax, double yMin, double yMax)
      : os(os), left(left), top(top), width(width), height(height),
        xMin(xMin), xMax(xMax), yMin(yMin), yMax(yMax) {}

  double x(double value) const {
    return left + width * (value - xMin) / std::max(xMax - xMin, 1e-12);
  }
  double y(double value) const {
    return top + height -
           height * (value - yMin) / std::max(yMax - yMin, 1e-12);
  }

  void drawAxes(StringRef title, StringRef yLabel) {
    os << formatv("<rect x='{0}' y='{1}' width='{2}' height='{3}' "
                  "fill='none' stroke='#444'/>\n",
                  left, top, width, height);
    os << formatv("<text x='{0}' y='{1}' text-anchor='middle' "
                  "font-size='14'>{2}</text>\n",
                  left + width / 2, top - 10, title);
    for (int i = 0; i <= 4; ++i) {
      double xValue = xMin + (xMax - xMin) * i / 4;
      double yValue = yMin + (yMax - yMin) * i / 4;
      os << formatv("<line x1='{0}' y1='{1}' x2='{0}' y2='{2}' "
                    "stroke='#ddd'/>\n",
                    x(xValue), top, top + height);
      os << formatv("<text x='{0}' y='{1}' text-anchor='middle' "
                    "font-size='11'>{2}</text>\n",
                    x(xValue), top + height + 14, format("%.0f", xValue));
      os << formatv("<line x1='{0}' y1='{1}' x2='{2}' y2='{1}' "
                    "stroke='#ddd'/>\n",
                    left, y(yValue), left + width);
      os << formatv("<text x='{0}' y='{1}' text-anchor='end' "
                    "font-size='11'>{2}</text>\n",
                    left - 4, y(yValue) + 4, format("%.3g", yValue));
    }
    os << formatv("<text x='{0}' y='{1}' text-anchor='middle' "
                  "font-size='12'>step</text>\n",
                  left + width / 2, top + height + 30);
    os << formatv("<text x='{0}' y='{1}' text-anchor='middle' font-size='12' "
                  "transform='rotate(-90 {0} {1})'>{2}</text>\n",
                  left - 42, top + height / 2, yLabel);
  }

  /// The finite points of one series, and its name in the legend's `row`.
  void drawSeries(ArrayRef<CurvePoint> points,
                  double (*field)(const CurvePoint &), StringRef colour,
                  StringRef name, int row) {
    std::string coordinates;
    for (const CurvePoint &point : points) {
      double value = field(point);
      if (std::isfinite(value))
        coordinates += formatv("{0},{1} ", format("%.2f", x(double(point.step))),
                               format("%.2f", y(value)))
                           .str();
    }
    os << formatv("<polyline fill='none' stroke='{0}' stroke-width='2' "
                  "points='{1}'/>\n",
                  colour, StringRef(coordinates).rtrim());
    double legendY = top + 16 + 16 * row;
    os << formatv("<line x1='{0}' y1='{1}' x2='{2}' y2='{1}' stroke='{3}' "
                  "stroke-width='2'/>\n",
                  left + width - 120, legendY - 4, left + width - 100, colour);
    os << formatv("<text x='{0}' y='{1}' font-size='11'>{2}</text>\n",
                  left + width - 96, legendY, name);
  }

private:
  raw_ostream &os;
  double left, top, width, height, xMin, xMax, yMin, yMax;
};

std::pair<double, double> finiteRange(ArrayRef<CurvePoint> points,
                                      double (*first)(const CurvePoint &),
                                      double (*second)(const CurvePoint &)) {
  double low = std::numeric_limits<double>::infinity(), high = -low;
  for (const CurvePoint &point : points)
    for (double value : {first(point), second(point)})
      if (std::isfinite(value)) {
        low = std::min(low, value);
        high = std::max(high, value);
      }
  if (!std::isfinite(low))
    return {0.0, 1.0};
  if (high - low < 1e-9)
    return {low - 0.5, high + 0.5};
  // The data's own range plus a margin: losses near each other stay apart.
  double margin = 0.05 * (high - low);
  return {low - margin, high + margin};
}

double trainLoss(const CurvePoint &point) { return point.trainLoss; }
double evalLoss(const CurvePoint &point) { return point.evalLoss; }
double evalAccuracy(const CurvePoint &point) { return point.evalAccuracy; }

/// Escapes XML's special characters in text content.
std::string escapeXml(StringRef text) {
  std::string escaped;
  for (char c : text) {
    if (c == '<')
      escaped += "&lt;";
    else if (c == '>')
      escaped += "&gt;";
    else if (c == '&')
      escaped += "&amp;";
    else if (c == '\'' || c == '"')
      escaped += "&#39;";
    else
      escaped += c;
  }
  return escaped;
}

} // namespace

std::string renderCurvesSvg(ArrayRef<CurvePoint> points, StringRef title) {
  std::string text;
  raw_string_ostream os(text);
  os << "<svg xmlns='http://www.w3.org/2000/svg' width='900' height='380' "
        "font-family='sans-serif'>\n"
        "<rect width='900' height='380' fill='white'/>\n";
  os << formatv("<text x='450' y='22' text-anchor='middle' "
                "font-size='16'>{0}</text>\n",
                escapeXml(title));
  double firstStep = points.empty() ? 0 : double(points.front().step);
  double lastStep = points.empty() ? 1 : double(points.back().step);
  if (lastStep <= firstStep)
    lastStep = firstStep + 1;
  auto [lossLow, lossHigh] = finiteRange(points, trainLoss, evalLoss);
  Panel loss(os, 70, 60, 340, 260, firstStep, lastStep, lossLow, lossHigh);
  loss.drawAxes("loss", "cross-entropy");
  loss.drawSeries(points, trainLoss, "#1f77b4", "train", 0);
  loss.drawSeries(points, evalLoss, "#ff7f0e", "held-out", 1);
  Panel accuracy(os, 530, 60, 340, 260, firstStep, lastStep, 0.0, 1.0);
  accuracy.drawAxes("held-out accuracy", "accuracy");
  accuracy.drawSeries(points, evalAccuracy, "#2ca02c", "accuracy", 0);
  os << "</svg>\n";
  return text;
}

} // namespace hope::train
