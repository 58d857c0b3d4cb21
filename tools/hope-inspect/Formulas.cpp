//===- Formulas.cpp - the manifest's kernel cost formulas -----------------===//

#include "Formulas.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace llvm;
using namespace hope::inspect;

static Error malformed(const json::Value &formula) {
  std::string text;
  raw_string_ostream os(text);
  os << formula;
  return createStringError("malformed cost formula: " + text);
}

Expected<double> hope::inspect::evaluate(const json::Value &formula,
                                         const StringMap<double> &sizes) {
  if (std::optional<double> number = formula.getAsNumber())
    return *number;
  if (std::optional<StringRef> name = formula.getAsString()) {
    auto it = sizes.find(*name);
    if (it == sizes.end())
      return createStringError("no value for the size '" + *name + "'");
    return it->second;
  }
  const json::Array *list = formula.getAsArray();
  if (!list || list->size() < 2)
    return malformed(formula);
  std::optional<StringRef> op = (*list)[0].getAsString();
  if (!op)
    return malformed(formula);
  SmallVector<double> operands;
  for (size_t i = 1; i < list->size(); ++i) {
    Expected<double> value = evaluate((*list)[i], sizes);
    if (!value)
      return value.takeError();
    operands.push_back(*value);
  }
  if (*op == "+" || *op == "*") {
    double result = *op == "+" ? 0 : 1;
    for (double value : operands)
      result = *op == "+" ? result + value : result * value;
    return result;
  }
  if (operands.size() != 2)
    return malformed(formula);
  double a = operands[0], b = operands[1];
  if (*op == "ceildiv" || *op == "floordiv") {
    if (b == 0)
      return createStringError("a cost formula divides by zero");
    return *op == "ceildiv" ? std::ceil(a / b) : std::floor(a / b);
  }
  if (*op == "max")
    return std::max(a, b);
  if (*op == "min")
    return std::min(a, b);
  return malformed(formula);
}

void hope::inspect::collectSizes(const json::Value &formula,
                                 std::set<std::string> &names) {
  if (std::optional<StringRef> name = formula.getAsString()) {
    names.insert(name->str());
    return;
  }
  if (const json::Array *list = formula.getAsArray())
    for (size_t i = 1; i < list->size(); ++i)
      collectSizes((*list)[i], names);
}

std::string hope::inspect::print(const json::Value &formula) {
  if (std::optional<int64_t> integer = formula.getAsInteger())
    return std::to_string(*integer);
  if (std::optional<double> number = formula.getAsNumber())
    return formatv("{0}", *number).str();
  if (std::optional<StringRef> name = formula.getAsString())
    return name->str();
  const json::Array *list = formula.getAsArray();
  std::optional<StringRef> op =
      list && !list->empty() ? (*list)[0].getAsString() : std::nullopt;
  if (!op)
    return "?";
  std::string text;
  if (*op == "+" || *op == "*") {
    for (size_t i = 1; i < list->size(); ++i) {
      std::string operand = print((*list)[i]);
      // A sum inside a product keeps its parentheses.
      const json::Array *inner = (*list)[i].getAsArray();
      if (*op == "*" && inner && !inner->empty() &&
          (*inner)[0].getAsString() == StringRef("+"))
        operand = "(" + operand + ")";
      text += (i > 1 ? (*op == "+" ? " + " : "*") : "") + operand;
    }
    return text;
  }
  text = op->str() + "(";
  for (size_t i = 1; i < list->size(); ++i)
    text += (i > 1 ? ", " : "") + print((*list)[i]);
  return text + ")";
}
