//===- Formula.cpp - sizes and counts as formulas of dynamic sizes --------===//

#include "Formula.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace mlir::nl::cuda;

namespace {
/// Whether `value` is an integer a double holds exactly.
bool isIntegral(double value) {
  return std::isfinite(value) && std::nearbyint(value) == value &&
         std::fabs(value) < 9.0e15;
}

std::string formatNumber(double value) {
  if (isIntegral(value))
    return std::to_string(static_cast<int64_t>(value));
  return llvm::formatv("{0}", value).str();
}

std::string atomString(const Atom &atom) {
  switch (atom.kind) {
  case Atom::Kind::Size:
    return atom.name;
  case Atom::Kind::Var:
    return "$" + atom.name;
  case Atom::Kind::CeilDiv:
  case Atom::Kind::FloorDiv:
  case Atom::Kind::Max:
  case Atom::Kind::Min: {
    static const char *const names[] = {"", "", "ceildiv", "floordiv", "max",
                                        "min"};
    return std::string(names[static_cast<int>(atom.kind)]) + "(" +
           atom.operands[0].str() + ", " + atom.operands[1].str() + ")";
  }
  }
  return "";
}

AtomRef makeAtom(Atom::Kind kind, std::string name,
                 std::vector<Formula> operands = {}) {
  auto atom = std::make_shared<Atom>();
  atom->kind = kind;
  atom->name = std::move(name);
  atom->operands = std::move(operands);
  atom->key = atomString(*atom);
  return atom;
}
} // namespace

bool Formula::MonomialLess::operator()(const Monomial &a,
                                       const Monomial &b) const {
  if (a.size() != b.size())
    return a.size() < b.size();
  for (auto [x, y] : llvm::zip(a, b))
    if (x->key != y->key)
      return x->key < y->key;
  return false;
}

Formula::Formula(double value) {
  if (value != 0)
    terms[{}] = value;
}

Formula Formula::ofAtom(AtomRef atom) {
  Formula formula;
  formula.terms[{std::move(atom)}] = 1;
  return formula;
}

Formula Formula::size(StringRef name) {
  return ofAtom(makeAtom(Atom::Kind::Size, name.str()));
}

Formula Formula::var(StringRef name) {
  return ofAtom(makeAtom(Atom::Kind::Var, name.str()));
}

bool Formula::isConstant() const {
  return terms.empty() || (terms.size() == 1 && terms.begin()->first.empty());
}

double Formula::constant() const {
  auto it = terms.find({});
  return it == terms.end() ? 0 : it->second;
}

bool Formula::isVar(StringRef name) const {
  if (terms.size() != 1 || terms.begin()->second != 1)
    return false;
  const Monomial &monomial = terms.begin()->first;
  return monomial.size() == 1 && monomial[0]->kind == Atom::Kind::Var &&
         monomial[0]->name == name;
}

/// Whether every coefficient is an integer multiple of `divisor`.
static bool divisible(
    const std::map<Formula::Monomial, double, Formula::MonomialLess> &terms,
    double divisor) {
  for (const auto &term : terms)
    if (!isIntegral(term.second) || !isIntegral(term.second / divisor))
      return false;
  return true;
}

Formula Formula::ceilDiv(const Formula &a, const Formula &b) {
  if (b.isConstant() && b.constant() != 0) {
    double d = b.constant();
    if (a.isConstant())
      return Formula(std::ceil(a.constant() / d));
    if (isIntegral(d) && divisible(a.terms, d))
      return a.divided(d);
  }
  return ofAtom(makeAtom(Atom::Kind::CeilDiv, "", {a, b}));
}

Formula Formula::floorDiv(const Formula &a, const Formula &b) {
  if (b.isConstant() && b.constant() != 0) {
    double d = b.constant();
    if (a.isConstant())
      return Formula(std::floor(a.constant() / d));
    if (isIntegral(d) && divisible(a.terms, d))
      return a.divided(d);
  }
  return ofAtom(makeAtom(Atom::Kind::FloorDiv, "", {a, b}));
}

Formula Formula::max(const Formula &a, const Formula &b) {
  Formula difference = a - b;
  if (difference.isConstant())
    return difference.constant() >= 0 ? a : b;
  return ofAtom(makeAtom(Atom::Kind::Max, "", {a, b}));
}

Formula Formula::min(const Formula &a, const Formula &b, bool assumeVarSide) {
  Formula difference = a - b;
  if (difference.isConstant())
    return difference.constant() <= 0 ? a : b;
  if (assumeVarSide && a.mentionsVar() != b.mentionsVar())
    return a.mentionsVar() ? a : b;
  return ofAtom(makeAtom(Atom::Kind::Min, "", {a, b}));
}

Formula Formula::operator+(const Formula &other) const {
  Formula sum = *this;
  for (const auto &[monomial, coefficient] : other.terms) {
    double &entry = sum.terms[monomial];
    entry += coefficient;
    if (entry == 0)
      sum.terms.erase(monomial);
  }
  return sum;
}

Formula Formula::operator-(const Formula &other) const {
  return *this + other.scaled(-1);
}

Formula Formula::scaled(double factor) const {
  Formula result;
  if (factor == 0)
    return result;
  for (const auto &[monomial, coefficient] : terms)
    result.terms[monomial] = coefficient * factor;
  return result;
}

