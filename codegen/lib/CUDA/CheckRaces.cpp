//===- CheckRaces.cpp - nl-cuda-check-races -------------------------------===//
//
// Proves, per kernel, what the emulator relies on (Passes.td says what):
// barriers where every thread of a block meets them, and no two threads of
// a block touching one element between two barriers when one writes it.
//
// An access is "keyed by the thread" when its indices determine a value L
// that tells threads apart (the thread id, or a loop from the thread id
// stepping by the block size: L mod blockDim is the thread): either one
// index is injective in L (L plus uniform values, times a non-zero
// constant), or the indices hold every digit of L's delinearisation
// (L mod e0, (L / e0) mod e1, ..., the last one bounded by L's upper bound).
// Two accesses keyed by the same expressions at the same positions touch
// one element only from one thread.
//
// Dynamic shared memory is one buffer that the kernel views at constant
// byte offsets (nl-cuda-form-kernels places states and scratch there, and
// scratch that does not fit in the block's slot of a global arena, at the
// slot's base plus constants): views whose byte ranges are disjoint are
// different buffers, views whose ranges overlap (directly or through a
// chain of overlaps) one buffer.
//
//===----------------------------------------------------------------------===//

#include "KernelStructure.h"
#include "nl/Codegen/CUDA/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/EquivalenceClasses.h"
#include "llvm/ADT/MapVector.h"

#include <map>
#include <tuple>

namespace mlir::nl {
#define GEN_PASS_DEF_NLCUDACHECKRACES
#include "nl/Codegen/CUDA/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;
using namespace mlir::nl::cuda;

namespace {

/// One load or store of a kernel.
struct Access {
  Operation *op;
  bool write;
  Value memref;
  SmallVector<Value> roots;
  unsigned interval;
  unsigned segment;
  /// Run by thread 0 only.
  bool single = false;
  /// The indices that key it by the thread: "position=expression" entries;
  /// empty when it is not keyed.
  std::string key;
  /// Whether the key reads a uniform value that changes with the
  /// iterations of a loop holding barriers (comparable within one segment
  /// only).
  bool iterationDependent = false;
};

class KernelRaceChecker {
public:
  KernelRaceChecker(gpu::GPUFuncOp kernel, const KernelUniformity &uniformity,
                    ArrayRef<SmallVector<Value>> launchOperands)
      : kernel(kernel), uniformity(uniformity),
        launchOperands(launchOperands) {
    if (std::optional<ArrayRef<int32_t>> known = kernel.getKnownBlockSize()) {
      ArrayRef<int32_t> sizes = *known;
      if (sizes.size() == 3 && sizes[1] == 1 && sizes[2] == 1)
        blockSize = sizes[0];
    }
  }

  LogicalResult check();

private:
  unsigned walkBlock(Block &block, unsigned interval);
  LogicalResult collect(Operation *op, unsigned interval, unsigned segment);
  LogicalResult checkPair(const Access &a, const Access &b, Value root);
  LogicalResult checkSharedViews();
  LogicalResult classifyViews();
  void rootsOf(Value value, SmallVectorImpl<Value> &roots) const;
  Value sameBuffer(Value memref) const;
  bool variesBetweenBlocks(Value value, DenseMap<Value, bool> &memo);
  bool dependsOnBlockId(Value value) const;

  std::optional<int64_t> constantOf(Value value) const;
  bool isThreadVar(Value value) const;
  bool isThreadId(Value value) const;
  bool onlyThreadZero(Value condition) const;
  bool isSingleThread(Operation *op) const;
  void keyOf(Access &access, ValueRange indices);
  std::string expression(Value value, bool &iterationDependent);
  bool injectiveInThread(Value value) const;
  Value upperBound(Value value, Operation *at) const;
  void flattenProduct(Value value, int64_t &constant,
                      SmallVectorImpl<Value> &factors) const;
  std::string describe(Value root) const;

