//===- KernelCosts.cpp - nl-cuda-kernel-costs -----------------------------===//
//
// Each gpu.launch's grid, FLOPs and bytes of global memory as formulas of
// the entry point's dynamic sizes (InspectPasses.td says what is counted
// and which approximations are made). The launch body is read as what its
// threads run: a running "multiplicity" says how many thread instances of
// the whole grid execute an op, and each float op adds multiplicity x its
// FLOPs.
//
//===----------------------------------------------------------------------===//

#include "Formula.h"
#include "nl/Codegen/CUDA/InspectPasses.h"
#include "nl/Codegen/Passes.h"
#include "nl/IR/NLDialect.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/JSON.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLCUDAKERNELCOSTS
#include "nl/Codegen/CUDA/InspectPasses.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;
using cuda::Formula;

namespace {

constexpr StringLiteral kThreadVar = "tid.x";
constexpr StringLiteral kBlockVars[] = {"bid.x", "bid.y", "bid.z"};

/// The FLOPs of one execution of `op`: arith/math ops on floats, per
/// element.
int64_t flopsOf(Operation *op) {
  StringRef dialect = op->getDialect() ? op->getDialect()->getNamespace() : "";
  if (dialect != "arith" && dialect != "math")
    return 0;
  if (isa<arith::ConstantOp, arith::SelectOp, arith::ExtFOp, arith::TruncFOp,
          arith::SIToFPOp, arith::UIToFPOp, arith::FPToSIOp, arith::FPToUIOp,
          arith::BitcastOp>(op))
    return 0;
  Type type;
  if (isa<arith::CmpFOp>(op))
    type = op->getOperand(0).getType();
  else if (op->getNumResults() == 1)
    type = op->getResult(0).getType();
  if (!type || !isa<FloatType>(getElementTypeOrSelf(type)))
    return 0;
  int64_t elements = 1;
  if (auto shaped = dyn_cast<ShapedType>(type))
    elements = shaped.hasStaticShape() ? shaped.getNumElements() : 1;
  return (isa<math::FmaOp>(op) ? 2 : 1) * elements;
}

/// The buffers `value` may be a view of (both sides of a select).
void rootBuffers(Value value, llvm::SetVector<Value> &roots) {
  while (Operation *def = value.getDefiningOp()) {
    if (auto select = dyn_cast<arith::SelectOp>(def)) {
      rootBuffers(select.getTrueValue(), roots);
      rootBuffers(select.getFalseValue(), roots);
      return;
    }
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view)
      break;
    value = view.getViewSource();
  }
  roots.insert(value);
}

/// Whether a buffer of `type` lives in global memory.
bool isGlobal(MemRefType type) {
  auto space = dyn_cast_or_null<gpu::AddressSpaceAttr>(type.getMemorySpace());
  return !space || space.getValue() == gpu::AddressSpace::Global;
}

/// What one launch costs.
struct Costs {
  Formula flops;
  llvm::SetVector<Value> read, written;
};

/// Formulas of the index values of one function.
class CostAnalysis {
public:
  /// `entry`: the entry point whose call runs `function` (itself, or the
  /// entry point whose precondition check it is); `shapes` its inputs.
  CostAnalysis(func::FuncOp function, StringRef entry,
               const llvm::json::Array *shapes)
      : function(function), entry(entry), shapes(shapes) {}

  /// The costs of `launch` as a dictionary, or failure after a warning.
  FailureOr<DictionaryAttr> analyse(gpu::LaunchOp launch);

private:
  FailureOr<Formula> eval(Value value);
  FailureOr<Formula> evalOp(Operation *op, Value value);
  FailureOr<Formula> dimOf(Value buffer, int64_t dim);
  FailureOr<Formula> evalAffine(AffineExpr expr, ValueRange operands,
                                unsigned numDims, Value value);
  FailureOr<Formula> bytesOf(Value buffer);
  LogicalResult walk(Block &block, const Formula &multiplicity, Costs &costs);
  LogicalResult walkFor(scf::ForOp loop, const Formula &multiplicity,
                        Costs &costs);
  LogicalResult walkIf(scf::IfOp branch, const Formula &multiplicity,
                       Costs &costs);
  /// Fails with a warning naming `value` (the first one unknown wins).
  LogicalResult unknown(Value value, const Twine &why) {
    return unknownAt(value.getLoc(), why);
  }
  LogicalResult unknownAt(Location loc, const Twine &why) {
    if (!reason.empty())
      return failure();
    reason = why.str();
    reasonLoc = loc;
    return failure();
  }
  std::string varFor(Value iv) {
    std::string &name = varNames[iv];
    if (name.empty())
      name = "i" + std::to_string(varNames.size());
    return name;
  }

