//===- MemoryStages.cpp - which chunk loop each memory joins --------------===//

#include "MemoryStages.h"

#include "llvm/ADT/DenseMap.h"

using namespace mlir;
using namespace mlir::nl;

SmallVector<SmallVector<MemoryOp>>
mlir::nl::stageMemories(ArrayRef<MemoryOp> learning, const LevelAnalysis &analysis) {
  DenseMap<unsigned, unsigned> stage; // component -> stage
  for (MemoryOp memory : learning)
    if (std::optional<unsigned> id = analysis.findComponent(memory, 0))
      stage[*id] = 0;
  SmallVector<Dependence> edges;
  for (ArrayRef<Dependence> list :
       {analysis.getDependences(), analysis.getQueryDependences()})
    for (const Dependence &dep : list)
      if (dep.from != dep.to && stage.contains(dep.from) &&
          stage.contains(dep.to))
        edges.push_back(dep);
  // Longest paths over a DAG (memories only learn from earlier memories'
  // reads): a fixed point in at most one round per memory.
  for (size_t round = 0; round <= learning.size(); ++round) {
    bool changed = false;
    for (const Dependence &dep : edges) {
      unsigned needed = stage[dep.from] + (dep.throughTokenMixing ? 1 : 0);
      if (needed > stage[dep.to]) {
        stage[dep.to] = needed;
        changed = true;
      }
    }
    if (!changed)
      break;
  }
  unsigned last = 0;
  for (auto &entry : stage)
    last = std::max(last, entry.second);
  SmallVector<SmallVector<MemoryOp>> stages(last + 1);
  for (MemoryOp memory : learning)
    stages[stage[*analysis.findComponent(memory, 0)]].push_back(memory);
  llvm::erase_if(stages, [](auto &group) { return group.empty(); });
  return stages;
}
