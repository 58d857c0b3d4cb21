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

#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>

namespace mlir::nl {

/// One stateful component: component `index` of a ComponentOpInterface op.
struct Component {
  Operation *op;
  unsigned index;
  std::string name;
  EveryAttr frequency;
};

/// `to` needs `from`'s state: at the same token (`sameToken`), or only at an
/// earlier one. `throughTokenMixing`: some path from `from`'s state to `to`
/// passes an op that is not token-local (nl::isTokenLocal: a convolution, a
/// CMS, a chunk mean), so `to` needs `from`'s reads of other tokens too.
struct Dependence {
  unsigned from;
  unsigned to;
  bool sameToken;
  bool throughTokenMixing;
};

/// The components of one function and the dependences between them, built
/// from the per-token dataflow with every read at its read point. Usable as
/// an MLIR analysis (`getAnalysis<LevelAnalysis>()`) on a function.
class LevelAnalysis {
public:
  explicit LevelAnalysis(Operation *function);

  ArrayRef<Component> getComponents() const { return components; }
  /// What the components' updates need: the level structure.
  ArrayRef<Dependence> getDependences() const { return dependences; }
  /// What the queries of the components' reads need (`to` is the component
  /// read). Not part of the level structure, since a read changes no state,
  /// but code generation evaluates reads beside updates.
  ArrayRef<Dependence> getQueryDependences() const { return queryDependences; }
  /// The index of component `index` of `op` in getComponents(), if any.
  std::optional<unsigned> findComponent(Operation *op, unsigned index) const;

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
  /// Adds to `edges` a dependence of `to` on every component whose state
  /// the dataflow into `roots` reads.
  void collectSources(
      ArrayRef<Value> roots, unsigned to,
      llvm::MapVector<std::pair<unsigned, unsigned>, Dependence> &edges);
  LogicalResult verifyUniqueNames();
  LogicalResult verifyNoSameTokenCycle();
  LogicalResult verifyDivisibility();
  void computeLevels();

  Operation *function;
  SmallVector<Component> components;
  SmallVector<Dependence> dependences;
  SmallVector<Dependence> queryDependences;
  SmallVector<unsigned> levels;
  unsigned numLevels = 0;
};

} // namespace mlir::nl

#endif // NL_ANALYSIS_LEVELANALYSIS_H