  func::FuncOp function;
  std::string entry;
  const llvm::json::Array *shapes;
  DenseMap<Value, Formula> known;
  DenseMap<Value, std::string> varNames;
  int64_t threads = 0;
  Formula gridX;
  std::string reason;
  std::optional<Location> reasonLoc;
};

FailureOr<Formula> CostAnalysis::eval(Value value) {
  auto it = known.find(value);
  if (it != known.end())
    return it->second;
  FailureOr<Formula> result = failure();
  if (auto argument = dyn_cast<BlockArgument>(value)) {
    Operation *owner = argument.getOwner()->getParentOp();
    if (auto loop = dyn_cast<scf::ForOp>(owner);
        loop && argument == loop.getInductionVar())
      result = Formula::var(varFor(value));
    else
      return unknown(value, "a block argument that is not a loop variable");
  } else {
    result = evalOp(value.getDefiningOp(), value);
  }
  if (succeeded(result))
    known.try_emplace(value, *result);
  return result;
}

FailureOr<Formula> CostAnalysis::evalOp(Operation *op, Value value) {
  APInt constant;
  if (auto c = dyn_cast<arith::ConstantOp>(op)) {
    if (auto integer = dyn_cast<IntegerAttr>(c.getValue()))
      return Formula(static_cast<double>(integer.getInt()));
    return unknown(value, "a constant that is not an integer");
  }
  if (isa<arith::IndexCastOp, arith::IndexCastUIOp, arith::ExtSIOp,
          arith::ExtUIOp, arith::TruncIOp>(op))
    return eval(op->getOperand(0));
  // A streamed position (an integer scalar the kernel reads from its
  // buffer) counts as 0: the call starts at a chunk boundary, as every
  // chunk counts as full.
  if (auto load = dyn_cast<memref::LoadOp>(op);
      load && load.getMemRefType().getRank() == 0 &&
      isa<IntegerType>(load.getType()))
    return Formula(0.0);
  if (auto dim = dyn_cast<memref::DimOp>(op)) {
    std::optional<int64_t> index = dim.getConstantIndex();
    if (!index)
      return unknown(value, "a memref.dim of a dimension that is not constant");
    return dimOf(dim.getSource(), *index);
  }
  if (auto apply = dyn_cast<affine::AffineApplyOp>(op))
    return evalAffine(apply.getAffineMap().getResult(0),
                      apply.getMapOperands(),
                      apply.getAffineMap().getNumDims(), value);
  if (isa<affine::AffineMinOp, affine::AffineMaxOp>(op)) {
    bool isMin = isa<affine::AffineMinOp>(op);
    AffineMap map = isMin ? cast<affine::AffineMinOp>(op).getAffineMap()
                          : cast<affine::AffineMaxOp>(op).getAffineMap();
    std::optional<Formula> result;
    for (AffineExpr expr : map.getResults()) {
      FailureOr<Formula> term =
          evalAffine(expr, op->getOperands(), map.getNumDims(), value);
      if (failed(term))
        return failure();
      result = !result ? *term
               : isMin ? Formula::min(*result, *term, /*assumeVarSide=*/true)
                       : Formula::max(*result, *term);
    }
    if (!result)
      return unknown(value, "an empty affine min/max");
    return *result;
  }
  if (op->getNumOperands() != 2)
    return unknown(value, "an index computed by '" +
                              op->getName().getStringRef() + "'");
  FailureOr<Formula> a = eval(op->getOperand(0));
  if (failed(a))
    return failure();
  FailureOr<Formula> b = eval(op->getOperand(1));
  if (failed(b))
    return failure();
  if (isa<arith::AddIOp>(op))
    return *a + *b;
  if (isa<arith::SubIOp>(op))
    return *a - *b;
  if (isa<arith::MulIOp>(op))
    return *a * *b;
  if (isa<arith::CeilDivUIOp, arith::CeilDivSIOp>(op))
    return Formula::ceilDiv(*a, *b);
  if (isa<arith::DivUIOp, arith::DivSIOp, arith::FloorDivSIOp>(op))
    return Formula::floorDiv(*a, *b);
  if (isa<arith::MaxUIOp, arith::MaxSIOp>(op))
    return Formula::max(*a, *b);
  if (isa<arith::MinUIOp, arith::MinSIOp>(op))
    return Formula::min(*a, *b, /*assumeVarSide=*/true);
  return unknown(value, "an index computed by '" +
                            op->getName().getStringRef() + "'");
}

