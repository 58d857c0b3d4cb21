//===- BuildTestTimeLearning.cpp - nl-build-test-time-learning ------------===//
//
// CMS test-time learning (semantics section 3; docs/training.md, "CMS
// test-time learning"): a streaming entry point whose CMS blocks learn from
// the language-model loss becomes a loop over the piece's tokens. Each
// iteration runs the model on one token (the per-token function: the entry
// point itself, its CMS frozen at the current parameters) and the VJP of that
// token's next-token cross-entropy (nl-differentiate, run by this pass) with
// respect to the blocks' parameters; every other state is an argument of the
// per-token function, so no gradient reaches it (held fixed). Gradients are
// summed per parameter and applied at the multiples of each block's chunk.
//
// The loss of a position needs the next token: the states a piece leaves
// are those *before* its last token, which the next piece recomputes once
// its first token (that token's target) is known (`cms_last_token`, -1 before
// the first piece). Every position's update is thereby the same in every
// split of a sequence.
//
//===----------------------------------------------------------------------===//

#include "LocalObjectiveLoss.h"

#include "nl/Codegen/TrainLoss.h"
#include "nl/Codegen/Passes.h"
#include "nl/IR/NLDialect.h"
#include "nl/IR/NLOps.h"
#include "nl/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/JSON.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLBUILDTESTTIMELEARNING
#include "nl/Codegen/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;
namespace json = llvm::json;

