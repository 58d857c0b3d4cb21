//===- LevelAnalysis.h - nested levels of a function ------------*- C++ -*-===//
//
// The level structure of nested learning (semantics, section 1): which
// stateful components a function declares, which needs which, and in what
// order of frequency they form levels.
//
//===----------------------------------------------------------------------===//

#ifndef NL_ANALYSIS_LEVELANALYSIS_H
#define NL_ANALYSIS_LEVELANALYSIS_H

#include "nl/IR/NLOps.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::nl {

/// One stateful component: component `index` of a ComponentOpInterface op.
struct Component {
  Operation *op;
  unsigned index;
  std::string name;
  EveryAttr frequency;
};

/// `to`'s update reads `from`'s state: at the same token (`sameToken`), or
/// only at an earlier one.
struct Dependence {
  unsigned from;
  unsigned to;
  bool sameToken;
};

/// The components of one function and the dependences between them, built
/// from the per-token dataflow with every read at its read point. Usable as
/// an MLIR analysis (`getAnalysis<LevelAnalysis>()`) on a function.
class LevelAnalysis {
public:
  explicit LevelAnalysis(Operation *function);

  ArrayRef<Component> getComponents() const { return components; }
  ArrayRef<Dependence> getDependences() const { return dependences; }

  /// Checks the legality rules and emits one error per violation, at the
  /// components' locations. Levels are only computed for a legal function.
  LogicalResult verify();

  /// Level of each component (1 = fastest), in the order of
  /// getComponents(). Empty until verify() has succeeded.
  ArrayRef<unsigned> getLevels() const { return levels; }
  unsigned getNumLevels() const { return numLevels; }

  /// Prints the levels, fastest first, and optionally the dependences.
  void print(raw_ostream &os, bool withDependences) const;

private:
  void collectDependences();
  LogicalResult verifyUniqueNames();
  LogicalResult verifyNoSameTokenCycle();
  LogicalResult verifyDivisibility();
  void computeLevels();

  Operation *function;
  SmallVector<Component> components;
  SmallVector<Dependence> dependences;
  SmallVector<unsigned> levels;
  unsigned numLevels = 0;
};

} // namespace mlir::nl

#endif // NL_ANALYSIS_LEVELANALYSIS_H
