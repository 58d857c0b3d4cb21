//===- LevelAnalysis.cpp - nested levels of a function --------------------===//

#include "nl/Analysis/LevelAnalysis.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::nl;

LevelAnalysis::LevelAnalysis(Operation *function) : function(function) {
  function->walk([&](ComponentOpInterface op) {
    for (unsigned index = 0, e = op.getNumComponents(); index < e; ++index)
      components.push_back({op, index, op.getComponentName(index),
                            op.getComponentFrequency(index)});
  });
  collectDependences();
}

std::optional<unsigned> LevelAnalysis::findComponent(Operation *op,
                                                     unsigned index) const {
  for (auto [id, component] : llvm::enumerate(components))
    if (component.op == op && component.index == index)
      return id;
  return std::nullopt;
}

void LevelAnalysis::collectSources(
    ArrayRef<Value> roots, unsigned to,
    llvm::MapVector<std::pair<unsigned, unsigned>, Dependence> &edges) {
  // Walk the dataflow backwards. Reads do not stop the walk: a read applies
  // a memory to its query, so whatever the query carries reaches the result
  // too. Memory handles are not data. A value is visited once per kind of
  // path to it (through a token-mixing op or not), so both kinds are seen.
  SmallVector<std::pair<Value, bool>> worklist;
  for (Value root : roots)
    worklist.push_back({root, false});
  DenseSet<std::pair<Value, unsigned>> visited;
  while (!worklist.empty()) {
    auto [value, mixed] = worklist.pop_back_val();
    if (!visited.insert({value, mixed ? 1u : 0u}).second)
      continue;
    Operation *def = value.getDefiningOp();
    if (!def)
      continue;
    if (auto reader = dyn_cast<StateReaderOpInterface>(def)) {
      SmallVector<StateSource> sources;
      reader.getStateSources(sources);
      for (const StateSource &source : sources) {
        std::optional<unsigned> from =
            findComponent(source.component, source.index);
        if (!from)
          continue;
        auto [it, inserted] =
            edges.try_emplace({*from, to}, Dependence{*from, to, false, false});
        it->second.sameToken |= source.sameToken;
        it->second.throughTokenMixing |= mixed;
      }
    }
    bool mixes = mixed || !isTokenLocal(def);
    for (Value operand : def->getOperands())
      if (!isa<MemoryType>(operand.getType()))
        worklist.push_back({operand, mixes});
  }
}

void LevelAnalysis::collectDependences() {
  // One entry per (from, to) pair; a pair is same-token (or through a
  // token-mixing op) if any path is.
  llvm::MapVector<std::pair<unsigned, unsigned>, Dependence> edges;
  for (auto [id, component] : llvm::enumerate(components)) {
    auto op = cast<ComponentOpInterface>(component.op);
    if (component.index == 0) {
      SmallVector<std::pair<unsigned, unsigned>> internal;
      op.getInternalDependences(internal);
      for (auto [from, to] : internal)
        edges[{id + from, id + to}] = {static_cast<unsigned>(id + from),
                                       static_cast<unsigned>(id + to), true,
                                       false};
    }
    SmallVector<Value> inputs;
    op.getUpdateInputs(component.index, inputs);
    collectSources(inputs, id, edges);
  }
  for (auto &[pair, dependence] : edges)
    dependences.push_back(dependence);

  // The queries of every read, towards the components it reads.
  llvm::MapVector<std::pair<unsigned, unsigned>, Dependence> queryEdges;
  function->walk([&](StateReaderOpInterface reader) {
    SmallVector<StateSource> sources;
    reader.getStateSources(sources);
    SmallVector<Value> queries;
    for (Value operand : reader->getOperands())
      if (!isa<MemoryType>(operand.getType()))
        queries.push_back(operand);
    for (const StateSource &source : sources)
      if (std::optional<unsigned> read =
              findComponent(source.component, source.index))
        collectSources(queries, *read, queryEdges);
  });
  for (auto &[pair, dependence] : queryEdges)
    queryDependences.push_back(dependence);
}