namespace {

constexpr llvm::StringLiteral kLastTokenName = "cms_last_token";
constexpr llvm::StringLiteral kPositionName = "position";

/// One learnt parameter of a CMS block.
struct LearntParam {
  unsigned param, sum;       // argument indices: the parameter, its gradient sum
  int64_t chunk;
  double lr;
  /// Nested CMS, every block but the slowest: the argument indices of the
  /// meta-learnt initial state and its gradient sum, the next block's chunk
  /// (its boundaries reset this block) and rate.
  std::optional<unsigned> initial, initialSum;
  int64_t resetChunk = 0;
  double metaLr = 0.0;
};

/// What the entry point's manifest says about its arguments and results.
struct EntrySignature {
  SmallVector<std::string> argNames, argRoles, resultNames, resultRoles;
};

struct BuildTestTimeLearningPass
    : nl::impl::NLBuildTestTimeLearningBase<BuildTestTimeLearningPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> learning;
    for (auto function : module.getOps<func::FuncOp>()) {
      bool learns = false;
      function.walk([&](CMSOp op) {
        learns |= op.getSignal() != CmsSignal::None;
      });
      if (learns)
        learning.push_back(function);
    }
    for (func::FuncOp function : learning)
      if (failed(build(module, function)))
        return signalPassFailure();
  }

  /// The names and roles of `function`'s arguments and results, from the
  /// manifest (nl-prepare-entry-points stripped the role attributes).
  static FailureOr<EntrySignature> readSignature(ModuleOp module,
                                                 func::FuncOp function) {
    auto text =
        module->getAttrOfType<StringAttr>(NLDialect::getManifestAttrName());
    auto fail = [&]() {
      return function.emitError("nl-build-test-time-learning: '")
             << function.getName()
             << "' has no manifest entry; run nl-prepare-entry-points first";
    };
    if (!text)
      return fail();
    llvm::Expected<json::Value> parsed = json::parse(text.getValue());
    if (!parsed) {
      llvm::consumeError(parsed.takeError());
      return fail();
    }
    json::Array *entries = parsed->getAsObject()
                               ? parsed->getAsObject()->getArray("entry_points")
                               : nullptr;
    if (!entries)
      return fail();
    for (json::Value &value : *entries) {
      json::Object *entry = value.getAsObject();
      if (!entry || entry->getString("name") != function.getName())
        continue;
      json::Array *inputs = entry->getArray("inputs");
      json::Array *outputs = entry->getArray("outputs");
      if (!inputs || !outputs || inputs->size() != function.getNumArguments() ||
          outputs->size() != function.getNumResults())
        return fail();
      EntrySignature signature;
      for (json::Value &input : *inputs) {
        signature.argNames.push_back(
            input.getAsObject()->getString("name")->str());
        signature.argRoles.push_back(
            input.getAsObject()->getString("role")->str());
      }
      for (json::Value &output : *outputs) {
        signature.resultNames.push_back(
            output.getAsObject()->getString("name")->str());
        signature.resultRoles.push_back(
            output.getAsObject()->getString("role")->str());
      }
      return signature;
    }
    return fail();
  }

  LogicalResult build(ModuleOp module, func::FuncOp function) {
    auto error = [&](Operation *at) {
      return at->emitError("nl-build-test-time-learning: ");
    };
    FailureOr<EntrySignature> signature = readSignature(module, function);
    if (failed(signature))
      return failure();

    // Arguments by name; every state argument is carried to the result of
    // the same name.
    llvm::StringMap<unsigned> argIndex, resultIndex;
    for (auto [index, name] : llvm::enumerate(signature->argNames))
      argIndex[name] = index;
    for (auto [index, name] : llvm::enumerate(signature->resultNames))
      if (signature->resultRoles[index] == "state")
        resultIndex[name] = index;
    std::optional<unsigned> tokens, logits;
    for (auto [index, role] : llvm::enumerate(signature->argRoles))
      if (role == "input") {
        if (tokens)
          return error(function) << "'" << function.getName()
                                 << "' must take one input (the token ids)";
        tokens = index;
      }
    for (auto [index, role] : llvm::enumerate(signature->resultRoles))
      if (role == "output" && !logits)
        logits = index;
    auto tokenType =
        tokens ? dyn_cast<RankedTensorType>(
                     function.getArgument(*tokens).getType())
               : RankedTensorType();
    auto logitsType = logits ? dyn_cast<RankedTensorType>(
                                   function.getResultTypes()[*logits])
                             : RankedTensorType();
    if (!tokenType || tokenType.getRank() != 2 ||
        !tokenType.getElementType().isInteger(64) || !logitsType ||
        logitsType.getRank() != 3 || logitsType.isDynamicDim(2))
      return error(function) << "a learning CMS needs an entry point from i64 "
                                "tokens [B, T] to logits [B, T, V], V static";
    SmallVector<std::pair<unsigned, unsigned>> carried; // argument, result
    for (auto [index, role] : llvm::enumerate(signature->argRoles)) {
      if (role != "state")
        continue;
      auto it = resultIndex.find(signature->argNames[index]);
      if (it == resultIndex.end())
        return error(function) << "the state '" << signature->argNames[index]
                               << "' has no result of the same name";
      carried.push_back({unsigned(index), it->second});
    }
    if (carried.size() + 1 != function.getNumResults())
      return error(function) << "every result but the logits must be a state "
                                "carried from an argument of the same name";
    auto stateArgument = [&](StringRef name) -> std::optional<unsigned> {
      auto it = argIndex.find(name);
      if (it == argIndex.end() ||
          signature->argRoles[it->second] != "state" ||
          !resultIndex.count(name))
        return std::nullopt;
      return it->second;
    };
    // The learning CMS ops; they share one signal.
    SmallVector<CMSOp> ops;
    function.walk([&](CMSOp op) {
      if (op.getSignal() != CmsSignal::None)
        ops.push_back(op);
    });
    CmsSignal signal = ops.front().getSignal();
    for (CMSOp op : ops)
      if (op.getSignal() != signal)
        return error(op) << "the learning CMS ops of a function must share "
                            "one signal (task or local)";
    // The cross-entropy of a token waits for the next one (see the top).
    const bool delayed = signal == CmsSignal::Task;
    std::optional<unsigned> lastToken = stateArgument(kLastTokenName);
    std::optional<unsigned> position = stateArgument(kPositionName);
    if (delayed && (!lastToken || !position))
      return error(function) << "a learning CMS needs the states '"
                             << kLastTokenName << "' (i64 [B, 1]) and '"
                             << kPositionName << "' (the streaming form)";
    if (!position)
      return error(function) << "a learning CMS needs the state '"
                             << kPositionName << "' (the streaming form)";

    // The learnt parameters: every block parameter of every learning CMS.
    SmallVector<LearntParam> learnt;
    for (CMSOp op : ops) {
      ArrayRef<int64_t> chunks = op.getChunks();
      ArrayRef<double> rates = *op.getLr();
      bool nested = op.getVariant() == CmsVariant::Nested;
      if (nested)
        for (size_t block = 0; block + 1 < chunks.size(); ++block)
          if (chunks[block + 1] <= chunks[block] ||
              chunks[block + 1] % chunks[block] != 0)
            return error(op) << "the nested CMS needs each block's chunk to "
                                "be a multiple of the previous block's, "
                                "larger: block "
                             << block + 1 << " has " << chunks[block + 1]
                             << ", block " << block << " " << chunks[block];
      if (signal == CmsSignal::Local) {
        auto l2 = dyn_cast<L2ObjectiveAttr>(op.getLocalObjectiveAttr());
        if (l2 && l2.getReduction() == Reduction::Mean &&
            op.getInput().getType().isDynamicDim(2))
          return error(op) << "a local objective with reduction = mean needs "
                              "a static feature width";
      }
      // The independent variant's mixing weights (its last parameter) are
      // not a block's: they stay as they are (learnt by training).
      unsigned blockParams = 3 * chunks.size();
      for (auto [index, param] : llvm::enumerate(op.getParams())) {
        if (index >= blockParams)
          continue;
        auto argument = dyn_cast<BlockArgument>(param);
        if (!argument || argument.getOwner()->getParentOp() != function ||
            signature->argRoles[argument.getArgNumber()] != "state")
          return error(op) << "parameter " << index
                           << " of a learning CMS must be a state argument "
                              "of the entry point";
        std::string name = signature->argNames[argument.getArgNumber()];
        auto needState = [&](StringRef suffix) -> FailureOr<unsigned> {
          if (std::optional<unsigned> state = stateArgument(name + suffix.str()))
            return *state;
          return error(op) << "the learnt parameter '" << name
                           << "' needs the state '" << name << suffix << "'";
        };
        FailureOr<unsigned> sum = needState(".grad_sum");
        if (failed(sum))
          return failure();
        unsigned block = index / 3;
        LearntParam p{argument.getArgNumber(), *sum, chunks[block],
                      rates[block]};
        if (nested && block + 1 < chunks.size()) {
          FailureOr<unsigned> initial = needState(".initial");
          if (failed(initial))
            return failure();
          FailureOr<unsigned> initialSum = needState(".initial_grad_sum");
          if (failed(initialSum))
            return failure();
          p.initial = *initial;
          p.initialSum = *initialSum;
          p.resetChunk = chunks[block + 1];
          p.metaLr = rates[block + 1];
        }
        learnt.push_back(p);
      }
    }

    // The per-token forward and the VJP of its loss, lowered in a module
    // of their own inside this one.
    OpBuilder builder(&getContext());
    builder.setInsertionPointToEnd(module.getBody());
    auto scratch = ModuleOp::create(builder, function.getLoc());
    builder.setInsertionPointToEnd(scratch.getBody());
    auto loss = cast<func::FuncOp>(builder.clone(*function));
    loss.setName("token_loss");
    if (delayed ? failed(train::replaceResultsWithLoss(
                      loss, tokenType, *logits, train::buildSummedCrossEntropy))
                : failed(ttl::replaceResultsWithLocalLoss(loss)))
      return failure();
    // The per-token functions run the blocks as they are at their token.
    auto freeze = [](func::FuncOp f) {
      f.walk([](CMSOp op) {
        op.setSignal(CmsSignal::None);
        op.removeLrAttr();
        op.removeLocalObjectiveAttr();
      });
    };
    freeze(loss);
    freeze(function);
    auto forward = cast<func::FuncOp>(builder.clone(*function));
    forward.setName("token_forward");
    OpPassManager pm(ModuleOp::getOperationName());
    NLLowerBlocksToLinalgOptions keep;
    keep.keepStopGradient = true;
    pm.addPass(createNLLowerBlocksToLinalg(keep));
    pm.addNestedPass<func::FuncOp>(createConvertElementwiseToLinalgPass());
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
    if (failed(runPipeline(pm, scratch)))
      return failure();
    // The streaming convolution prepends its history with tensor.concat,
    // which nl-differentiate has no rule for: as insert_slices it does.
    RewritePatternSet concat(&getContext());
    tensor::populateDecomposeTensorConcatPatterns(concat);
    if (failed(applyPatternsGreedily(scratch, std::move(concat))))
      return failure();
    OpPassManager differentiatePm(ModuleOp::getOperationName());
    NLDifferentiateOptions differentiate;
    differentiate.functions = {"token_loss"};
    differentiatePm.addPass(createNLDifferentiate(differentiate));
    if (failed(runPipeline(differentiatePm, scratch)))
      return failure();
    auto vjp = scratch.lookupSymbol<func::FuncOp>("token_loss_vjp");
    if (!vjp)
      return error(function) << "nl-differentiate made no VJP";

    buildLoop(function, forward, vjp, *tokens, *logits, lastToken, *position,
              carried, learnt);
    scratch.erase();
    return success();
  }

  /// Replaces the body of `function` by the loop over its tokens. With
  /// `lastTokenIndex` (signal = task) the loop recomputes the previous
  /// piece's last token and stops before this piece's.
  void buildLoop(func::FuncOp function, func::FuncOp forward, func::FuncOp vjp,
                 unsigned tokensIndex, unsigned logitsIndex,
                 std::optional<unsigned> lastTokenIndex,
                 unsigned positionIndex,
                 ArrayRef<std::pair<unsigned, unsigned>> carried,
                 ArrayRef<LearntParam> learnt) {
    Location loc = function.getLoc();
    Block &entry = function.getBody().front();
    // The old body goes; the arguments stay.
    entry.getTerminator()->erase();
    while (!entry.empty())
      entry.back().erase();
    OpBuilder b = OpBuilder::atBlockEnd(&entry);
    Type i64 = b.getI64Type();
    Value tokens = entry.getArgument(tokensIndex);
    const bool delayed = lastTokenIndex.has_value();
    auto index = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    Value c0 = index(0), c1 = index(1);
    Value batch = tensor::DimOp::create(b, loc, tokens, c0);
    Value length = tensor::DimOp::create(b, loc, tokens, c1);
    // The loop's tokens and bounds; without a delay, the piece's tokens.
    Value ext = tokens, targets, lower = c0, upper = length;
    if (delayed) {
      Value lastToken = entry.getArgument(*lastTokenIndex);
      Value extended = arith::AddIOp::create(b, loc, length, c1);
      auto dynamic2 = RankedTensorType::get(
          {ShapedType::kDynamic, ShapedType::kDynamic}, i64);
      // ext = [last token, tokens...]; targets = [tokens..., -1].
      ext = tensor::EmptyOp::create(b, loc, dynamic2.getShape(), i64,
                                    ValueRange{batch, extended});
      SmallVector<OpFoldResult> ones = {b.getIndexAttr(1), b.getIndexAttr(1)};
      ext = tensor::InsertSliceOp::create(
          b, loc, lastToken, ext, ArrayRef<OpFoldResult>{c0, c0},
          ArrayRef<OpFoldResult>{batch, b.getIndexAttr(1)}, ones);
      ext = tensor::InsertSliceOp::create(
          b, loc, tokens, ext, ArrayRef<OpFoldResult>{c0, c1},
          ArrayRef<OpFoldResult>{batch, length}, ones);
      Value minusOne =
          arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(-1));
      targets = tensor::EmptyOp::create(b, loc, dynamic2.getShape(), i64,
                                        ValueRange{batch, extended});
      targets = linalg::FillOp::create(b, loc, minusOne, targets).getResult(0);
      targets = tensor::InsertSliceOp::create(
          b, loc, tokens, targets, ArrayRef<OpFoldResult>{c0, c0},
          ArrayRef<OpFoldResult>{batch, length}, ones);
      // Before the first piece there is no last token to recompute.
      Value first = tensor::ExtractOp::create(b, loc, lastToken,
                                              ValueRange{c0, c0});
      Value hasLast = arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::sge, first,
          arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(0)));
      lower = arith::SelectOp::create(b, loc, hasLast, c0, c1);
      upper = extended;
    }

    // The per-token function's preconditions (token ids in range, the
    // states' batch), checked once on the whole piece before the loop: a
    // precondition must stay at the top level of the entry point.
    {
      IRMapping whole;
      for (unsigned a = 0; a < forward.getNumArguments(); ++a)
        whole.map(forward.getArgument(a), entry.getArgument(a));
      for (Operation &op : forward.getBody().front()) {
        if (!isa<PreconditionOp>(op))
          continue;
        SetVector<Operation *> slice;
        BackwardSliceOptions options;
        options.omitUsesFromAbove = false; // what nested regions capture too
        (void)getBackwardSlice(&op, &slice, options);
        for (Operation *producer : slice)
          if (!whole.contains(producer->getResult(0)))
            b.clone(*producer, whole);
        b.clone(op, whole);
      }
    }

    auto logitsType = cast<RankedTensorType>(
        function.getResultTypes()[logitsIndex]);
    int64_t vocabulary = logitsType.getDimSize(2);
    Type element = logitsType.getElementType();
    Value logitsInit = tensor::EmptyOp::create(
        b, loc, logitsType.getShape(), element, ValueRange{batch, length});
    SmallVector<Value> inits{logitsInit};
    for (auto [argument, result] : carried)
      inits.push_back(entry.getArgument(argument));

    DenseMap<unsigned, unsigned> slotOf; // argument -> iter_arg index
    for (auto [slot, pair] : llvm::enumerate(carried))
      slotOf[pair.first] = slot + 1;

    auto loop = scf::ForOp::create(
        b, loc, lower, upper, c1, inits,
        [&](OpBuilder &nb, Location l, Value i, ValueRange iterArgs) {
          Value one = arith::ConstantIndexOp::create(nb, l, 1);
          Value zero = arith::ConstantIndexOp::create(nb, l, 0);
          auto column = [&](Value source) -> Value {
            return tensor::CastOp::create(
                nb, l, tokenTypeOf(function, tokensIndex),
                tensor::ExtractSliceOp::create(
                    nb, l,
                    RankedTensorType::get({ShapedType::kDynamic, 1}, i64),
                    source, ArrayRef<OpFoldResult>{zero, i},
                    ArrayRef<OpFoldResult>{batch, nb.getIndexAttr(1)},
                    ArrayRef<OpFoldResult>{nb.getIndexAttr(1),
                                           nb.getIndexAttr(1)}));
          };
          Value token = column(ext);
          // Whether this token's loss is known (always, without a delay).
          Value known =
              delayed ? arith::CmpIOp::create(nb, l, arith::CmpIPredicate::ult,
                                              i, length)
                            .getResult()
                      : arith::ConstantIntOp::create(nb, l, nb.getI1Type(), 1)
                            .getResult();
          // The per-token function's arguments: this token, the carried
          // states, the entry's weights.
          auto argumentValue = [&](unsigned a) -> Value {
            if (a == tokensIndex)
              return token;
            auto it = slotOf.find(a);
            return it != slotOf.end() ? iterArgs[it->second]
                                      : entry.getArgument(a);
          };
          SmallVector<Value> outputs = inlineBody(nb, forward, [&](unsigned a) {
            return argumentValue(a);
          });
          unsigned numForward = forward.getNumArguments();
          SmallVector<Value> vjpOutputs =
              inlineBody(nb, vjp, [&](unsigned a) -> Value {
                if (a < numForward)
                  return argumentValue(a);
                if (delayed && a == numForward)
                  return column(targets);
                // The loss's cotangent.
                auto scalar = RankedTensorType::get({}, element);
                return arith::ConstantOp::create(
                    nb, l, DenseElementsAttr::get(
                               scalar, ArrayRef<Attribute>{
                                           FloatAttr::get(element, 1.0)}));
              });
          // The adjoints follow the loss, one per float argument.
          DenseMap<unsigned, Value> adjointOf;
          unsigned next = 1;
          for (unsigned a = 0; a < numForward; ++a)
            if (isa<FloatType>(getElementTypeOrSelf(
                    forward.getArgument(a).getType())))
              adjointOf[a] = vjpOutputs[next++];

          // The logits of this token: row i, or with the delay row i - 1
          // (i = 0 recomputes the last token of the previous piece, whose
          // logits that piece returned; row 0 is written again at i = 1).
          Value slot = delayed
                           ? arith::MaxSIOp::create(
                                 nb, l, arith::SubIOp::create(nb, l, i, one),
                                 zero)
                                 .getResult()
                           : i;
          Value row = castTo(
              nb, l, outputs[logitsIndex],
              RankedTensorType::get({ShapedType::kDynamic, 1, vocabulary},
                                    element));
          Value newLogits = tensor::InsertSliceOp::create(
              nb, l, row, iterArgs[0],
              ArrayRef<OpFoldResult>{zero, slot, zero},
              ArrayRef<OpFoldResult>{batch, nb.getIndexAttr(1),
                                     nb.getIndexAttr(vocabulary)},
              ArrayRef<OpFoldResult>{nb.getIndexAttr(1), nb.getIndexAttr(1),
                                     nb.getIndexAttr(1)});
          SmallVector<Value> yields{newLogits};

          // The position of this token, and whether a block's chunk ends
          // with it (its loss known).
          Value positionNow = tensor::ExtractOp::create(
              nb, l, iterArgs[slotOf[positionIndex]], ValueRange{});
          Value positionNext = arith::AddIOp::create(
              nb, l, positionNow,
              arith::ConstantOp::create(nb, l, nb.getI64IntegerAttr(1)));
          auto endsChunk = [&](int64_t chunk) -> Value {
            Value remainder = arith::RemSIOp::create(
                nb, l, positionNext,
                arith::ConstantOp::create(nb, l, nb.getI64IntegerAttr(chunk)));
            return arith::AndIOp::create(
                nb, l, known,
                arith::CmpIOp::create(
                    nb, l, arith::CmpIPredicate::eq, remainder,
                    arith::ConstantOp::create(nb, l, nb.getI64IntegerAttr(0))));
          };
          DenseMap<unsigned, Value> updated; // argument -> new value
          for (const LearntParam &p : learnt) {
            Value param = iterArgs[slotOf[p.param]];
            Value gradient = adjointOf.lookup(p.param);
            Value sum = arith::AddFOp::create(nb, l, iterArgs[slotOf[p.sum]],
                                              gradient);
            Value ends = endsChunk(p.chunk);
            auto type = cast<RankedTensorType>(param.getType());
            auto splat = [&](double v) -> Value {
              return arith::ConstantOp::create(
                  nb, l, DenseElementsAttr::get(
                             type, ArrayRef<Attribute>{FloatAttr::get(element, v)}));
            };
            Value stepped = arith::SubFOp::create(
                nb, l, param, arith::MulFOp::create(nb, l, splat(p.lr), sum));
            Value newParam = arith::SelectOp::create(nb, l, ends, stepped, param);
            Value newSum = arith::SelectOp::create(nb, l, ends, splat(0.0), sum);
            if (p.initial) {
              // Nested: at the next block's boundary the initial state takes
              // the step of the gradients summed since the previous one, and
              // the block (its sum restarted) starts again from it.
              Value initial = iterArgs[slotOf[*p.initial]];
              Value metaSum = arith::AddFOp::create(
                  nb, l, iterArgs[slotOf[*p.initialSum]], gradient);
              Value resets = endsChunk(p.resetChunk);
              Value meta = arith::SubFOp::create(
                  nb, l, initial,
                  arith::MulFOp::create(nb, l, splat(p.metaLr), metaSum));
              Value newInitial =
                  arith::SelectOp::create(nb, l, resets, meta, initial);
              updated[*p.initial] = newInitial;
              updated[*p.initialSum] =
                  arith::SelectOp::create(nb, l, resets, splat(0.0), metaSum);
              newParam =
                  arith::SelectOp::create(nb, l, resets, newInitial, newParam);
              newSum = arith::SelectOp::create(nb, l, resets, splat(0.0), newSum);
            }
            updated[p.param] = newParam;
            updated[p.sum] = newSum;
          }
          for (auto [argument, result] : carried) {
            Value old = iterArgs[slotOf[argument]];
            Value value;
            if (updated.count(argument))
              value = updated[argument];
            else if (delayed && argument == *lastTokenIndex)
              // After the piece: the token its states stop before.
              value = arith::SelectOp::create(
                  nb, l, known, old,
                  tensor::CastOp::create(nb, l, old.getType(), token));
            else if (delayed)
              // The states advance past every token whose target is known.
              value = arith::SelectOp::create(
                  nb, l, known,
                  castTo(nb, l, outputs[result], old.getType()), old);
            else
              value = castTo(nb, l, outputs[result], old.getType());
            yields.push_back(value);
          }
          scf::YieldOp::create(nb, l, yields);
        });

    SmallVector<Value> results(function.getNumResults());
    results[logitsIndex] = loop.getResult(0);
    for (auto [slot, pair] : llvm::enumerate(carried))
      results[pair.second] = loop.getResult(slot + 1);
    func::ReturnOp::create(b, loc, results);
  }

  static RankedTensorType tokenTypeOf(func::FuncOp function, unsigned index) {
    return cast<RankedTensorType>(function.getArgument(index).getType());
  }

  static Value castTo(OpBuilder &b, Location loc, Value value, Type type) {
    if (value.getType() == type)
      return value;
    return tensor::CastOp::create(b, loc, type, value);
  }

  /// Clones the body of `callee` at `b`, its arguments given by
  /// `argument`; returns the values it returns.
  static SmallVector<Value>
  inlineBody(OpBuilder &b, func::FuncOp callee,
             llvm::function_ref<Value(unsigned)> argument) {
    IRMapping mapping;
    Block &body = callee.getBody().front();
    for (unsigned a = 0; a < body.getNumArguments(); ++a)
      mapping.map(body.getArgument(a), argument(a));
    for (Operation &op : body.without_terminator())
      if (!isa<PreconditionOp>(op)) // checked before the loop
        b.clone(op, mapping);
    SmallVector<Value> results;
    for (Value v : body.getTerminator()->getOperands())
      results.push_back(mapping.lookupOrDefault(v));
    return results;
  }
};

} // namespace