FailureOr<Formula> CostAnalysis::evalAffine(AffineExpr expr,
                                            ValueRange operands,
                                            unsigned numDims, Value value) {
  if (auto constant = dyn_cast<AffineConstantExpr>(expr))
    return Formula(static_cast<double>(constant.getValue()));
  if (auto dim = dyn_cast<AffineDimExpr>(expr))
    return eval(operands[dim.getPosition()]);
  if (auto symbol = dyn_cast<AffineSymbolExpr>(expr))
    return eval(operands[numDims + symbol.getPosition()]);
  auto binary = cast<AffineBinaryOpExpr>(expr);
  FailureOr<Formula> a = evalAffine(binary.getLHS(), operands, numDims, value);
  if (failed(a))
    return failure();
  FailureOr<Formula> b = evalAffine(binary.getRHS(), operands, numDims, value);
  if (failed(b))
    return failure();
  switch (binary.getKind()) {
  case AffineExprKind::Add:
    return *a + *b;
  case AffineExprKind::Mul:
    return *a * *b;
  case AffineExprKind::FloorDiv:
    return Formula::floorDiv(*a, *b);
  case AffineExprKind::CeilDiv:
    return Formula::ceilDiv(*a, *b);
  case AffineExprKind::Mod:
    return *a - *b * Formula::floorDiv(*a, *b);
  default:
    return unknown(value, "an affine expression it does not know");
  }
}

FailureOr<Formula> CostAnalysis::dimOf(Value buffer, int64_t dim) {
  auto type = cast<MemRefType>(buffer.getType());
  if (!type.isDynamicDim(dim))
    return Formula(static_cast<double>(type.getDimSize(dim)));
  // The dynamic size operands before `dim`.
  auto dynamicIndex = [&](MemRefType of) {
    int64_t index = 0;
    for (int64_t d = 0; d < dim; ++d)
      index += of.isDynamicDim(d);
    return index;
  };
  if (auto argument = dyn_cast<BlockArgument>(buffer)) {
    if (argument.getOwner()->getParentOp() != function || !shapes ||
        argument.getArgNumber() >= shapes->size())
      return unknown(buffer, "the size of a buffer that is not an argument "
                             "of the entry point");
    const llvm::json::Object *input =
        (*shapes)[argument.getArgNumber()].getAsObject();
    const llvm::json::Array *shape = input ? input->getArray("shape") : nullptr;
    if (!shape || dim >= static_cast<int64_t>(shape->size()))
      return unknown(buffer, "an argument whose manifest shape is missing");
    if (std::optional<StringRef> name = (*shape)[dim].getAsString())
      return Formula::size(*name);
    if (std::optional<int64_t> size = (*shape)[dim].getAsInteger())
      return Formula(static_cast<double>(*size));
    return unknown(buffer, "an argument whose manifest shape is malformed");
  }
  Operation *def = buffer.getDefiningOp();
  if (auto alloc = dyn_cast<memref::AllocOp>(def))
    return eval(alloc.getDynamicSizes()[dynamicIndex(type)]);
  if (auto alloca = dyn_cast<memref::AllocaOp>(def))
    return eval(alloca.getDynamicSizes()[dynamicIndex(type)]);
  if (auto view = dyn_cast<memref::ViewOp>(def))
    return eval(view.getSizes()[dynamicIndex(type)]);
  if (auto cast = dyn_cast<memref::CastOp>(def))
    return dimOf(cast.getSource(), dim);
  if (auto select = dyn_cast<arith::SelectOp>(def))
    return dimOf(select.getTrueValue(), dim);
  if (auto subview = dyn_cast<memref::SubViewOp>(def)) {
    llvm::SmallBitVector dropped = subview.getDroppedDims();
    SmallVector<OpFoldResult> sizes = subview.getMixedSizes();
    int64_t kept = -1;
    for (int64_t d = 0; d < static_cast<int64_t>(sizes.size()); ++d) {
      if (dropped.test(d) || ++kept != dim)
        continue;
      if (auto attr = dyn_cast<Attribute>(sizes[d]))
        return Formula(static_cast<double>(cast<IntegerAttr>(attr).getInt()));
      return eval(cast<Value>(sizes[d]));
    }
  }
  if (auto reinterpret = dyn_cast<memref::ReinterpretCastOp>(def)) {
    OpFoldResult size = reinterpret.getMixedSizes()[dim];
    if (auto attr = dyn_cast<Attribute>(size))
      return Formula(static_cast<double>(cast<IntegerAttr>(attr).getInt()));
    return eval(cast<Value>(size));
  }
  if (auto expand = dyn_cast<memref::ExpandShapeOp>(def)) {
    OpFoldResult size = expand.getMixedOutputShape()[dim];
    if (auto attr = dyn_cast<Attribute>(size))
      return Formula(static_cast<double>(cast<IntegerAttr>(attr).getInt()));
    return eval(cast<Value>(size));
  }
  if (auto collapse = dyn_cast<memref::CollapseShapeOp>(def)) {
    Formula product(1);
    for (int64_t source : collapse.getReassociationIndices()[dim]) {
      FailureOr<Formula> size = dimOf(collapse.getSrc(), source);
      if (failed(size))
        return failure();
      product = product * *size;
    }
    return product;
  }
  return unknown(buffer, "the size of a buffer made by '" +
                             def->getName().getStringRef() + "'");
}

