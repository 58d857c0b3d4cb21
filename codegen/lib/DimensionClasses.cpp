//===- DimensionClasses.cpp - which dynamic sizes are equal ---------------===//

#include "DimensionClasses.h"

#include "nl/IR/NLOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::nl;

static unsigned rankOf(Value value) {
  if (auto type = dyn_cast<RankedTensorType>(value.getType()))
    return type.getRank();
  return 0;
}

std::pair<Value, unsigned> DimensionClasses::find(Value value, unsigned dim) {
  Key key{value, dim};
  auto it = parent.find(key);
  if (it == parent.end() || it->second == key)
    return key;
  Key root = find(it->second.first, it->second.second);
  parent[key] = root;
  return root;
}

void DimensionClasses::unite(Value a, unsigned dimA, Value b, unsigned dimB) {
  Key rootA = find(a, dimA), rootB = find(b, dimB);
  if (rootA != rootB)
    parent[rootB] = rootA;
}

void DimensionClasses::uniteAll(Value a, Value b, unsigned numDims) {
  for (unsigned dim = 0; dim < numDims; ++dim)
    unite(a, dim, b, dim);
}

DimensionClasses::DimensionClasses(FunctionOpInterface function) {
  function->walk([&](Operation *op) {
    // Ops whose operands and results all have one type share every size.
    if (op->hasTrait<OpTrait::SameOperandsAndResultType>() ||
        op->hasTrait<OpTrait::Elementwise>()) {
      for (Value operand : op->getOperands())
        for (Value result : op->getResults())
          if (rankOf(operand) == rankOf(result))
            uniteAll(result, operand, rankOf(result));
    }
    llvm::TypeSwitch<Operation *>(op)
        .Case<LinearOp>([&](LinearOp linear) {
          uniteAll(linear.getResult(), linear.getInput(),
                   rankOf(linear.getInput()) - 1);
        })
        .Case<SplitHeadsOp>([&](SplitHeadsOp split) {
          unite(split.getResult(), 0, split.getInput(), 0);
          unite(split.getResult(), 2, split.getInput(), 1);
        })
        .Case<MergeHeadsOp>([&](MergeHeadsOp merge) {
          unite(merge.getResult(), 0, merge.getInput(), 0);
          unite(merge.getResult(), 1, merge.getInput(), 2);
        })
        .Case<RMSNormOp>([&](RMSNormOp norm) {
          uniteAll(norm.getResult(), norm.getInput(), 3);
        })
        .Case<CausalConvOp>([&](CausalConvOp conv) {
          uniteAll(conv.getResult(), conv.getInput(), 3);
          // The streaming history has the batch and width of the input.
          if (Value history = conv.getHistory()) {
            unite(history, 0, conv.getInput(), 0);
            unite(history, 2, conv.getInput(), 2);
          }
        })
        .Case<SequenceTailOp>([&](SequenceTailOp tail) {
          uniteAll(tail.getResult(), tail.getHistory(), 3);
          unite(tail.getHistory(), 0, tail.getInput(), 0);
          unite(tail.getHistory(), 2, tail.getInput(), 2);
        })
        .Case<RateOp>([&](RateOp rate) {
          uniteAll(rate.getResult(), rate.getInput(), 3);
        })
        .Case<EmbeddingOp>([&](EmbeddingOp embedding) {
          uniteAll(embedding.getResult(), embedding.getIds(), 2);
        })
        .Case<GateOp>([&](GateOp gate) {
          uniteAll(gate.getResult(), gate.getInput(), 4);
          uniteAll(gate.getGate(), gate.getInput(), 3);
        })
        .Case<ChunkPoolOp>([&](ChunkPoolOp pool) {
          unite(pool.getResult(), 0, pool.getInput(), 0);
          unite(pool.getResult(), 2, pool.getInput(), 2);
        })
        .Case<ReadOp>([&](ReadOp read) {
          uniteAll(read.getResult(), read.getQuery(), 3);
          // A memory reads the sequence it learns from: same batch, heads
          // and tokens as its update's keys.
          if (auto memory = read.getMemory().getDefiningOp<MemoryOp>())
            if (UpdateOp update = memory.getUpdate())
              uniteAll(read.getQuery(), update.getKeys(), 3);
        })
        .Case<CMSOp>([&](CMSOp cms) {
          uniteAll(cms.getResult(), cms.getInput(), 3);
        })
        .Case<UpdateOp>([&](UpdateOp update) {
          Value keys = update.getKeys();
          uniteAll(update.getValues(), keys, 3);
          for (Value rate : update->getOperands().drop_front(3)) {
            unite(rate, 0, keys, 0);
            unite(rate, 1, keys, 1);
          }
          // Per-token rates share the token count with the keys.
          MemoryOp memory = update.getMemoryOp();
          auto tokenRate = [&](Value rate, RateGranularity granularity) {
            if (rate && granularity == RateGranularity::Token)
              unite(rate, 2, keys, 2);
          };
          tokenRate(update.getLr(), memory.getLrGranularity());
          tokenRate(update.getRetention(), memory.getRetentionGranularity());
          for (Value beta : update.getMomentum())
            tokenRate(beta, memory.getMomentumGranularity());
          // Per-sequence initial states share the batch with the keys.
          for (Value carried : memory.getReference())
            unite(carried, 0, keys, 0);
          for (Value carried : memory.getPending())
            unite(carried, 0, keys, 0);
          for (Operation *user : memory.getMemory().getUsers())
            if (auto stream = dyn_cast<StreamStateOp>(user)) {
              for (Value result : stream.getReference())
                unite(result, 0, keys, 0);
              for (Value result : stream.getPending())
                unite(result, 0, keys, 0);
            }
          auto shapes = memory.getStateShapes();
          for (auto [index, init] : llvm::enumerate(memory.getInit()))
            if (rankOf(init) == shapes[index % shapes.size()].size() + 2)
              unite(init, 0, keys, 0);
        })
        .Case<FinalStateOp>([&](FinalStateOp final) {
          if (UpdateOp update =
                  final.getMemory().getDefiningOp<MemoryOp>().getUpdate())
            for (Value state : final.getStates())
              unite(state, 0, update.getKeys(), 0);
        })
        .Default([](Operation *) {});
  });
}
