//===- Formula.h - sizes and counts as formulas of dynamic sizes -*- C++ -*-===//
//
// A kernel's grid, FLOPs and bytes depend on the entry point's dynamic sizes
// ("x[0]", the batch of input x). A Formula is a polynomial whose variables
// are atoms: a dynamic size, a loop variable of the analysis (substituted
// before the formula is written), or ceildiv / floordiv / max / min of two
// formulas (host code computes grids with them). Coefficients are doubles:
// counts averaged over a loop's iterations may be halves.
//
// Written to the manifest as a prefix expression (docs/artifact-abi.md,
// "Kernel costs"): a number, a size name, or ["+", e...], ["*", e...],
// ["ceildiv", a, b], ["floordiv", a, b], ["max", a, b], ["min", a, b].
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_CUDA_FORMULA_H
#define NL_CODEGEN_CUDA_FORMULA_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/Builders.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mlir::nl::cuda {

class Formula;

/// A variable of a formula.
struct Atom {
  enum class Kind { Size, Var, CeilDiv, FloorDiv, Max, Min };
  Kind kind;
  /// Size: the manifest's name; Var: the analysis' name for it.
  std::string name;
  /// CeilDiv, FloorDiv, Max, Min: the two operands.
  std::vector<Formula> operands;
  /// Orders atoms and identifies equal ones.
  std::string key;
};
using AtomRef = std::shared_ptr<const Atom>;

class Formula {
public:
  /// Atoms in key order, repeated for powers.
  using Monomial = std::vector<AtomRef>;
  struct MonomialLess {
    bool operator()(const Monomial &a, const Monomial &b) const;
  };

  Formula() = default;
  /// The constant `value`.
  explicit Formula(double value);
  static Formula size(llvm::StringRef name);
  static Formula var(llvm::StringRef name);
  static Formula ceilDiv(const Formula &a, const Formula &b);
  static Formula floorDiv(const Formula &a, const Formula &b);
  static Formula max(const Formula &a, const Formula &b);
  /// min(a, b). `assumeVarSide`: where one side mentions a loop variable and
  /// the other does not, the side with the variable (a chunk's end,
  /// min(start + C, T), is start + C but for the last chunk).
  static Formula min(const Formula &a, const Formula &b, bool assumeVarSide);

  Formula operator+(const Formula &other) const;
  Formula operator-(const Formula &other) const;
  Formula operator*(const Formula &other) const;
  Formula scaled(double factor) const;
  /// Every coefficient divided by `divisor` (exact where they are its
  /// multiples, unlike scaling by its inverse).
  Formula divided(double divisor) const;

  bool isConstant() const;
  /// The value of a constant formula (0 when empty).
  double constant() const;
  /// Whether the formula mentions the variable `name` (any variable if
  /// empty), also inside ceildiv/max/min.
  bool mentionsVar(llvm::StringRef name = "") const;
  /// Replaces the variable `name` by `value`.
  Formula substitute(llvm::StringRef name, const Formula &value) const;
  /// `this` / `divisor` when divisor is one monomial dividing every term
  /// (e.g. grid x threads), else nullopt.
  std::optional<Formula> divideExactly(const Formula &divisor) const;
  /// Whether this is exactly the variable `name`.
  bool isVar(llvm::StringRef name) const;

  /// The prefix expression (mentions no variable: substitute them first).
  Attribute toAttr(Builder &b) const;
  /// "ceildiv(384*x[0]*x[1], 256)", for diagnostics and tests.
  std::string str() const;

  bool operator==(const Formula &other) const { return str() == other.str(); }

private:
  static Formula ofAtom(AtomRef atom);
  std::map<Monomial, double, MonomialLess> terms;
};

} // namespace mlir::nl::cuda

#endif // NL_CODEGEN_CUDA_FORMULA_H