FailureOr<Formula> CostAnalysis::bytesOf(Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  Type element = type.getElementType();
  int64_t width = element.isIndex() ? 64 : element.getIntOrFloatBitWidth();
  Formula bytes(static_cast<double>((width + 7) / 8));
  for (int64_t d = 0; d < type.getRank(); ++d) {
    FailureOr<Formula> size = dimOf(buffer, d);
    if (failed(size))
      return failure();
    bytes = bytes * *size;
  }
  return bytes;
}

LogicalResult CostAnalysis::walkFor(scf::ForOp loop,
                                    const Formula &multiplicity,
                                    Costs &costs) {
  FailureOr<Formula> lb = eval(loop.getLowerBound());
  FailureOr<Formula> ub = eval(loop.getUpperBound());
  FailureOr<Formula> step = eval(loop.getStep());
  if (failed(lb) || failed(ub) || failed(step))
    return failure();
  Formula inner, average;
  Formula tid = Formula::var(kThreadVar);
  Formula start = *lb - tid;
  if (step->isConstant() && step->constant() == threads &&
      lb->mentionsVar(kThreadVar) && !start.mentionsVar(kThreadVar)) {
    // A block-stride loop: the block's threads share ub - start iterations.
    inner = (multiplicity * (*ub - start)).divided(threads);
    average = (start + *ub - Formula(1)).divided(2);
  } else {
    inner = multiplicity * Formula::ceilDiv(*ub - *lb, *step);
    average = (*lb + *ub - *step).divided(2);
  }
  Costs body;
  if (failed(walk(*loop.getBody(), inner, body)))
    return failure();
  // Counts that depend on the loop variable: their mean over the iterations.
  std::string var = varFor(loop.getInductionVar());
  costs.flops = costs.flops + body.flops.substitute(var, average);
  costs.read.insert_range(body.read);
  costs.written.insert_range(body.written);
  return success();
}

LogicalResult CostAnalysis::walkIf(scf::IfOp branch,
                                   const Formula &multiplicity, Costs &costs) {
  Formula taken = multiplicity;
  if (auto compare = branch.getCondition().getDefiningOp<arith::CmpIOp>()) {
    FailureOr<Formula> lhs = eval(compare.getLhs());
    FailureOr<Formula> rhs = eval(compare.getRhs());
    if (failed(lhs) || failed(rhs))
      return failure();
    using Pred = arith::CmpIPredicate;
    Formula linear = Formula::var(kBlockVars[0]) * Formula(threads) +
                     Formula::var(kThreadVar);
    if (compare.getPredicate() == Pred::eq &&
        ((lhs->isVar(kThreadVar) && rhs->isConstant() &&
          rhs->constant() == 0) ||
         (rhs->isVar(kThreadVar) && lhs->isConstant() &&
          lhs->constant() == 0))) {
      // Thread 0 of each block.
      taken = multiplicity.divided(threads);
    } else if ((compare.getPredicate() == Pred::ult ||
                compare.getPredicate() == Pred::slt) &&
               (*lhs - linear).isConstant() && (*lhs - linear).constant() == 0) {
      // block * threads + thread < N: N of the grid's x threads pass.
      if (std::optional<Formula> rest =
              multiplicity.divideExactly(gridX * Formula(threads)))
        taken = *rest * *rhs;
    }
  }
  if (failed(walk(branch.getThenRegion().front(), taken, costs)))
    return failure();
  if (!branch.getElseRegion().empty())
    return walk(branch.getElseRegion().front(), multiplicity, costs);
  return success();
}

