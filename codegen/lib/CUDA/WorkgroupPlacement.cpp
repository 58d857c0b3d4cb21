//===- WorkgroupPlacement.cpp - carried buffers in workgroup memory -------===//
//
//   host:   %state = alloc(B) : memref<?xHxDxEx f32>        (the loop's result)
//   kernel: %smem = gpu.dynamic_shared_memory
//           %w = view %smem[offset] : memref<1x1xDxExf32, workgroup>
//           every load/store %state[b, h, i, j] -> %w[0, 0, i, j]
//           (through subviews and casts that keep dimensions 0 and 1)
//           ... chunk loop ...
//           barrier; %state[b, h, :, :] = %w[0, 0, :, :]   (if the host reads it)
//
//===----------------------------------------------------------------------===//

#include "WorkgroupPlacement.h"
#include "StridedLoop.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/SmallBitVector.h"

using namespace mlir;
using namespace mlir::nl::cuda;

namespace {

/// Workgroup slices start at multiples of this many bytes.
constexpr int64_t kSliceAlignment = 16;

bool atBlockSlice(ValueRange indices, const StageBlock &block) {
  return indices.size() >= 2 && indices[0] == block.blockB &&
         isHeadIndex(indices[1], block.blockH, block.heads);
}

/// Whether a subview keeps dimensions 0 and 1 whole and in place.
bool keepsBatchAndHead(memref::SubViewOp subview) {
  ArrayRef<int64_t> offsets = subview.getStaticOffsets();
  ArrayRef<int64_t> strides = subview.getStaticStrides();
  llvm::SmallBitVector dropped = subview.getDroppedDims();
  return offsets.size() >= 2 && offsets[0] == 0 && offsets[1] == 0 &&
         strides[0] == 1 && strides[1] == 1 && !dropped.test(0) &&
         !dropped.test(1);
}

/// The first op inside the launch that uses `value` otherwise than at the
/// block's slice, or null.
Operation *findUnsupportedUse(Value value, const StageBlock &block) {
  for (OpOperand &use : value.getUses()) {
    Operation *owner = use.getOwner();
    if (!block.launch->isProperAncestor(owner))
      continue;
    if (auto load = dyn_cast<memref::LoadOp>(owner)) {
      if (!atBlockSlice(load.getIndices(), block))
        return owner;
      continue;
    }
    if (auto store = dyn_cast<memref::StoreOp>(owner)) {
      if (store.getMemRef() != value ||
          !atBlockSlice(store.getIndices(), block))
        return owner;
      continue;
    }
    if (auto dim = dyn_cast<memref::DimOp>(owner)) {
      if (!dim.getConstantIndex())
        return owner;
      continue;
    }
    if (auto subview = dyn_cast<memref::SubViewOp>(owner)) {
      if (!keepsBatchAndHead(subview))
        return owner;
      if (Operation *inner = findUnsupportedUse(subview.getResult(), block))
        return inner;
      continue;
    }
    if (auto cast = dyn_cast<memref::CastOp>(owner)) {
      if (Operation *inner = findUnsupportedUse(cast.getResult(), block))
        return inner;
      continue;
    }
    return owner;
  }
  return nullptr;
}

/// Sends every use of `from` inside the launch to `to`, the block's slice
/// (dimensions 0 and 1 of size 1).
void redirect(Value from, Value to, const StageBlock &block, Value zero) {
  for (OpOperand &use : llvm::make_early_inc_range(from.getUses())) {
    Operation *owner = use.getOwner();
    if (!block.launch->isProperAncestor(owner))
      continue;
    OpBuilder b(owner);
    Location loc = owner->getLoc();
    if (isa<memref::LoadOp>(owner)) {
      owner->setOperand(0, to);
      owner->setOperand(1, zero);
      owner->setOperand(2, zero);
      continue;
    }
    if (isa<memref::StoreOp>(owner)) {
      owner->setOperand(1, to);
      owner->setOperand(2, zero);
      owner->setOperand(3, zero);
      continue;
    }
    if (auto dim = dyn_cast<memref::DimOp>(owner)) {
      int64_t d = *dim.getConstantIndex();
      auto type = cast<MemRefType>(from.getType());
      Value size;
      if (d == 0)
        size = block.batch;
      else if (d == 1 || !type.isDynamicDim(d))
        size = arith::ConstantIndexOp::create(
            b, loc, d == 1 ? block.heads : type.getDimSize(d));
      else
        size = memref::DimOp::create(b, loc, to, d);
      dim.replaceAllUsesWith(size);
      dim.erase();
      continue;
    }
    if (auto subview = dyn_cast<memref::SubViewOp>(owner)) {
      SmallVector<OpFoldResult> sizes = subview.getMixedSizes();
      sizes[0] = b.getIndexAttr(1);
      sizes[1] = b.getIndexAttr(1);
      SmallVector<int64_t> shape(subview.getType().getShape());
      shape[0] = 1;
      shape[1] = 1;
      MemRefType type = memref::SubViewOp::inferRankReducedResultType(
          shape, cast<MemRefType>(to.getType()), subview.getMixedOffsets(),
          sizes, subview.getMixedStrides());
      auto slice = memref::SubViewOp::create(b, loc, type, to,
                                             subview.getMixedOffsets(), sizes,
                                             subview.getMixedStrides());
      redirect(subview.getResult(), slice.getResult(), block, zero);
      if (subview->use_empty())
        subview.erase();
      continue;
    }
    if (auto castOp = dyn_cast<memref::CastOp>(owner)) {
      redirect(castOp.getResult(), to, block, zero);
      if (castOp->use_empty())
        castOp.erase();
      continue;
    }
  }
}

/// The bytes of one block's slice of a [batch, heads, ...] buffer (dynamic
/// dimensions at their `bounds`, in order), or why it has no fixed size.
FailureOr<int64_t> sliceBytes(MemRefType type, ArrayRef<int64_t> bounds,
                              std::string &why) {
  if (!type.getLayout().isIdentity() || type.getMemorySpace() ||
      !type.getElementType().isIntOrFloat() || type.getRank() < 2) {
    why = "it is not a plain [batch, heads, ...] buffer of numbers in "
          "global memory";
    return failure();
  }
  int64_t bytes = type.getElementTypeBitWidth() / 8;
  for (int64_t d = 2; d < type.getRank(); ++d) {
    if (type.isDynamicDim(d)) {
      if (d - 2 >= static_cast<int64_t>(bounds.size()) ||
          bounds[d - 2] <= 0) {
        why = "its slice per (batch, head) has the unbounded dynamic size "
              "of dimension " +
              std::to_string(d);
        return failure();
      }
      bytes *= bounds[d - 2];
      continue;
    }
    bytes *= type.getDimSize(d);
  }
  return bytes;
}

} // namespace

