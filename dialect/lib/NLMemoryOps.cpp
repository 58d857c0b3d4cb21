//===- NLMemoryOps.cpp - memories and CMS chains --------------------------===//
//
// Verifiers and component interfaces of nl.memory, nl.update, nl.read,
// nl.final_state and nl.cms.
//
//===----------------------------------------------------------------------===//

#include "nl/IR/NLOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::nl;

//===----------------------------------------------------------------------===//
// State layout
//===----------------------------------------------------------------------===//

SmallVector<MemoryStateParam>
mlir::nl::getMemoryStateLayout(Attribute model, int64_t in, int64_t out) {
  SmallVector<MemoryStateParam> layout;
  if (isa<LinearModelAttr>(model)) {
    layout.push_back({"W", {out, in}});
    return layout;
  }
  auto mlp = cast<MLPModelAttr>(model);
  int64_t depth = mlp.getDepth(), hidden = mlp.getHidden();
  for (int64_t layer = 1; layer <= depth; ++layer) {
    int64_t rows = layer == depth ? out : hidden;
    int64_t cols = layer == 1 ? in : hidden;
    layout.push_back({llvm::formatv("W_{0}", layer).str(), {rows, cols}});
  }
  if (mlp.getResidual() == Residual::Learned)
    layout.push_back({"W_skip", {out, in}});
  if (mlp.getNorm() == MemoryNorm::Pre)
    layout.push_back({"norm_scale", {in}});
  else if (mlp.getNorm() == MemoryNorm::Post)
    layout.push_back({"norm_scale", {out}});
  return layout;
}

/// Checks that `type` is a state tensor of `param`: [H, shape...] when
/// `allowShared`, or [B, H, shape...]. Returns the batch size seen
/// (dynamic for a shared state).
static FailureOr<int64_t> checkStateTensor(Operation *op, StringRef role,
                                           unsigned index, RankedTensorType type,
                                           const MemoryStateParam &param,
                                           MemoryType memory,
                                           bool allowShared) {
  SmallVector<int64_t> shared{memory.getHeads()};
  llvm::append_range(shared, param.shape);
  SmallVector<int64_t> batched{ShapedType::kDynamic};
  llvm::append_range(batched, shared);
  auto matches = [&](ArrayRef<int64_t> expected) {
    return type.getRank() == static_cast<int64_t>(expected.size()) &&
           llvm::all_of(llvm::zip(type.getShape(), expected), [](auto pair) {
             return areDimsCompatible(std::get<0>(pair), std::get<1>(pair));
           });
  };
  bool isShared = allowShared && matches(shared);
  if (!isShared && !matches(batched)) {
    auto diag = op->emitOpError()
                << role << " '" << param.name << "' (#" << index
                << ") must have shape ";
    if (allowShared)
      diag << formatShape(shared) << " or ";
    std::string batchedText = formatShape(batched);
    diag << "[B, " << StringRef(batchedText).drop_front(4) << ", got "
         << formatShape(type.getShape());
    return failure();
  }
  if (type.getElementType() != memory.getElementType())
    return op->emitOpError() << role << " '" << param.name << "' (#" << index
                             << ") has element type " << type.getElementType()
                             << " but the memory holds "
                             << memory.getElementType();
  return isShared ? ShapedType::kDynamic : type.getDimSize(0);
}