LogicalResult LevelAnalysis::verify() {
  levels.clear();
  numLevels = 0;
  if (failed(verifyUniqueNames()) || failed(verifyNoSameTokenCycle()) ||
      failed(verifyDivisibility()))
    return failure();
  computeLevels();
  return success();
}

LogicalResult LevelAnalysis::verifyUniqueNames() {
  llvm::StringMap<unsigned> firstByName;
  bool ok = true;
  for (auto [id, component] : llvm::enumerate(components)) {
    auto [it, inserted] = firstByName.try_emplace(component.name, id);
    if (inserted)
      continue;
    ok = false;
    InFlightDiagnostic diag =
        component.op->emitError("component name '")
        << component.name
        << "' is used twice in this function; names identify levels, "
           "weights and diagnostics";
    diag.attachNote(components[it->second].op->getLoc())
        << "first component named '" << component.name << "' is here";
  }
  return success(ok);
}

LogicalResult LevelAnalysis::verifyNoSameTokenCycle() {
  // Tarjan's strongly connected components over same-token dependences.
  unsigned n = components.size();
  SmallVector<SmallVector<unsigned>> successors(n);
  SmallVector<bool> selfLoop(n, false);
  for (const Dependence &dep : dependences) {
    if (!dep.sameToken)
      continue;
    if (dep.from == dep.to)
      selfLoop[dep.from] = true;
    else
      successors[dep.from].push_back(dep.to);
  }
  SmallVector<int> index(n, -1), lowLink(n, 0);
  SmallVector<bool> onStack(n, false);
  SmallVector<unsigned> stack;
  SmallVector<SmallVector<unsigned>> cycles;
  int counter = 0;
  std::function<void(unsigned)> visit = [&](unsigned v) {
    index[v] = lowLink[v] = counter++;
    stack.push_back(v);
    onStack[v] = true;
    for (unsigned w : successors[v]) {
      if (index[w] < 0) {
        visit(w);
        lowLink[v] = std::min(lowLink[v], lowLink[w]);
      } else if (onStack[w]) {
        lowLink[v] = std::min(lowLink[v], index[w]);
      }
    }
    if (lowLink[v] != index[v])
      return;
    SmallVector<unsigned> scc;
    unsigned w;
    do {
      w = stack.pop_back_val();
      onStack[w] = false;
      scc.push_back(w);
    } while (w != v);
    if (scc.size() > 1 || selfLoop[v]) {
      llvm::sort(scc);
      cycles.push_back(scc);
    }
  };
  for (unsigned v = 0; v < n; ++v)
    if (index[v] < 0)
      visit(v);

  llvm::sort(cycles, [](auto &a, auto &b) { return a.front() < b.front(); });
  for (ArrayRef<unsigned> cycle : cycles) {
    const Component &first = components[cycle.front()];
    if (cycle.size() == 1) {
      first.op->emitError("component '")
          << first.name
          << "' needs its own state at the same token: a read at point "
             "'after' feeds its update (read at 'chunk_start', or from "
             "another level)";
      continue;
    }
    if (cycle.size() == 2 && components[cycle[0]].frequency ==
                                 components[cycle[1]].frequency) {
      const Component &second = components[cycle[1]];
      InFlightDiagnostic diag = first.op->emitError("components '")
                                << first.name << "' and '" << second.name
                                << "' both update "
                                << first.frequency.describe()
                                << " and each needs the other's state at "
                                   "the same token";
      diag.attachNote(second.op->getLoc())
          << "'" << second.name << "' is declared here";
      continue;
    }
    InFlightDiagnostic diag = first.op->emitError("components ");
    llvm::interleave(
        cycle, diag, [&](unsigned id) { diag << "'" << components[id].name << "'"; },
        ", ");
    diag << " form a same-token dependence cycle: each needs another's state "
            "at the same token";
    for (unsigned id : ArrayRef<unsigned>(cycle).drop_front())
      diag.attachNote(components[id].op->getLoc())
          << "'" << components[id].name << "' is declared here";
  }
  return success(cycles.empty());
}