bool mlir::nl::cuda::isHeadIndex(Value index, Value blockH, int64_t heads) {
  return index == blockH || (heads == 1 && isConstantIntValue(index, 0));
}

SmallVector<Value>
mlir::nl::cuda::placeInWorkgroupMemory(const StageBlock &block,
                                       ArrayRef<WorkgroupCandidate> candidates,
                                       int64_t limitBytes) {
  gpu::LaunchOp launch = block.launch;
  Location loc = launch.getLoc();
  MLIRContext *ctx = launch.getContext();
  Block &body = launch.getBody().front();
  auto workgroup = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);

  // MLIR declares dynamic shared memory as a 1-byte static `.shared`
  // symbol (16-byte aligned), which ptxas counts against the same limit.
  limitBytes -= kSliceAlignment;

  // Where each candidate goes, in order: workgroup memory while it fits,
  // then (scratch only) the block's slot of a global arena.
  struct Placement {
    const WorkgroupCandidate *candidate;
    SmallVector<int64_t> shape; // [1, 1, bounds...]
    bool onChip;
    int64_t offset;
  };
  int64_t used = 0, arenaBytes = 0;
  SmallVector<Placement> placements;
  for (const WorkgroupCandidate &candidate : candidates) {
    auto type = cast<MemRefType>(candidate.buffer.getType());
    auto remark = [&](const Twine &why) {
      if (!candidate.scratch)
        emitRemark(loc) << "kernel " << block.name << ": " << candidate.what
                        << " (" << type << ") stays in global memory: "
                        << why;
    };
    std::string why;
    FailureOr<int64_t> bytes = sliceBytes(type, candidate.bounds, why);
    if (failed(bytes)) {
      remark(why);
      continue;
    }
    if (Operation *use = findUnsupportedUse(candidate.buffer, block)) {
      std::string where;
      llvm::raw_string_ostream os(where);
      use->getLoc().print(os);
      remark("'" + use->getName().getStringRef() + "' at " + where +
             " does not access it at the block's (batch, head)");
      continue;
    }
    SmallVector<int64_t> shape = {1, 1};
    for (int64_t d = 2; d < type.getRank(); ++d)
      shape.push_back(type.isDynamicDim(d) ? candidate.bounds[d - 2]
                                           : type.getDimSize(d));
    int64_t offset = llvm::alignTo(used, kSliceAlignment);
    if (offset + *bytes <= limitBytes) {
      used = offset + *bytes;
      placements.push_back({&candidate, shape, true, offset});
      continue;
    }
    if (candidate.scratch) {
      int64_t slot = llvm::alignTo(arenaBytes, kSliceAlignment);
      arenaBytes = slot + *bytes;
      placements.push_back({&candidate, shape, false, slot});
      continue;
    }
    remark("its " + Twine(*bytes) + " bytes per block do not fit: " +
           Twine(offset) + " of the " + Twine(limitBytes) +
           " bytes of workgroup memory per block are taken");
  }
  if (placements.empty())
    return {};

  OpBuilder kb = OpBuilder::atBlockBegin(&body);
  Value zero = arith::ConstantIndexOp::create(kb, loc, 0);
  Value smem;
  if (used) {
    auto bytesType = MemRefType::get({ShapedType::kDynamic}, kb.getI8Type(),
                                     MemRefLayoutAttrInterface(), workgroup);
    smem = gpu::DynamicSharedMemoryOp::create(kb, loc, bytesType);
  }
  // The arena: one slot of `slotBytes` per block, allocated on the host.
  Value arena, slotBase;
  if (arenaBytes) {
    int64_t slotBytes = llvm::alignTo(arenaBytes, kSliceAlignment);
    OpBuilder hb(launch);
    Value blocks = arith::MulIOp::create(
        hb, loc, block.batch,
        arith::ConstantIndexOp::create(hb, loc, block.heads * slotBytes));
    arena = memref::AllocOp::create(
        hb, loc, MemRefType::get({ShapedType::kDynamic}, hb.getI8Type()),
        ValueRange{blocks});
    Value index = arith::AddIOp::create(
        kb, loc,
        arith::MulIOp::create(
            kb, loc, block.blockB,
            arith::ConstantIndexOp::create(kb, loc, block.heads)),
        block.blockH);
    slotBase = arith::MulIOp::create(
        kb, loc, index, arith::ConstantIndexOp::create(kb, loc, slotBytes));
  }

  SmallVector<Value> unused;
  bool copiedBack = false;
  for (const Placement &placement : placements) {
    const WorkgroupCandidate &candidate = *placement.candidate;
    auto type = cast<MemRefType>(candidate.buffer.getType());
    auto sliceType =
        MemRefType::get(placement.shape, type.getElementType(),
                        MemRefLayoutAttrInterface(),
                        placement.onChip ? Attribute(workgroup) : Attribute());
    Value offset = arith::ConstantIndexOp::create(kb, loc, placement.offset);
    if (!placement.onChip)
      offset = arith::AddIOp::create(kb, loc, slotBase, offset);
    Value slice = memref::ViewOp::create(kb, loc, sliceType,
                                         placement.onChip ? smem : arena,
                                         offset, ValueRange{});
    // A buffer of the kernel with dynamic sizes: its part of the slice.
    bool dynamicSlice = llvm::any_of(
        llvm::drop_begin(type.getShape(), 2),
        [](int64_t size) { return ShapedType::isDynamic(size); });
    if (dynamicSlice) {
      if (auto alloc = candidate.buffer.getDefiningOp<memref::AllocOp>();
          alloc && launch->isProperAncestor(alloc)) {
        OpBuilder ab(alloc);
        SmallVector<OpFoldResult> offsets(type.getRank(), ab.getIndexAttr(0));
        SmallVector<OpFoldResult> strides(type.getRank(), ab.getIndexAttr(1));
        SmallVector<OpFoldResult> sizes = {ab.getIndexAttr(1),
                                           ab.getIndexAttr(1)};
        for (int64_t d = 2; d < type.getRank(); ++d)
          sizes.push_back(
              type.isDynamicDim(d)
                  ? OpFoldResult(
                        alloc.getDynamicSizes()[type.getDynamicDimIndex(d)])
                  : OpFoldResult(ab.getIndexAttr(type.getDimSize(d))));
        slice = memref::SubViewOp::create(ab, loc, slice, offsets, sizes,
                                          strides);
      }
    }
    redirect(candidate.buffer, slice, block, zero);

    // The host reads the final value: copy it back after the last chunk.
    bool hostReads = llvm::any_of(candidate.buffer.getUsers(),
                                  [&](Operation *user) {
                                    return !launch->isAncestor(user);
                                  });
    if (hostReads) {
      OpBuilder eb(body.getTerminator());
      if (!copiedBack)
        gpu::BarrierOp::create(eb, loc);
      copiedBack = true;
      SmallVector<Value> extents;
      for (int64_t d = 2; d < type.getRank(); ++d)
        extents.push_back(
            arith::ConstantIndexOp::create(eb, loc, type.getDimSize(d)));
      emitStridedLoop(eb, loc, block.thread, block.threadCount, extents,
                      [&](OpBuilder &nb, ArrayRef<Value> indices) {
                        SmallVector<Value> from = {zero, zero};
                        SmallVector<Value> to = {block.blockB, block.blockH};
                        llvm::append_range(from, indices);
                        llvm::append_range(to, indices);
                        Value value =
                            memref::LoadOp::create(nb, loc, slice, from);
                        memref::StoreOp::create(nb, loc, value,
                                                candidate.buffer, to);
                      });
    }
    if (candidate.buffer.use_empty())
      unused.push_back(candidate.buffer);
  }

  if (used) {
    OpBuilder hb(launch);
    Value size = arith::ConstantIntOp::create(
        hb, loc, hb.getI32Type(), llvm::alignTo(used, kSliceAlignment));
    launch.getDynamicSharedMemorySizeMutable().assign(size);
  }
  return unused;
}