LogicalResult CostAnalysis::walk(Block &block, const Formula &multiplicity,
                                 Costs &costs) {
  for (Operation &op : block) {
    if (auto loop = dyn_cast<scf::ForOp>(op)) {
      if (failed(walkFor(loop, multiplicity, costs)))
        return failure();
      continue;
    }
    if (auto branch = dyn_cast<scf::IfOp>(op)) {
      if (failed(walkIf(branch, multiplicity, costs)))
        return failure();
      continue;
    }
    if (isa<LoopLikeOpInterface>(op))
      return unknownAt(op.getLoc(), "a loop other than scf.for ('" +
                                        op.getName().getStringRef() + "')");
    if (int64_t flops = flopsOf(&op))
      costs.flops = costs.flops + multiplicity.scaled(flops);
    if (auto effects = dyn_cast<MemoryEffectOpInterface>(op)) {
      SmallVector<MemoryEffects::EffectInstance> instances;
      effects.getEffects(instances);
      for (const MemoryEffects::EffectInstance &effect : instances) {
        Value buffer = effect.getValue();
        if (!buffer || !isa<MemRefType>(buffer.getType()))
          continue;
        bool reads = isa<MemoryEffects::Read>(effect.getEffect());
        bool writes = isa<MemoryEffects::Write>(effect.getEffect());
        if (!reads && !writes)
          continue;
        llvm::SetVector<Value> roots;
        rootBuffers(buffer, roots);
        (reads ? costs.read : costs.written).insert_range(roots);
      }
    }
    for (Region &region : op.getRegions())
      for (Block &inner : region)
        if (failed(walk(inner, multiplicity, costs)))
          return failure();
  }
  return success();
}

FailureOr<DictionaryAttr> CostAnalysis::analyse(gpu::LaunchOp launch) {
  Builder b(launch.getContext());
  reason.clear();
  reasonLoc.reset();
  auto fail = [&]() -> FailureOr<DictionaryAttr> {
    InFlightDiagnostic warning = launch.emitWarning();
    warning << "no costs for kernel '" << launch.getFunction().value_or("")
            << "': cannot express " << reason;
    warning.attachNote(reasonLoc.value_or(launch.getLoc())) << "here";
    return failure();
  };

  gpu::KernelDim3 gridOperands = launch.getGridSizeOperandValues();
  gpu::KernelDim3 blockOperands = launch.getBlockSizeOperandValues();
  SmallVector<Formula> grid, block;
  for (Value size : {gridOperands.x, gridOperands.y, gridOperands.z}) {
    FailureOr<Formula> formula = eval(size);
    if (failed(formula))
      return fail();
    grid.push_back(*formula);
  }
  for (Value size : {blockOperands.x, blockOperands.y, blockOperands.z}) {
    FailureOr<Formula> formula = eval(size);
    if (failed(formula) || !formula->isConstant()) {
      if (succeeded(formula))
        (void)unknown(size, "a block size that is not constant");
      return fail();
    }
    block.push_back(*formula);
  }
  threads = static_cast<int64_t>(block[0].constant() * block[1].constant() *
                                 block[2].constant());
  gridX = grid[0];

  // The body's own values: ids and sizes of the launch.
  gpu::KernelDim3 blockIds = launch.getBlockIds();
  gpu::KernelDim3 threadIds = launch.getThreadIds();
  gpu::KernelDim3 gridArgs = launch.getGridSize();
  gpu::KernelDim3 blockArgs = launch.getBlockSize();
  Value ids[] = {blockIds.x, blockIds.y, blockIds.z};
  Value gridValues[] = {gridArgs.x, gridArgs.y, gridArgs.z};
  Value blockValues[] = {blockArgs.x, blockArgs.y, blockArgs.z};
  for (int d = 0; d < 3; ++d) {
    known[ids[d]] = Formula::var(kBlockVars[d]);
    known[gridValues[d]] = grid[d];
    known[blockValues[d]] = block[d];
  }
  known[threadIds.x] = Formula::var(kThreadVar);
  if (threads != block[0].constant()) {
    (void)unknown(launch.getBlockSizeY(), "a block of more than one "
                                          "dimension");
    return fail();
  }

  Costs costs;
  Formula everyThread = grid[0] * grid[1] * grid[2] * Formula(threads);
  if (failed(walk(launch.getBody().front(), everyThread, costs)))
    return fail();
  // What still depends on a thread or block: its mean over them.
  Formula flops =
      costs.flops.substitute(kThreadVar, Formula(threads - 1).divided(2));
  for (int d = 0; d < 3; ++d)
    flops = flops.substitute(kBlockVars[d], (grid[d] - Formula(1)).divided(2));

  auto sumBytes = [&](const llvm::SetVector<Value> &buffers)
      -> FailureOr<Formula> {
    Formula total;
    for (Value buffer : buffers) {
      // Workgroup and private memory (allocated in the kernel) are on chip.
      if (launch->isAncestor(buffer.getParentBlock()->getParentOp()) &&
          buffer.getDefiningOp())
        continue;
      auto type = dyn_cast<MemRefType>(buffer.getType());
      if (!type || !isGlobal(type))
        continue;
      FailureOr<Formula> bytes = bytesOf(buffer);
      if (failed(bytes))
        return failure();
      total = total + *bytes;
    }
    return total;
  };
  FailureOr<Formula> read = sumBytes(costs.read);
  FailureOr<Formula> written = sumBytes(costs.written);
  if (failed(read) || failed(written))
    return fail();
  for (const Formula &formula : {flops, *read, *written})
    if (formula.mentionsVar()) {
      reason = "a count that depends on a loop variable outside its loop: " +
               formula.str();
      return fail();
    }

  SmallVector<Attribute> gridAttrs = llvm::map_to_vector(
      grid, [&](const Formula &f) { return f.toAttr(b); });
  SmallVector<Attribute> blockAttrs = llvm::map_to_vector(
      block, [&](const Formula &f) { return f.toAttr(b); });
  return b.getDictionaryAttr(
      {b.getNamedAttr("entry_point", b.getStringAttr(entry)),
       b.getNamedAttr("grid", b.getArrayAttr(gridAttrs)),
       b.getNamedAttr("flops", flops.toAttr(b)),
       b.getNamedAttr("bytes_read", read->toAttr(b)),
       b.getNamedAttr("bytes_written", written->toAttr(b))});
}