LogicalResult LevelAnalysis::verifyDivisibility() {
  bool ok = true;
  for (const Dependence &dep : dependences) {
    const Component &from = components[dep.from];
    const Component &to = components[dep.to];
    if (from.frequency.dividesOrIsDividedBy(to.frequency))
      continue;
    ok = false;
    InFlightDiagnostic diag =
        to.op->emitError("component '")
        << to.name << "' (" << to.frequency.describe() << ") reads '"
        << from.name << "' (" << from.frequency.describe()
        << "): the periods of components that feed each other must divide "
           "one another";
    diag.attachNote(from.op->getLoc()) << "'" << from.name << "' is declared here";
  }
  return success(ok);
}

void LevelAnalysis::computeLevels() {
  unsigned n = components.size();
  // Same-token reachability (the graph is acyclic here).
  SmallVector<SmallVector<unsigned>> successors(n);
  for (const Dependence &dep : dependences)
    if (dep.sameToken && dep.from != dep.to)
      successors[dep.from].push_back(dep.to);
  SmallVector<llvm::DenseSet<unsigned>> reaches(n);
  for (unsigned start = 0; start < n; ++start) {
    SmallVector<unsigned> worklist(successors[start]);
    while (!worklist.empty()) {
      unsigned v = worklist.pop_back_val();
      if (reaches[start].insert(v).second)
        llvm::append_range(worklist, successors[v]);
    }
  }

  // Frequency classes, fastest first.
  SmallVector<EveryAttr> frequencies;
  for (const Component &component : components)
    if (!llvm::is_contained(frequencies, component.frequency))
      frequencies.push_back(component.frequency);
  llvm::sort(frequencies,
             [](EveryAttr a, EveryAttr b) { return a.isFasterThan(b); });

  // Within a class, the depth of a component is the longest chain of
  // same-token dependences on members of its class.
  levels.assign(n, 0);
  unsigned base = 0;
  for (EveryAttr frequency : frequencies) {
    SmallVector<unsigned> members;
    for (unsigned id = 0; id < n; ++id)
      if (components[id].frequency == frequency)
        members.push_back(id);
    DenseMap<unsigned, unsigned> depth;
    std::function<unsigned(unsigned)> depthOf = [&](unsigned id) -> unsigned {
      auto it = depth.find(id);
      if (it != depth.end())
        return it->second;
      unsigned d = 0;
      for (unsigned other : members)
        if (other != id && reaches[other].contains(id))
          d = std::max(d, depthOf(other) + 1);
      return depth[id] = d;
    };
    unsigned maxDepth = 0;
    for (unsigned id : members)
      maxDepth = std::max(maxDepth, depthOf(id));
    for (unsigned id : members)
      levels[id] = base + depthOf(id) + 1;
    base += maxDepth + 1;
  }
  numLevels = base;
}

void LevelAnalysis::print(raw_ostream &os, bool withDependences) const {
  StringRef name = "<anonymous>";
  if (auto symbol = dyn_cast<SymbolOpInterface>(function))
    name = symbol.getName();
  os << "levels of @" << name << " (fastest first):\n";
  for (unsigned level = 1; level <= numLevels; ++level) {
    SmallVector<unsigned> members;
    for (auto [id, componentLevel] : llvm::enumerate(levels))
      if (componentLevel == level)
        members.push_back(id);
    std::string names;
    llvm::raw_string_ostream namesOs(names);
    llvm::interleaveComma(members, namesOs, [&](unsigned id) {
      namesOs << components[id].name << " ("
              << components[id].op->getName().getStringRef() << ")";
    });
    os << llvm::formatv("  level {0,-3} {1,-18} {2}\n", level,
                        components[members.front()].frequency.describe(),
                        names);
  }
  if (!withDependences)
    return;
  auto printList = [&](ArrayRef<Dependence> list) {
    for (const Dependence &dep : list)
      os << "  " << components[dep.from].name << " -> "
         << components[dep.to].name << "  ("
         << (dep.sameToken ? "same token" : "earlier token")
         << (dep.throughTokenMixing ? "; through an op that mixes tokens" : "")
         << ")\n";
  };
  os << "dependences of @" << name << ":\n";
  printList(dependences);
  if (queryDependences.empty())
    return;
  os << "dependences of the reads' queries of @" << name << ":\n";
  printList(queryDependences);
}