Formula Formula::divided(double divisor) const {
  Formula result;
  for (const auto &[monomial, coefficient] : terms)
    result.terms[monomial] = coefficient / divisor;
  return result;
}

Formula Formula::operator*(const Formula &other) const {
  Formula product;
  for (const auto &[a, x] : terms)
    for (const auto &[b, y] : other.terms) {
      Monomial monomial = a;
      llvm::append_range(monomial, b);
      llvm::sort(monomial, [](const AtomRef &p, const AtomRef &q) {
        return p->key < q->key;
      });
      double &entry = product.terms[monomial];
      entry += x * y;
      if (entry == 0)
        product.terms.erase(monomial);
    }
  return product;
}

bool Formula::mentionsVar(StringRef name) const {
  for (const auto &term : terms)
    for (const AtomRef &atom : term.first) {
      if (atom->kind == Atom::Kind::Var &&
          (name.empty() || atom->name == name))
        return true;
      for (const Formula &operand : atom->operands)
        if (operand.mentionsVar(name))
          return true;
    }
  return false;
}

Formula Formula::substitute(StringRef name, const Formula &value) const {
  if (!mentionsVar(name))
    return *this;
  Formula result;
  for (const auto &[monomial, coefficient] : terms) {
    Formula product(coefficient);
    for (const AtomRef &atom : monomial) {
      switch (atom->kind) {
      case Atom::Kind::Var:
        product = product * (atom->name == name ? value : ofAtom(atom));
        break;
      case Atom::Kind::Size:
        product = product * ofAtom(atom);
        break;
      case Atom::Kind::CeilDiv:
      case Atom::Kind::FloorDiv:
      case Atom::Kind::Max:
      case Atom::Kind::Min: {
        Formula a = atom->operands[0].substitute(name, value);
        Formula b = atom->operands[1].substitute(name, value);
        Formula rebuilt =
            atom->kind == Atom::Kind::CeilDiv    ? ceilDiv(a, b)
            : atom->kind == Atom::Kind::FloorDiv ? floorDiv(a, b)
            : atom->kind == Atom::Kind::Max      ? max(a, b)
                                                 : min(a, b, true);
        product = product * rebuilt;
        break;
      }
      }
    }
    result = result + product;
  }
  return result;
}

std::optional<Formula> Formula::divideExactly(const Formula &divisor) const {
  if (divisor.terms.size() != 1 || divisor.terms.begin()->second == 0)
    return std::nullopt;
  const auto &[factors, coefficient] = *divisor.terms.begin();
  Formula quotient;
  for (const auto &[monomial, value] : terms) {
    Monomial rest = monomial;
    for (const AtomRef &factor : factors) {
      auto it = llvm::find_if(rest, [&](const AtomRef &atom) {
        return atom->key == factor->key;
      });
      if (it == rest.end())
        return std::nullopt;
      rest.erase(it);
    }
    quotient.terms[rest] = value / coefficient;
  }
  return quotient;
}

static Attribute numberAttr(Builder &b, double value) {
  if (isIntegral(value))
    return b.getI64IntegerAttr(static_cast<int64_t>(value));
  return b.getF64FloatAttr(value);
}

static Attribute atomAttr(Builder &b, const Atom &atom) {
  static const char *const names[] = {"", "", "ceildiv", "floordiv", "max",
                                      "min"};
  switch (atom.kind) {
  case Atom::Kind::Size:
    return b.getStringAttr(atom.name);
  case Atom::Kind::Var:
    return b.getStringAttr("$" + atom.name);
  default:
    return b.getArrayAttr({b.getStringAttr(names[static_cast<int>(atom.kind)]),
                           atom.operands[0].toAttr(b),
                           atom.operands[1].toAttr(b)});
  }
}

Attribute Formula::toAttr(Builder &b) const {
  SmallVector<Attribute> sum;
  for (const auto &[monomial, coefficient] : terms) {
    SmallVector<Attribute> factors;
    if (coefficient != 1 || monomial.empty())
      factors.push_back(numberAttr(b, coefficient));
    for (const AtomRef &atom : monomial)
      factors.push_back(atomAttr(b, *atom));
    if (factors.size() == 1) {
      sum.push_back(factors.front());
      continue;
    }
    factors.insert(factors.begin(), b.getStringAttr("*"));
    sum.push_back(b.getArrayAttr(factors));
  }
  if (sum.empty())
    return b.getI64IntegerAttr(0);
  if (sum.size() == 1)
    return sum.front();
  sum.insert(sum.begin(), b.getStringAttr("+"));
  return b.getArrayAttr(sum);
}

std::string Formula::str() const {
  if (terms.empty())
    return "0";
  std::string text;
  bool first = true;
  for (const auto &[monomial, coefficient] : terms) {
    double magnitude = first ? coefficient : std::fabs(coefficient);
    if (!first)
      text += coefficient < 0 ? " - " : " + ";
    first = false;
    std::string factors;
    for (const AtomRef &atom : monomial)
      factors += (factors.empty() ? "" : "*") + atomString(*atom);
    if (factors.empty())
      text += formatNumber(magnitude);
    else if (magnitude == 1)
      text += factors;
    else if (magnitude == -1)
      text += "-" + factors;
    else
      text += formatNumber(magnitude) + "*" + factors;
  }
  return text;
}