/// Checks tensors that hold one per-sequence value per state parameter
/// (references, pending sums): [B, H, ...] in the layout's order.
static LogicalResult checkPerSequenceStates(Operation *op, StringRef role,
                                            ValueRange values,
                                            ArrayRef<MemoryStateParam> layout,
                                            MemoryType memory) {
  for (auto [index, value] : llvm::enumerate(values))
    if (failed(checkStateTensor(op, role, index,
                                cast<RankedTensorType>(value.getType()),
                                layout[index], memory, /*allowShared=*/false)))
      return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// MemoryOp
//===----------------------------------------------------------------------===//

int64_t MemoryOp::getMomentumOrder() {
  if (auto momentum = dyn_cast<MomentumGDAttr>(getRule()))
    return momentum.getOrder();
  return cast<DGDAttr>(getRule()).getMomentum() ? 1 : 0;
}

SmallVector<MemoryStateParam> MemoryOp::getStateLayout() {
  MemoryType type = getMemory().getType();
  return getMemoryStateLayout(getModel(), type.getInputWidth(),
                              type.getOutputWidth());
}

SmallVector<SmallVector<int64_t>> MemoryOp::getStateShapes() {
  SmallVector<SmallVector<int64_t>> shapes;
  for (MemoryStateParam &param : getStateLayout())
    shapes.push_back(param.shape);
  return shapes;
}

UpdateOp MemoryOp::getUpdate() {
  for (Operation *user : getMemory().getUsers())
    if (auto update = dyn_cast<UpdateOp>(user))
      return update;
  return {};
}

RateGranularity MemoryOp::getLrGranularity() {
  if (auto momentum = dyn_cast<MomentumGDAttr>(getRule()))
    return momentum.getLr();
  return cast<DGDAttr>(getRule()).getLr();
}

RateGranularity MemoryOp::getRetentionGranularity() {
  if (auto momentum = dyn_cast<MomentumGDAttr>(getRule()))
    return momentum.getRetention();
  return cast<DGDAttr>(getRule()).getRetention();
}

RateGranularity MemoryOp::getMomentumGranularity() {
  if (auto momentum = dyn_cast<MomentumGDAttr>(getRule()))
    return momentum.getMomentum();
  return RateGranularity::Token;
}

LogicalResult MemoryOp::verify() {
  MemoryType type = getMemory().getType();
  if (getName().empty())
    return emitOpError("needs a non-empty name");
  if (getEvery().getUnit() != TimeUnit::Tokens)
    return emitOpError("a memory's chunk size counts tokens, got ")
           << getEvery().describe();

  if (auto mlp = dyn_cast<MLPModelAttr>(getModel()))
    if (mlp.getResidual() == Residual::Identity &&
        type.getInputWidth() != type.getOutputWidth())
      return emitOpError("residual = identity needs equal input and output "
                         "widths, got ")
             << type.getInputWidth() << " -> " << type.getOutputWidth()
             << " (use residual = learned)";

  if (auto aggregated = getChunkAggregatedAttr()) {
    if (isa<DGDAttr>(getRule()))
      return emitOpError("DGD is not defined for the chunk-aggregated variant "
                         "(use #nl.momentum_gd)");
    int64_t chunk = getEvery().getPeriod();
    if (!aggregated.linearizesOverSequence() &&
        aggregated.getPeriod() % chunk != 0)
      return emitOpError("linearisation period ")
             << aggregated.getPeriod()
             << " is not a multiple of the chunk size " << chunk;
  }

  SmallVector<MemoryStateParam> layout = getMemoryStateLayout(
      getModel(), type.getInputWidth(), type.getOutputWidth());
  size_t numParams = layout.size();
  int64_t order = getMomentumOrder();
  size_t withMomentum = numParams * (1 + order);
  size_t numInit = getInit().size();
  if (numInit != numParams && numInit != withMomentum) {
    auto diag = emitOpError("expects ")
                << numParams << " initial state tensors (";
    llvm::interleaveComma(layout, diag, [&](const MemoryStateParam &param) {
      diag << param.name;
    });
    diag << ")";
    if (order > 0)
      diag << " or " << withMomentum << " with the momentum buffers";
    return diag << ", got " << numInit;
  }
  for (auto [index, init] : llvm::enumerate(getInit())) {
    StringRef role = index < numParams ? "initial state" : "initial momentum";
    if (failed(checkStateTensor(*this, role, index,
                                cast<RankedTensorType>(init.getType()),
                                layout[index % numParams], type,
                                /*allowShared=*/true)))
      return failure();
  }

  // Streaming: the reference (and pending sum) is per sequence, one tensor
  // per state parameter.
  if (!getReference().empty() && getReference().size() != numParams)
    return emitOpError("reference holds the state at the last chunk "
                       "boundary, one tensor per state parameter (")
           << numParams << "), got " << getReference().size();
  if (failed(checkPerSequenceStates(*this, "reference", getReference(), layout,
                                    type)))
    return failure();
  if (!getPending().empty()) {
    if (!getChunkAggregatedAttr())
      return emitOpError("pending is the gradient sum of an unfinished chunk "
                         "and exists only for the chunk-aggregated variant");
    if (getPending().size() != numParams)
      return emitOpError("pending holds one tensor per state parameter (")
             << numParams << "), got " << getPending().size();
    if (failed(checkPerSequenceStates(*this, "pending", getPending(), layout,
                                      type)))
      return failure();
  }

  unsigned numUpdates = llvm::count_if(getMemory().getUsers(), [](Operation *u) {
    return isa<UpdateOp>(u);
  });
  if (numUpdates > 1)
    return emitOpError("memory '")
           << getName() << "' has " << numUpdates
           << " nl.update ops; a memory learns from exactly one";
  return success();
}

unsigned MemoryOp::getNumComponents() { return 1; }
std::string MemoryOp::getComponentName(unsigned) { return getName().str(); }
EveryAttr MemoryOp::getComponentFrequency(unsigned) { return getEvery(); }
void MemoryOp::getUpdateInputs(unsigned, SmallVectorImpl<Value> &inputs) {
  if (UpdateOp update = getUpdate())
    for (Value operand : update->getOperands())
      if (operand != update.getMemory())
        inputs.push_back(operand);
}

//===----------------------------------------------------------------------===//
// UpdateOp
//===----------------------------------------------------------------------===//

MemoryOp UpdateOp::getMemoryOp() {
  return getMemory().getDefiningOp<MemoryOp>();
}

/// Checks the shape of a rate given per token or per chunk.
static LogicalResult checkRate(Operation *op, StringRef role, Value rate,
                               RateGranularity granularity, int64_t batch,
                               int64_t heads, int64_t tokens, int64_t chunk,
                               Type elementType) {
  auto type = cast<RankedTensorType>(rate.getType());
  int64_t steps = tokens;
  if (granularity == RateGranularity::Chunk && !ShapedType::isDynamic(tokens))
    steps = llvm::divideCeil(tokens, chunk);
  SmallVector<int64_t> expected{batch, heads, steps};
  bool ok = type.getRank() == 3 &&
            llvm::all_of(llvm::zip(type.getShape(), expected), [](auto pair) {
              return areDimsCompatible(std::get<0>(pair), std::get<1>(pair));
            });
  if (!ok) {
    bool perChunk = granularity == RateGranularity::Chunk;
    return op->emitOpError()
           << role << " rate is per " << (perChunk ? "chunk" : "token")
           << " and must have shape " << formatShape(expected)
           << (perChunk ? " ([B, H, ceil(T/C)])" : " ([B, H, T])") << ", got "
           << formatShape(type.getShape());
  }
  if (type.getElementType() != elementType)
    return op->emitOpError() << role << " rate has element type "
                             << type.getElementType()
                             << " but the memory holds " << elementType;
  return success();
}

LogicalResult UpdateOp::verify() {
  MemoryType type = getMemory().getType();
  MemoryOp memory = getMemoryOp();
  if (!memory)
    return emitOpError("the memory handle must come from an nl.memory op");
  auto keys = getKeys().getType();
  auto values = getValues().getType();
  if (keys.getRank() != 4 || values.getRank() != 4)
    return emitOpError("keys and values must be per-head sequences "
                       "[B, H, T, d], got ")
           << formatShape(keys.getShape()) << " and "
           << formatShape(values.getShape());
  if (!areDimsCompatible(keys.getDimSize(1), type.getHeads()) ||
      !areDimsCompatible(keys.getDimSize(3), type.getInputWidth()))
    return emitOpError("keys must be [B, ")
           << type.getHeads() << ", T, " << type.getInputWidth()
           << "] for this memory, got " << formatShape(keys.getShape());
  for (int dim = 0; dim < 3; ++dim)
    if (!areDimsCompatible(keys.getDimSize(dim), values.getDimSize(dim)))
      return emitOpError("keys ")
             << formatShape(keys.getShape()) << " and values "
             << formatShape(values.getShape())
             << " disagree on batch, heads or tokens";
  if (!areDimsCompatible(values.getDimSize(3), type.getOutputWidth()))
    return emitOpError("values must have the memory's output width ")
           << type.getOutputWidth() << ", got " << formatShape(values.getShape());
  if (keys.getElementType() != type.getElementType() ||
      values.getElementType() != type.getElementType())
    return emitOpError("keys and values must have the memory's element type ")
           << type.getElementType();

  RateGranularity lrGrain = memory.getLrGranularity(),
                  retentionGrain = memory.getRetentionGranularity(),
                  momentumGrain = memory.getMomentumGranularity();
  int64_t batch = keys.getDimSize(0), tokens = keys.getDimSize(2);
  int64_t chunk = memory.getEvery().getPeriod();
  Type element = type.getElementType();
  if (failed(checkRate(*this, "learning", getLr(), lrGrain, batch,
                       type.getHeads(), tokens, chunk, element)))
    return failure();
  if (getRetention() &&
      failed(checkRate(*this, "retention", getRetention(), retentionGrain,
                       batch, type.getHeads(), tokens, chunk, element)))
    return failure();
  // The chunk-aggregated variant applies retention and momentum once per
  // chunk, at its end.
  if (memory.getChunkAggregatedAttr() &&
      ((getRetention() && retentionGrain != RateGranularity::Chunk) ||
       (!getMomentum().empty() && momentumGrain != RateGranularity::Chunk)))
    return emitOpError("the chunk-aggregated variant applies retention and "
                       "momentum once per chunk: declare them `chunk` in the "
                       "rule");
  int64_t order = memory.getMomentumOrder();
  if (static_cast<int64_t>(getMomentum().size()) != order)
    return emitOpError("the rule keeps ")
           << order << " momentum buffer" << (order == 1 ? "" : "s")
           << " and needs as many momentum rates, got "
           << getMomentum().size();
  for (Value beta : getMomentum())
    if (failed(checkRate(*this, "momentum", beta, momentumGrain, batch,
                         type.getHeads(), tokens, chunk, element)))
      return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// ReadOp
//===----------------------------------------------------------------------===//

LogicalResult ReadOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &results) {
  auto memory = cast<MemoryType>(adaptor.getMemory().getType());
  auto query = cast<RankedTensorType>(adaptor.getQuery().getType());
  if (query.getRank() != 4 ||
      !areDimsCompatible(query.getDimSize(1), memory.getHeads()) ||
      !areDimsCompatible(query.getDimSize(3), memory.getInputWidth()))
    return emitOptionalError(loc, "'nl.read' query must be [B, ",
                             memory.getHeads(), ", T, ",
                             memory.getInputWidth(), "] for this memory, got ",
                             formatShape(query.getShape()));
  if (query.getElementType() != memory.getElementType())
    return emitOptionalError(loc, "'nl.read' query element type ",
                             query.getElementType(), " differs from the "
                             "memory's ",
                             memory.getElementType());
  results.push_back(RankedTensorType::get(
      {query.getDimSize(0), memory.getHeads(), query.getDimSize(2),
       memory.getOutputWidth()},
      memory.getElementType()));
  return success();
}

void ReadOp::getStateSources(SmallVectorImpl<StateSource> &sources) {
  if (auto memory = getMemory().getDefiningOp<MemoryOp>())
    sources.push_back({memory, 0, getPoint() == ReadPoint::After});
}

//===----------------------------------------------------------------------===//
// FinalStateOp
//===----------------------------------------------------------------------===//

LogicalResult FinalStateOp::verify() {
  auto memory = getMemory().getDefiningOp<MemoryOp>();
  if (!memory)
    return emitOpError("the memory handle must come from an nl.memory op");
  MemoryType type = getMemory().getType();
  SmallVector<MemoryStateParam> layout = memory.getStateLayout();
  size_t numParams = layout.size();
  size_t withMomentum = numParams * (1 + memory.getMomentumOrder());
  if (getStates().size() != numParams && getStates().size() != withMomentum)
    return emitOpError("returns the ")
           << numParams << " state parameters"
           << (withMomentum != numParams
                   ? llvm::formatv(" (or {0} with the momentum buffers)",
                                   withMomentum)
                         .str()
                   : std::string())
           << ", got " << getStates().size() << " results";
  int64_t batch = ShapedType::kDynamic;
  for (auto [index, state] : llvm::enumerate(getStates())) {
    FailureOr<int64_t> seen = checkStateTensor(
        *this, index < numParams ? "final state" : "final momentum", index,
        cast<RankedTensorType>(state.getType()), layout[index % numParams],
        type, /*allowShared=*/false);
    if (failed(seen))
      return failure();
    if (!areDimsCompatible(batch, *seen))
      return emitOpError("final states disagree on the batch size");
    if (!ShapedType::isDynamic(*seen))
      batch = *seen;
  }
  return success();
}

void FinalStateOp::getStateSources(SmallVectorImpl<StateSource> &sources) {
  if (auto memory = getMemory().getDefiningOp<MemoryOp>())
    sources.push_back({memory, 0, /*sameToken=*/true});
}

//===----------------------------------------------------------------------===//
// StreamStateOp
//===----------------------------------------------------------------------===//

LogicalResult StreamStateOp::verify() {
  auto memory = getMemory().getDefiningOp<MemoryOp>();
  if (!memory)
    return emitOpError("the memory handle must come from an nl.memory op");
  MemoryType type = getMemory().getType();
  SmallVector<MemoryStateParam> layout = memory.getStateLayout();
  if (getReference().size() != layout.size())
    return emitOpError("returns the reference state: ")
           << layout.size() << " tensors, got " << getReference().size();
  size_t pending = memory.getChunkAggregatedAttr() ? layout.size() : 0;
  if (getPending().size() != pending)
    return emitOpError("returns ")
           << pending << " pending gradient sums for this memory, got "
           << getPending().size();
  if (failed(checkPerSequenceStates(*this, "reference", getReference(), layout,
                                    type)))
    return failure();
  return checkPerSequenceStates(*this, "pending", getPending(), layout, type);
}

void StreamStateOp::getStateSources(SmallVectorImpl<StateSource> &sources) {
  if (auto memory = getMemory().getDefiningOp<MemoryOp>())
    sources.push_back({memory, 0, /*sameToken=*/true});
}

//===----------------------------------------------------------------------===//
// CMSOp
//===----------------------------------------------------------------------===//

LogicalResult CMSOp::verify() {
  auto input = getInput().getType();
  ArrayRef<int64_t> chunks = getChunks();
  size_t numBlocks = chunks.size();
  if (getName().empty())
    return emitOpError("needs a non-empty name");
  if (numBlocks == 0)
    return emitOpError("needs at least one block (chunks is empty)");
  for (auto [index, chunk] : llvm::enumerate(chunks))
    if (chunk <= 0)
      return emitOpError("chunk size of block ")
             << index << " must be positive, got " << chunk;
  if (input.getRank() != 3)
    return emitOpError("input must be [B, T, D], got shape ")
           << formatShape(input.getShape());
  int64_t width = input.getDimSize(2);

  bool independent = getVariant() == CmsVariant::Independent;
  size_t expected = 3 * numBlocks + (independent ? 1 : 0);
  if (getParams().size() != expected)
    return emitOpError("expects ")
           << expected << " parameters (norm scale, W_in, W_out per block"
           << (independent ? ", then the mixing weights" : "") << ") for "
           << numBlocks << " blocks, got " << getParams().size();
  for (size_t block = 0; block < numBlocks; ++block) {
    auto scale = cast<RankedTensorType>(getParams()[3 * block].getType());
    auto wIn = cast<RankedTensorType>(getParams()[3 * block + 1].getType());
    auto wOut = cast<RankedTensorType>(getParams()[3 * block + 2].getType());
    if (scale.getRank() != 1 || !areDimsCompatible(scale.getDimSize(0), width))
      return emitOpError("norm scale of block ")
             << block << " must be [" << width << "], got "
             << formatShape(scale.getShape());
    if (wIn.getRank() != 2 || !areDimsCompatible(wIn.getDimSize(1), width))
      return emitOpError("W_in of block ")
             << block << " must be [hidden, " << width << "], got "
             << formatShape(wIn.getShape());
    if (wOut.getRank() != 2 || !areDimsCompatible(wOut.getDimSize(0), width) ||
        !areDimsCompatible(wOut.getDimSize(1), wIn.getDimSize(0)))
      return emitOpError("W_out of block ")
             << block << " must be [" << width << ", " << wIn.getDimSize(0)
             << "], got " << formatShape(wOut.getShape());
  }
  if (independent) {
    auto mix = cast<RankedTensorType>(getParams().back().getType());
    if (mix.getRank() != 1 ||
        !areDimsCompatible(mix.getDimSize(0), numBlocks))
      return emitOpError("mixing weights must be [")
             << numBlocks << "], got " << formatShape(mix.getShape());
  }
  for (Value param : getParams())
    if (cast<RankedTensorType>(param.getType()).getElementType() !=
        input.getElementType())
      return emitOpError("parameters must have the input's element type ")
             << input.getElementType();

  bool learns = getSignal() != CmsSignal::None;
  if (learns && (!getLr() || getLr()->size() != numBlocks))
    return emitOpError("a learning CMS needs one learning rate per block "
                       "(lr with ")
           << numBlocks << " entries)";
  if (!learns && getLr())
    return emitOpError("lr is only meaningful when the blocks learn "
                       "(signal = task or local)");
  if (getSignal() == CmsSignal::Local && !getLocalObjective())
    return emitOpError("signal = local needs a local_objective");
  if (getSignal() != CmsSignal::Local && getLocalObjective())
    return emitOpError("local_objective is only used with signal = local");
  return success();
}

unsigned CMSOp::getNumComponents() { return getChunks().size(); }
std::string CMSOp::getComponentName(unsigned index) {
  return llvm::formatv("{0}[{1}]", getName(), index).str();
}
EveryAttr CMSOp::getComponentFrequency(unsigned index) {
  return EveryAttr::get(getContext(), getChunks()[index], TimeUnit::Tokens);
}
void CMSOp::getUpdateInputs(unsigned index, SmallVectorImpl<Value> &inputs) {
  // A sequential block learns from its predecessor's output (an internal
  // dependence); only the first block, and every independent block, sees
  // the op's input.
  if (index == 0 || getVariant() == CmsVariant::Independent)
    inputs.push_back(getInput());
}
void CMSOp::getInternalDependences(
    SmallVectorImpl<std::pair<unsigned, unsigned>> &deps) {
  // Nested resets of a faster block by a slower one take effect after the
  // slower block's update, i.e. for later tokens: not a same-token
  // dependence.
  if (getVariant() == CmsVariant::Independent)
    return;
  for (unsigned block = 1; block < getNumComponents(); ++block)
    deps.push_back({block - 1, block});
}
void CMSOp::getStateSources(SmallVectorImpl<StateSource> &sources) {
  for (unsigned block = 0; block < getNumComponents(); ++block)
    sources.push_back({getOperation(), block, /*sameToken=*/true});
}