  // Op handles are not const-correct.
  mutable gpu::GPUFuncOp kernel;
  const KernelUniformity &uniformity;
  ArrayRef<SmallVector<Value>> launchOperands;
  std::optional<int64_t> blockSize;
  llvm::EquivalenceClasses<unsigned> intervals;
  unsigned nextInterval = 0, nextSegment = 0;
  std::vector<Access> accesses;
  DenseMap<Value, unsigned> numbers;
  bool failedCollect = false;
  /// The kernel's dynamic shared memory (every gpu.dynamic_shared_memory
  /// op's result is this one buffer).
  Value dynamicShared;
  /// Each view of a buffer told apart by its views -> the first view of its
  /// class of overlapping byte ranges, the buffer the check sees.
  DenseMap<Operation *, Value> viewClass;
  /// Such buffers -> their classes' leaders.
  DenseMap<Value, SmallVector<Value>> classesOf;
  /// Each such view -> the first view of the same offset and type (one
  /// buffer as the indices see it).
  DenseMap<Value, Value> identicalView;
  /// The classes' leaders -> their byte range and buffer, for errors.
  DenseMap<Value, std::pair<int64_t, int64_t>> viewRange;
  DenseMap<Value, Value> viewedBuffer;

public:
  /// Kernel arguments that a launch passes views of one buffer -> the first
  /// such argument: one buffer for the check.
  DenseMap<Value, Value> aliases;
};

std::optional<int64_t> KernelRaceChecker::constantOf(Value value) const {
  APInt constant;
  if (matchPattern(value, m_ConstantInt(&constant)))
    return constant.getSExtValue();
  auto argument = dyn_cast<BlockArgument>(value);
  if (!argument || argument.getOwner() != &kernel.getBody().front() ||
      argument.getArgNumber() >= kernel.getNumArguments() ||
      launchOperands.empty())
    return std::nullopt;
  std::optional<int64_t> common;
  for (const SmallVector<Value> &operands : launchOperands) {
    if (argument.getArgNumber() >= operands.size() ||
        !matchPattern(operands[argument.getArgNumber()],
                      m_ConstantInt(&constant)))
      return std::nullopt;
    if (common && *common != constant.getSExtValue())
      return std::nullopt;
    common = constant.getSExtValue();
  }
  return common;
}

bool KernelRaceChecker::isThreadId(Value value) const {
  auto id = value.getDefiningOp<gpu::ThreadIdOp>();
  return id && id.getDimension() == gpu::Dimension::x && blockSize;
}

/// The thread id, or the induction variable of a loop from the thread id
/// stepping by the block size: its value modulo the block size is the
/// thread.
bool KernelRaceChecker::isThreadVar(Value value) const {
  if (isThreadId(value))
    return true;
  auto loop = scf::getForInductionVarOwner(value);
  if (!loop || !isThreadId(loop.getLowerBound()))
    return false;
  std::optional<int64_t> step = constantOf(loop.getStep());
  if (step)
    return *step == *blockSize;
  auto dim = loop.getStep().getDefiningOp<gpu::BlockDimOp>();
  return dim && dim.getDimension() == gpu::Dimension::x;
}

/// Whether `condition` holds for thread 0 alone: thread_id == 0, or
/// thread_id < 1 (nl-cuda-form-kernels' guard of a loop nest of one
/// iteration, a kernel of one block), either operand order.
bool KernelRaceChecker::onlyThreadZero(Value condition) const {
  auto compare = condition.getDefiningOp<arith::CmpIOp>();
  if (!compare)
    return false;
  using Predicate = arith::CmpIPredicate;
  Value thread = compare.getLhs(), other = compare.getRhs();
  Predicate predicate = compare.getPredicate();
  if (!isThreadId(thread)) {
    // c > thread_id is thread_id < c, and so on.
    std::swap(thread, other);
    switch (predicate) {
    case Predicate::ugt:
      predicate = Predicate::ult;
      break;
    case Predicate::uge:
      predicate = Predicate::ule;
      break;
    case Predicate::eq:
      break;
    default:
      return false;
    }
  }
  std::optional<int64_t> bound = constantOf(other);
  if (!isThreadId(thread) || !bound)
    return false;
  return ((predicate == Predicate::eq || predicate == Predicate::ule) &&
          *bound == 0) ||
         (predicate == Predicate::ult && *bound == 1);
}

/// Whether only thread 0 runs `op`: under a branch that only thread 0
/// takes (onlyThreadZero), or in a thread-strided loop of at most one
/// iteration.
bool KernelRaceChecker::isSingleThread(Operation *op) const {
  for (Operation *parent = op->getParentOp(); parent && parent != kernel;
       parent = parent->getParentOp()) {
    if (auto branch = dyn_cast<scf::IfOp>(parent))
      if (branch.getThenRegion().isAncestor(op->getParentRegion()) &&
          onlyThreadZero(branch.getCondition()))
        return true;
    if (auto loop = dyn_cast<scf::ForOp>(parent))
      if (isThreadVar(loop.getInductionVar()) &&
          !isThreadId(loop.getInductionVar())) {
        std::optional<int64_t> upper = constantOf(loop.getUpperBound());
        if (upper && *upper <= 1)
          return true;
      }
  }
  return false;
}

/// A canonical text of an index expression: thread values as L, constants
/// by value, uniform values by identity, anything else opaque.
std::string KernelRaceChecker::expression(Value value,
                                          bool &iterationDependent) {
  if (std::optional<int64_t> constant = constantOf(value))
    return "c" + std::to_string(*constant);
  if (isThreadVar(value))
    return "L";
  Operation *def = value.getDefiningOp();
  if (def && isa<arith::AddIOp, arith::SubIOp, arith::MulIOp, arith::RemUIOp,
                 arith::DivUIOp>(def))
    return "(" + def->getName().stripDialect().str() + " " +
           expression(def->getOperand(0), iterationDependent) + " " +
           expression(def->getOperand(1), iterationDependent) + ")";
  unsigned number = numbers.try_emplace(value, numbers.size()).first->second;
  if (!uniformity.isUniform(value))
    return "?" + std::to_string(number);
  // A uniform value inside a loop holding barriers differs between the
  // loop's iterations, which one barrier interval may span.
  Operation *scope = def ? def : value.getParentBlock()->getParentOp();
  for (Operation *parent = scope; parent && parent != kernel;
       parent = parent->getParentOp())
    if ((parent != def || !def) && isa<scf::ForOp>(parent) &&
        uniformity.isUniformControl(parent))
      iterationDependent = true;
  return "u" + std::to_string(number);
}

/// Whether distinct thread values give distinct values of `value`.
bool KernelRaceChecker::injectiveInThread(Value value) const {
  if (isThreadVar(value))
    return true;
  Operation *def = value.getDefiningOp();
  if (!def)
    return false;
  auto fixed = [&](Value v) {
    return constantOf(v).has_value() || uniformity.isUniform(v);
  };
  if (auto add = dyn_cast<arith::AddIOp>(def))
    return (fixed(add.getLhs()) && injectiveInThread(add.getRhs())) ||
           (fixed(add.getRhs()) && injectiveInThread(add.getLhs()));
  if (auto sub = dyn_cast<arith::SubIOp>(def))
    return fixed(sub.getRhs()) && injectiveInThread(sub.getLhs());
  if (auto mul = dyn_cast<arith::MulIOp>(def))
    for (auto [x, y] : {std::pair(mul.getLhs(), mul.getRhs()),
                        std::pair(mul.getRhs(), mul.getLhs())}) {
      std::optional<int64_t> factor = constantOf(y);
      if (factor && *factor != 0 && injectiveInThread(x))
        return true;
    }
  return false;
}

/// An exclusive upper bound of `value` at `at`: the upper bound of the loop
/// it is the induction variable of, or X of an enclosing
/// `scf.if (value ult X)`.
Value KernelRaceChecker::upperBound(Value value, Operation *at) const {
  if (auto loop = scf::getForInductionVarOwner(value))
    return loop.getUpperBound();
  for (Operation *parent = at->getParentOp(); parent && parent != kernel;
       parent = parent->getParentOp()) {
    auto branch = dyn_cast<scf::IfOp>(parent);
    if (!branch || !branch.getThenRegion().isAncestor(at->getParentRegion()))
      continue;
    auto compare = branch.getCondition().getDefiningOp<arith::CmpIOp>();
    if (compare && compare.getLhs() == value &&
        compare.getPredicate() == arith::CmpIPredicate::ult)
      return compare.getRhs();
  }
  return Value();
}

/// `value` as a constant times a multiset of factors, through products in
/// the kernel and, for a kernel argument, at its launch.
void KernelRaceChecker::flattenProduct(Value value, int64_t &constant,
                                       SmallVectorImpl<Value> &factors) const {
  if (std::optional<int64_t> known = constantOf(value)) {
    constant *= *known;
    return;
  }
  if (auto mul = value.getDefiningOp<arith::MulIOp>()) {
    flattenProduct(mul.getLhs(), constant, factors);
    flattenProduct(mul.getRhs(), constant, factors);
    return;
  }
  auto argument = dyn_cast<BlockArgument>(value);
  if (argument && argument.getOwner() == &kernel.getBody().front() &&
      launchOperands.size() == 1 &&
      argument.getArgNumber() < launchOperands.front().size()) {
    flattenProduct(launchOperands.front()[argument.getArgNumber()], constant,
                   factors);
    return;
  }
  factors.push_back(value);
}

/// Keys `access` by the thread when its indices determine a thread value.
void KernelRaceChecker::keyOf(Access &access, ValueRange indices) {
  // Each index with its injective wrappers (+ uniform, * constant) removed.
  struct Digit {
    unsigned position;
    Value base;                // the delinearised value
    SmallVector<Value> divisors;
    Value modulus;             // null: the quotient itself
  };
  SmallVector<Digit> digits;
  auto fixed = [&](Value v) {
    return constantOf(v).has_value() || uniformity.isUniform(v);
  };
  for (auto [position, index] : llvm::enumerate(indices)) {
    Value v = index;
    while (true) {
      Operation *def = v.getDefiningOp();
      if (auto add = dyn_cast_or_null<arith::AddIOp>(def)) {
        if (fixed(add.getRhs()) && !fixed(add.getLhs())) {
          v = add.getLhs();
          continue;
        }
        if (fixed(add.getLhs()) && !fixed(add.getRhs())) {
          v = add.getRhs();
          continue;
        }
      }
      if (auto sub = dyn_cast_or_null<arith::SubIOp>(def))
        if (fixed(sub.getRhs()) && !fixed(sub.getLhs())) {
          v = sub.getLhs();
          continue;
        }
      break;
    }
    if (injectiveInThread(v)) {
      // This index alone tells the threads apart.
      digits.clear();
      digits.push_back({static_cast<unsigned>(position), v, {}, Value()});
      break;
    }
    Digit digit{static_cast<unsigned>(position), Value(), {}, Value()};
    if (auto rem = v.getDefiningOp<arith::RemUIOp>()) {
      digit.modulus = rem.getRhs();
      v = rem.getLhs();
    }
    while (auto div = v.getDefiningOp<arith::DivUIOp>()) {
      digit.divisors.insert(digit.divisors.begin(), div.getRhs());
      v = div.getLhs();
    }
    if (!injectiveInThread(v))
      continue;
    digit.base = v;
    digits.push_back(digit);
  }
  auto same = [&](Value x, Value y) {
    std::optional<int64_t> cx = constantOf(x), cy = constantOf(y);
    return x == y || (cx && cy && *cx == *cy);
  };
  // A single injective index, or a full set of digits of one base.
  SmallVector<unsigned> used;
  if (digits.size() == 1 && !digits.front().modulus &&
      digits.front().divisors.empty()) {
    used.push_back(0);
  } else {
    for (unsigned first = 0; first < digits.size() && used.empty(); ++first) {
      Value base = digits[first].base;
      SmallVector<Value> moduli;
      SmallVector<unsigned> chain;
      bool complete = false;
      while (!complete) {
        // The digit whose divisors are the moduli so far.
        std::optional<unsigned> next;
        for (unsigned i = 0; i < digits.size() && !next; ++i) {
          const Digit &d = digits[i];
          if (d.base != base || d.divisors.size() != moduli.size())
            continue;
          bool match = true;
          for (unsigned k = 0; k < moduli.size(); ++k)
            match = match && same(d.divisors[k], moduli[k]);
          if (match)
            next = i;
        }
        if (!next)
          break;
        const Digit &d = digits[*next];
        chain.push_back(*next);
        if (!d.modulus) {
          complete = true;
          break;
        }
        moduli.push_back(d.modulus);
        // The last digit: base < product of the moduli.
        Value bound = upperBound(base, access.op);
        if (!bound)
          continue;
        int64_t boundConstant = 1, productConstant = 1;
        SmallVector<Value> boundFactors, productFactors;
        flattenProduct(bound, boundConstant, boundFactors);
        for (Value modulus : moduli)
          flattenProduct(modulus, productConstant, productFactors);
        auto order = [](Value x, Value y) {
          return x.getAsOpaquePointer() < y.getAsOpaquePointer();
        };
        llvm::sort(boundFactors, order);
        llvm::sort(productFactors, order);
        if (boundFactors == productFactors &&
            boundConstant <= productConstant && boundConstant > 0 &&
            (boundFactors.empty() || boundConstant == productConstant))
          complete = true;
      }
      if (complete)
        used = chain;
    }
  }
  if (used.empty())
    return;
  std::map<unsigned, std::string> entries;
  for (unsigned i : used)
    entries[digits[i].position] =
        expression(indices[digits[i].position], access.iterationDependent);
  for (auto &[position, text] : entries)
    access.key += std::to_string(position) + "=" + text + ";";
}

std::string KernelRaceChecker::describe(Value root) const {
  std::string text;
  llvm::raw_string_ostream os(text);
  if (auto range = viewRange.find(root); range != viewRange.end()) {
    Value buffer = viewedBuffer.lookup(root);
    if (buffer == dynamicShared)
      os << "dynamic shared memory";
    else
      os << describe(buffer) << ", its views'";
    os << " bytes [" << range->second.first << ", " << range->second.second
       << ")";
    return text;
  }
  if (auto argument = dyn_cast<BlockArgument>(root)) {
    if (argument.getOwner() == &kernel.getBody().front() &&
        argument.getArgNumber() >= kernel.getNumArguments())
      os << "workgroup buffer #"
         << argument.getArgNumber() - kernel.getNumArguments();
    else
      os << "kernel argument #" << argument.getArgNumber();
  } else {
    os << "the buffer of '" << root.getDefiningOp()->getName() << "'";
  }
  os << " (" << root.getType() << ")";
  return text;
}

LogicalResult KernelRaceChecker::collect(Operation *op, unsigned interval,
                                         unsigned segment) {
  WalkResult result = op->walk([&](Operation *inner) -> WalkResult {
    Value memref;
    ValueRange indices;
    bool write = false;
    if (auto load = dyn_cast<memref::LoadOp>(inner)) {
      memref = load.getMemRef();
      indices = load.getIndices();
    } else if (auto store = dyn_cast<memref::StoreOp>(inner)) {
      memref = store.getMemRef();
      indices = store.getIndices();
      write = true;
    } else if (isa<memref::AllocaOp, memref::AllocOp, memref::DeallocOp>(
                   inner) ||
               isMemoryEffectFree(inner) ||
               isa<RegionBranchOpInterface>(inner) ||
               inner->hasTrait<OpTrait::IsTerminator>()) {
      return WalkResult::advance();
    } else {
      inner->emitError("cannot prove this kernel race-free: this op "
                       "touches memory in a way the race check does not "
                       "analyse");
      return WalkResult::interrupt();
    }
    Access access;
    access.op = inner;
    access.write = write;
    access.memref = memref;
    access.interval = interval;
    access.segment = segment;
    rootsOf(memref, access.roots);
    for (Value &root : access.roots)
      root = aliases.lookup_or(root, root);
    // Buffers of one thread need no proof.
    llvm::erase_if(access.roots, [&](Value root) {
      auto alloca = root.getDefiningOp<memref::AllocaOp>();
      return alloca && !isa_and_nonnull<gpu::AddressSpaceAttr>(
                           alloca.getType().getMemorySpace());
    });
    access.single = isSingleThread(inner);
    keyOf(access, indices);
    accesses.push_back(std::move(access));
    return WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}

/// Walks `block` from barrier interval `interval`; returns the interval
/// open at its end. Loops join their end to their start (the back edge) and
/// to what follows; branches join their ends.
unsigned KernelRaceChecker::walkBlock(Block &block, unsigned interval) {
  bool inRun = false;
  unsigned segment = 0;
  for (Operation &op : block.without_terminator()) {
    if (isa<gpu::BarrierOp>(op)) {
      interval = nextInterval++;
      intervals.insert(interval);
      inRun = false;
      continue;
    }
    if (uniformity.isUniformControl(&op)) {
      inRun = false;
      if (auto loop = dyn_cast<scf::ForOp>(op)) {
        unsigned end = walkBlock(*loop.getBody(), interval);
        intervals.unionSets(end, interval);
        continue;
      }
      auto branch = cast<scf::IfOp>(op);
      unsigned thenEnd = walkBlock(branch.getThenRegion().front(), interval);
      unsigned elseEnd =
          branch.getElseRegion().empty()
              ? interval
              : walkBlock(branch.getElseRegion().front(), interval);
      intervals.unionSets(thenEnd, elseEnd);
      interval = thenEnd;
      continue;
    }
    if (!inRun) {
      segment = nextSegment++;
      inRun = true;
    }
    if (failed(collect(&op, interval, segment)))
      failedCollect = true;
  }
  return interval;
}

LogicalResult KernelRaceChecker::checkPair(const Access &first,
                                           const Access &second, Value root) {
  // The error at the write.
  bool swap = !first.write && second.write;
  const Access &a = swap ? second : first;
  const Access &b = swap ? first : second;
  if (a.single && b.single)
    return success();
  if (sameBuffer(a.memref) == sameBuffer(b.memref) && !a.key.empty() &&
      a.key == b.key &&
      (a.segment == b.segment ||
       (!a.iterationDependent && !b.iterationDependent)))
    return success();
  InFlightDiagnostic diagnostic = a.op->emitError("possible race on ")
                                  << describe(root) << ": ";
  if (&a == &b) {
    diagnostic << "two threads of a block may "
               << (a.write ? "store" : "load")
               << " the same element here between two barriers";
  } else {
    diagnostic << "this access and another one between the same two "
                  "barriers may touch the same element from two threads "
                  "of a block, one of them writing";
    diagnostic.attachNote(b.op->getLoc()) << "the other access";
  }
  return failure();
}

/// Whether `value` may differ between blocks that run at the same time:
/// blocks do not wait for each other, so they may be at different iterations
/// of a loop, and they load what they will.
bool KernelRaceChecker::variesBetweenBlocks(Value value,
                                            DenseMap<Value, bool> &memo) {
  if (auto known = memo.find(value); known != memo.end())
    return known->second;
  memo[value] = false;
  bool varies = false;
  if (auto loop = scf::getForInductionVarOwner(value)) {
    varies = true;
  } else if (Operation *def = value.getDefiningOp()) {
    if (def->getNumRegions() || !isMemoryEffectFree(def))
      varies = true;
    else
      for (Value operand : def->getOperands())
        varies = varies || variesBetweenBlocks(operand, memo);
  }
  memo[value] = varies;
  return varies;
}

bool KernelRaceChecker::dependsOnBlockId(Value value) const {
  Operation *def = value.getDefiningOp();
  if (!def)
    return false;
  if (isa<gpu::BlockIdOp>(def))
    return true;
  return llvm::any_of(def->getOperands(),
                      [&](Value operand) { return dependsOnBlockId(operand); });
}

/// A memref.view of a buffer the blocks share whose sizes change between
/// blocks (e.g. with the chunk a block is at) lays the blocks' slices out
/// differently at once: they may overlap. A view at a block's own offset
/// (its slot) is the block's alone.
LogicalResult KernelRaceChecker::checkSharedViews() {
  DenseMap<Value, bool> memo;
  WalkResult result = kernel.walk([&](memref::ViewOp view) -> WalkResult {
    if (dependsOnBlockId(view.getByteShift()))
      return WalkResult::advance();
    for (Value size : view.getSizes())
      if (variesBetweenBlocks(size, memo)) {
        SmallVector<Value> roots;
        collectRoots(view.getSource(), roots);
        InFlightDiagnostic diagnostic = view.emitError("possible race on ")
            << describe(roots.front())
            << ": its blocks' slices are laid out by a size that differs "
               "between blocks (blocks run at their own pace), so the "
               "slices of two blocks may overlap";
        if (Operation *def = size.getDefiningOp())
          diagnostic.attachNote(def->getLoc()) << "the size";
        return WalkResult::interrupt();
      }
    return WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}

/// Sorts the views (memref.view) of each buffer into classes of
/// overlapping byte ranges, where every view of the buffer is of a static
/// shape at one uniform base (none for dynamic shared memory, the block's
/// slot for a global arena) plus a constant; fails at a use of dynamic
/// shared memory it cannot bound. Other buffers stay whole.
LogicalResult KernelRaceChecker::classifyViews() {
  // Dynamic shared memory: only bounded views, all of one buffer.
  WalkResult result = kernel.walk([&](gpu::DynamicSharedMemoryOp shared) {
    if (!dynamicShared)
      dynamicShared = shared.getResult();
    for (OpOperand &use : shared->getUses()) {
      auto view = dyn_cast<memref::ViewOp>(use.getOwner());
      if (!view || use.getOperandNumber() != 0 ||
          !constantOf(view.getByteShift()) ||
          !view.getType().hasStaticShape()) {
        use.getOwner()->emitError(
            "cannot prove this kernel race-free: dynamic shared memory is "
            "used other than through a view of a static shape at a constant "
            "byte offset, so its buffers cannot be told apart");
        return WalkResult::interrupt();
      }
    }
    return WalkResult::advance();
  });
  if (result.wasInterrupted())
    return failure();

  struct Range {
    Operation *view;
    Value result;
    MemRefType type;
    int64_t begin, end;
    unsigned order;
  };
  llvm::MapVector<Value, SmallVector<Range>> byRoot;
  DenseMap<Value, Value> baseOf;
  DenseSet<Value> whole;
  // Buffers two kernel arguments may both view are left whole.
  for (auto [argument, first] : aliases) {
    whole.insert(argument);
    whole.insert(first);
  }
  kernel.walk([&](memref::ViewOp view) {
    SmallVector<Value> roots;
    collectRoots(view.getSource(), roots);
    for (Value &root : roots)
      if (root.getDefiningOp<gpu::DynamicSharedMemoryOp>())
        root = dynamicShared;
    if (roots.size() != 1) {
      whole.insert(roots.begin(), roots.end());
      return;
    }
    Value root = roots.front();
    // The byte shift as base + constant.
    Value base;
    int64_t constant = 0;
    Value shift = view.getByteShift();
    if (std::optional<int64_t> known = constantOf(shift)) {
      constant = *known;
    } else if (auto add = shift.getDefiningOp<arith::AddIOp>()) {
      if (std::optional<int64_t> rhs = constantOf(add.getRhs())) {
        base = add.getLhs();
        constant = *rhs;
      } else if (std::optional<int64_t> lhs = constantOf(add.getLhs())) {
        base = add.getRhs();
        constant = *lhs;
      }
    }
    if (!base && !constantOf(shift))
      base = shift;
    // A base is the same in every thread and, computed at the kernel's top
    // level, in every iteration of every loop.
    bool bounded =
        view.getType().hasStaticShape() &&
        (!base || (uniformity.isUniform(base) &&
                   base.getParentBlock() == &kernel.getBody().front()));
    auto [known, inserted] = baseOf.try_emplace(root, base);
    if (!bounded || known->second != base) {
      whole.insert(root);
      return;
    }
    MemRefType type = view.getType();
    int64_t bytes = type.getNumElements() *
                    llvm::divideCeil(type.getElementTypeBitWidth(), 8);
    byRoot[root].push_back({view, view.getResult(), type, constant,
                            constant + bytes,
                            static_cast<unsigned>(byRoot[root].size())});
  });

  for (auto &[root, ranges] : byRoot) {
    if (whole.contains(root))
      continue;
    // In order of their start: a view overlapping the class's reach so far
    // joins it (an empty view touches nothing and joins nothing).
    llvm::sort(ranges, [](const Range &x, const Range &y) {
      return std::tie(x.begin, x.order) < std::tie(y.begin, y.order);
    });
    Value leader;
    int64_t reach = 0;
    for (const Range &range : ranges) {
      if (!leader || range.begin >= reach) {
        leader = range.result;
        reach = range.begin;
        viewRange[leader] = {range.begin, range.end};
        viewedBuffer[leader] = root;
        classesOf[root].push_back(leader);
      }
      reach = std::max(reach, range.end);
      viewRange[leader].second = reach;
      viewClass[range.view] = leader;
    }
    for (const Range &range : ranges)
      for (const Range &other : ranges)
        if (other.begin == range.begin && other.type == range.type) {
          identicalView[range.result] = other.result;
          break;
        }
  }
  return success();
}

/// The buffers `value` may view, as collectRoots, except that a view of a
/// buffer told apart by its views is its class's leader, and an access to
/// such a buffer other than through those views is an access of every
/// class.
void KernelRaceChecker::rootsOf(Value value,
                                SmallVectorImpl<Value> &roots) const {
  auto add = [&](Value root) {
    if (!llvm::is_contained(roots, root))
      roots.push_back(root);
  };
  while (Operation *def = value.getDefiningOp()) {
    if (auto select = dyn_cast<arith::SelectOp>(def)) {
      rootsOf(select.getTrueValue(), roots);
      rootsOf(select.getFalseValue(), roots);
      return;
    }
    if (Value leader = viewClass.lookup(def)) {
      add(leader);
      return;
    }
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view)
      break;
    value = view.getViewSource();
  }
  if (value.getDefiningOp<gpu::DynamicSharedMemoryOp>())
    value = dynamicShared;
  auto classes = classesOf.find(value);
  if (classes == classesOf.end()) {
    add(value);
    return;
  }
  for (Value leader : classes->second)
    add(leader);
}

/// `memref`, or for a view of dynamic shared memory the first view of the
/// same offset and type: indices into either mean the same elements.
Value KernelRaceChecker::sameBuffer(Value memref) const {
  return identicalView.lookup_or(memref, memref);
}

LogicalResult KernelRaceChecker::check() {
  if (failed(checkSharedViews()) || failed(classifyViews()))
    return failure();
  unsigned first = nextInterval++;
  intervals.insert(first);
  walkBlock(kernel.getBody().front(), first);
  if (failedCollect)
    return failure();
  // Per buffer, per interval: every pair with a write.
  std::map<std::pair<const void *, unsigned>, SmallVector<const Access *>>
      groups;
  for (const Access &access : accesses)
    for (Value root : access.roots)
      groups[{root.getAsOpaquePointer(),
              intervals.getLeaderValue(access.interval)}]
          .push_back(&access);
  for (auto &[where, list] : groups)
    for (size_t i = 0; i < list.size(); ++i)
      for (size_t j = i; j < list.size(); ++j)
        if ((list[i]->write || list[j]->write) &&
            failed(checkPair(*list[i], *list[j],
                             Value::getFromOpaquePointer(where.first))))
          return failure();
  return success();
}

struct CheckRacesPass : nl::impl::NLCUDACheckRacesBase<CheckRacesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    KernelLaunches launches = collectLaunches(module);
    for (auto gpuModule : module.getOps<gpu::GPUModuleOp>())
      for (auto kernel : gpuModule.getOps<gpu::GPUFuncOp>()) {
        if (!kernel.isKernel())
          continue;
        ArrayRef<SmallVector<Value>> all = launchesOf(launches, kernel);
        KernelUniformity uniformity(kernel, findReadOnlyArguments(kernel, all));
        if (failed(verifyBarrierPlacement(kernel, uniformity)))
          return signalPassFailure();
        // A kernel several sites launch (the layers of a model share
        // kernels: nl-cuda-merge-identical-kernels) is race-free when it is
        // under each launch's arguments: one proof per launch, which can
        // relate a size to the launch's grid as for a kernel launched once.
        if (all.size() <= 1) {
          if (failed(check(kernel, all)))
            return signalPassFailure();
          continue;
        }
        for (const SmallVector<Value> &operands : all)
          if (failed(check(kernel, ArrayRef<SmallVector<Value>>(operands))))
            return signalPassFailure();
      }
  }

  /// The race check of `kernel` under the given launches' arguments.
  static LogicalResult check(gpu::GPUFuncOp kernel,
                             ArrayRef<SmallVector<Value>> operands) {
    KernelUniformity uniformity(kernel,
                                findReadOnlyArguments(kernel, operands));
    KernelRaceChecker checker(kernel, uniformity, operands);
    findAliases(kernel, operands, checker.aliases);
    return checker.check();
  }

  /// Memref arguments that a launch passes views of one buffer.
  static void findAliases(gpu::GPUFuncOp kernel,
                          ArrayRef<SmallVector<Value>> launches,
                          DenseMap<Value, Value> &aliases) {
    for (const SmallVector<Value> &operands : launches) {
      DenseMap<Value, unsigned> seen;
      for (auto [index, operand] : llvm::enumerate(operands)) {
        if (!isa<MemRefType>(operand.getType()) ||
            index >= kernel.getNumArguments())
          continue;
        SmallVector<Value> roots;
        collectRoots(operand, roots);
        for (Value root : roots) {
          auto [it, inserted] = seen.try_emplace(root, index);
          if (!inserted && it->second != index)
            aliases[kernel.getArgument(index)] =
                kernel.getArgument(it->second);
        }
      }
    }
  }
};

} // namespace