struct KernelCostsPass : nl::impl::NLCUDAKernelCostsBase<KernelCostsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    Builder b(&getContext());
    auto manifest =
        module->getAttrOfType<StringAttr>(NLDialect::getManifestAttrName());
    if (!manifest) {
      module.emitError("no nl.manifest: the kernels' sizes are named after "
                       "the entry points' (run nl-prepare-entry-points "
                       "first)");
      return signalPassFailure();
    }
    llvm::Expected<llvm::json::Value> parsed =
        llvm::json::parse(manifest.getValue());
    if (!parsed) {
      llvm::consumeError(parsed.takeError());
      module.emitError("nl.manifest is not valid JSON");
      return signalPassFailure();
    }
    const llvm::json::Array *entries =
        parsed->getAsObject() ? parsed->getAsObject()->getArray("entry_points")
                              : nullptr;

    NamedAttrList costs;
    for (auto function : module.getOps<func::FuncOp>()) {
      // A precondition check (nl-outline-preconditions) takes its entry
      // point's arguments and runs in its calls.
      StringRef entryName = function.getName();
      std::string suffix = getPreconditionCheckName("");
      if (entryName.ends_with(suffix))
        entryName = entryName.drop_back(suffix.size());
      const llvm::json::Array *shapes = nullptr;
      if (entries)
        for (const llvm::json::Value &entry : *entries)
          if (const llvm::json::Object *object = entry.getAsObject())
            if (object->getString("name") == entryName)
              shapes = object->getArray("inputs");
      CostAnalysis analysis(function, entryName, shapes);
      function.walk([&](gpu::LaunchOp launch) {
        std::optional<StringRef> name = launch.getFunction();
        if (!name)
          return;
        FailureOr<DictionaryAttr> facts = analysis.analyse(launch);
        if (succeeded(facts))
          costs.set(*name, *facts);
      });
    }

    NamedAttrList fields;
    if (auto existing = module->getAttrOfType<DictionaryAttr>(
            NLDialect::getManifestFieldsAttrName()))
      fields.append(existing.getValue());
    fields.set("kernel_costs", costs.getDictionary(&getContext()));
    module->setAttr(NLDialect::getManifestFieldsAttrName(),
                    fields.getDictionary(&getContext()));
  }
};

} // namespace
