//===- ParallelLoopsToOpenMP.cpp - nl-parallel-loops-to-openmp ------------===//
//
// Parallel loops as OpenMP regions whose threads compute their own share of
// the iterations (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "LoopWork.h"
#include "nl/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLPARALLELLOOPSTOOPENMP
#include "nl/Codegen/CPU/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;

namespace {

/// The declaration of the OpenMP runtime's `int name(void)`, added once.
func::FuncOp runtimeQuery(ModuleOp module, StringRef name) {
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  OpBuilder builder = OpBuilder::atBlockBegin(module.getBody());
  auto type = builder.getFunctionType({}, {builder.getI32Type()});
  auto query = func::FuncOp::create(builder, module.getLoc(), name, type);
  query.setPrivate();
  return query;
}

Value queryIndex(OpBuilder &builder, Location loc, func::FuncOp query) {
  Value count = func::CallOp::create(builder, loc, query).getResult(0);
  return arith::IndexCastOp::create(builder, loc, builder.getIndexType(),
                                    count);
}

/// Rewrites `loop` as an omp.parallel in which each thread runs one
/// contiguous share of the iterations, all dimensions collapsed into one
/// range: OpenMP's static schedule, without a worksharing loop.
/// A nest whose iterations do less than `minWork` operations in all (its
/// trip counts known only at run time) runs on one thread.
void lowerToThreads(scf::ParallelOp loop, func::FuncOp threadNum,
                    func::FuncOp numThreads,
                    function_ref<Value()> maxThreads, int64_t minWork) {
  OpBuilder builder(loop);
  Location loc = loop.getLoc();
  auto constant = [&](int64_t value) -> Value {
    return arith::ConstantIndexOp::create(builder, loc, value);
  };
  Value zero = constant(0), one = constant(1);
  // Trip counts, as scf.parallel defines them (positive steps).
  SmallVector<Value> trips;
  Value total = one;
  for (auto [lb, ub, step] : llvm::zip(loop.getLowerBound(),
                                       loop.getUpperBound(), loop.getStep())) {
    Value span = arith::SubIOp::create(builder, loc, ub, lb);
    Value rounded = arith::AddIOp::create(
        builder, loc, span, arith::SubIOp::create(builder, loc, step, one));
    Value count = arith::MaxSIOp::create(
        builder, loc, zero, arith::DivSIOp::create(builder, loc, rounded, step));
    trips.push_back(count);
    total = arith::MulIOp::create(builder, loc, total, count);
  }

  auto region = omp::ParallelOp::create(builder, loc);
  int64_t perIteration = nl::estimatedWork(*loop.getBody());
  if (perIteration < minWork) {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPoint(region);
    Value work = arith::MulIOp::create(builder, loc, total,
                                       constant(perIteration));
    Value enough = arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::uge,
                                         work, constant(minWork));
    Value all = maxThreads();
    Value single = arith::ConstantIntOp::create(builder, loc, 1, 32);
    region.getNumThreadsMutable().assign(
        arith::SelectOp::create(builder, loc, enough, all, single));
  }
  builder.createBlock(&region.getRegion());
  Value thread = queryIndex(builder, loc, threadNum);
  Value threads = queryIndex(builder, loc, numThreads);
  Value share = arith::DivUIOp::create(
      builder, loc,
      arith::AddIOp::create(builder, loc, total,
                            arith::SubIOp::create(builder, loc, threads, one)),
      threads);
  Value begin = arith::MinUIOp::create(
      builder, loc, arith::MulIOp::create(builder, loc, thread, share), total);
  Value end = arith::MinUIOp::create(
      builder, loc, arith::AddIOp::create(builder, loc, begin, share), total);
  auto mine = scf::ForOp::create(builder, loc, begin, end, one);
  omp::TerminatorOp::create(builder, loc);

  builder.setInsertionPointToStart(mine.getBody());
  IRMapping mapping;
  Value rest = mine.getInductionVar();
  for (int64_t d = loop.getNumLoops() - 1; d >= 0; --d) {
    Value index = d == 0 ? rest
                         : arith::RemUIOp::create(builder, loc, rest, trips[d]);
    if (d > 0)
      rest = arith::DivUIOp::create(builder, loc, rest, trips[d]);
    Value offset = arith::MulIOp::create(builder, loc, index, loop.getStep()[d]);
    mapping.map(loop.getInductionVars()[d],
                arith::AddIOp::create(builder, loc, loop.getLowerBound()[d],
                                      offset));
  }
  for (Operation &op : loop.getBody()->without_terminator())
    builder.clone(op, mapping);
  loop.erase();
}

/// Whether the body allocates on the stack: each iteration's allocas must
/// then be freed after it, which an alloca scope in an scf.for cannot do
/// once lowered (several blocks), and which omp.wsloop does.
bool allocatesOnStack(scf::ParallelOp loop) {
  return loop.getBody()
      ->walk([](memref::AllocaOp) { return WalkResult::interrupt(); })
      .wasInterrupted();
}

struct ParallelLoopsToOpenMPPass
    : nl::impl::NLParallelLoopsToOpenMPBase<ParallelLoopsToOpenMPPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<scf::ParallelOp> loops;
    module.walk([&](scf::ParallelOp loop) {
      if (loop.getNumReductions() == 0 && !allocatesOnStack(loop) &&
          !loop->getParentOfType<scf::ParallelOp>() &&
          !loop->getParentOfType<omp::ParallelOp>())
        loops.push_back(loop);
    });
    if (loops.empty())
      return;
    func::FuncOp threadNum = runtimeQuery(module, "omp_get_thread_num");
    func::FuncOp numThreads = runtimeQuery(module, "omp_get_num_threads");
    func::FuncOp maxThreads = runtimeQuery(module, "omp_get_max_threads");
    // omp_get_max_threads() once per call of a function, at its entry:
    // hundreds of run-time sized regions in a chunk loop would otherwise
    // each ask the runtime.
    DenseMap<Operation *, Value> maxThreadsOf;
    for (scf::ParallelOp loop : loops) {
      Operation *function = loop->getParentOfType<FunctionOpInterface>();
      auto queryOnce = [&]() -> Value {
        Value &count = maxThreadsOf[function];
        if (!count) {
          Block &entry = function->getRegion(0).front();
          OpBuilder builder = OpBuilder::atBlockBegin(&entry);
          count = func::CallOp::create(builder, function->getLoc(), maxThreads)
                      .getResult(0);
        }
        return count;
      };
      lowerToThreads(loop, threadNum, numThreads, queryOnce, minParallelWork);
    }
  }
};

} // namespace
