//===- Differentiate.cpp - nl-differentiate --------------------------------===//
//
// Emits @<name>_vjp for every function named: a copy of the function (its
// forward sweep), then the reverse sweep (Differentiate.h) seeded with one
// cotangent per float result, returning the results and the adjoints of the
// float arguments. docs/training.md describes the design.
//
//===----------------------------------------------------------------------===//

#include "Differentiate.h"
#include "nl/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLDIFFERENTIATE
#include "nl/Transforms/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;
using namespace mlir::nl::autodiff;

namespace {

constexpr llvm::StringLiteral kArgumentRoles[] = {"nl.input", "nl.weight",
                                                  "nl.state"};
constexpr llvm::StringLiteral kResultRoles[] = {"nl.output", "nl.state"};

/// The name a role attribute gives argument or result `attrs`, if any.
std::optional<std::string> roleName(DictionaryAttr attrs,
                                    ArrayRef<llvm::StringLiteral> roles) {
  if (!attrs)
    return std::nullopt;
  for (StringRef role : roles)
    if (auto name = attrs.getAs<StringAttr>(role))
      return name.str();
  return std::nullopt;
}

/// Rewrites every named linalg op of `function` into a linalg.generic: the
/// one form the adjoint rule knows.
LogicalResult generalizeNamedOps(func::FuncOp function) {
  SmallVector<linalg::LinalgOp> named;
  function.walk([&](linalg::LinalgOp op) {
    if (!isa<linalg::GenericOp, linalg::FillOp>(op.getOperation()))
      named.push_back(op);
  });
  IRRewriter rewriter(function.getContext());
  for (linalg::LinalgOp op : named) {
    rewriter.setInsertionPoint(op);
    if (failed(linalg::generalizeNamedOp(rewriter, op)))
      return op.emitError("nl-differentiate: '")
             << op->getName() << "' cannot be generalised to a linalg.generic";
  }
  return success();
}

struct DifferentiatePass
    : nl::impl::NLDifferentiateBase<DifferentiatePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (functions.empty()) {
      module.emitError("nl-differentiate: name the functions to "
                       "differentiate with functions=NAME[,NAME...]");
      return signalPassFailure();
    }
    SymbolTable symbols(module);
    for (const std::string &name : functions) {
      auto function = symbols.lookup<func::FuncOp>(name);
      if (!function || function.isExternal()) {
        module.emitError("nl-differentiate: no function with a body named '")
            << name << "'";
        return signalPassFailure();
      }
      if (failed(differentiate(function, symbols)))
        return signalPassFailure();
    }
  }

  LogicalResult differentiate(func::FuncOp original, SymbolTable &symbols) {
    if (!original.getBody().hasOneBlock())
      return original.emitError("nl-differentiate: '")
             << original.getName()
             << "' has more than one block; only structured control flow "
                "(scf) is differentiated";
    std::string vjpName = (original.getName() + "_vjp").str();
    if (symbols.lookup(vjpName))
      return original.emitError("nl-differentiate: '")
             << vjpName << "' exists already";
    func::FuncOp vjp = original.clone();
    vjp.setName(vjpName);
    vjp.setPublic();
    symbols.insert(vjp, Block::iterator(original->getNextNode()));
    if (failed(generalizeNamedOps(vjp)))
      return failure();

    Block &block = vjp.getBody().front();
    auto ret = cast<func::ReturnOp>(block.getTerminator());
    Location loc = ret.getLoc();
    FunctionType type = vjp.getFunctionType();

    // One cotangent argument per float result.
    SmallVector<unsigned> floatResults;
    for (auto [index, resultType] : llvm::enumerate(type.getResults()))
      if (isDifferentiable(resultType))
        floatResults.push_back(index);
    SmallVector<Value> cotangents;
    for (unsigned index : floatResults) {
      (void)vjp.insertArgument(vjp.getNumArguments(),
                               type.getResults()[index], DictionaryAttr(),
                               loc);
      cotangents.push_back(block.getArguments().back());
    }

    SmallVector<Operation *> ops;
    for (Operation &op : block.without_terminator())
      ops.push_back(&op);
    OpBuilder builder(ret);
    ReverseSweep sweep(builder);
    for (auto [index, cotangent] : llvm::zip(floatResults, cotangents))
      sweep.accumulate(ret.getOperand(index), cotangent);
    if (failed(sweep.run(ops)))
      return failure();

    // Results, then the adjoint of each float argument.
    SmallVector<Value> returned(ret.getOperands());
    SmallVector<unsigned> floatArguments;
    for (unsigned index = 0; index < type.getNumInputs(); ++index) {
      BlockArgument argument = block.getArgument(index);
      if (!isDifferentiable(argument.getType()))
        continue;
      floatArguments.push_back(index);
      returned.push_back(sweep.getOrZeros(loc, argument));
      (void)vjp.insertResult(vjp.getNumResults(), argument.getType(),
                             DictionaryAttr());
    }
    func::ReturnOp::create(builder, loc, returned);
    ret.erase();
    nameArguments(original, vjp, floatResults, floatArguments);
    return success();
  }

  /// Where the function names its arguments and results (nl.input,
  /// nl.output, ...), the cotangent of result `y` is the input `d_y` and the
  /// adjoint of argument `x` is the output `d_x`.
  static void nameArguments(func::FuncOp original, func::FuncOp vjp,
                            ArrayRef<unsigned> floatResults,
                            ArrayRef<unsigned> floatArguments) {
    MLIRContext *context = vjp.getContext();
    unsigned numInputs = original.getNumArguments();
    unsigned numResults = original.getNumResults();
    for (auto [position, index] : llvm::enumerate(floatResults))
      if (auto name = roleName(original.getResultAttrDict(index), kResultRoles))
        vjp.setArgAttr(numInputs + position, "nl.input",
                       StringAttr::get(context, "d_" + *name));
    for (auto [position, index] : llvm::enumerate(floatArguments))
      if (auto name = roleName(original.getArgAttrDict(index), kArgumentRoles))
        vjp.setResultAttr(numResults + position, "nl.output",
                          StringAttr::get(context, "d_" + *name));
  }
};

} // namespace
