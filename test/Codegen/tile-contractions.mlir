// RUN: hope-opt %s --nl-tile-contractions --canonicalize --cse | FileCheck %s
// RUN: hope-opt %s --nl-tile-contractions="cache-bytes=8388608 register-rows=0" | FileCheck %s --check-prefix=NONE
// RUN: hope-opt %s --nl-tile-contractions="vector-bytes=64" --canonicalize --cse | FileCheck %s --check-prefix=AVX512

// y[b, t, j] = sum_k x[b, t, k] w[k, j], w 512x1024 (2 MiB). Threads: a
// forall over batches, blocks of 64 tokens and blocks of 256 columns.
// Caches: blocks of 256 reduction steps. Registers: full blocks of 8 rows
// and 2 vectors of 32 bytes (16 floats), over k one step at a time; the
// partial row block is peeled off. The reduction loop is innermost at every
// level.
// CHECK-LABEL: func.func @projection
// CHECK: scf.forall (%[[B:.*]], %[[T:.*]], %[[J:.*]]) = (0, 0, 0) to (%{{.*}}, %{{.*}}, 1024) step (1, 64, 256)
// CHECK: %[[ROWS:.*]] = affine.min #{{.*}}(%[[T]])
// CHECK: %[[WJ:.*]] = tensor.extract_slice %arg1[0, %[[J]]] [512, 256] [1, 1] : tensor<512x1024xf32> to tensor<512x256xf32>
// CHECK: scf.for %[[K:.*]] = %c0 to %c512 step %c256
// CHECK: tensor.extract_slice %[[WJ]][%[[K]], 0] [256, 256] [1, 1] : tensor<512x256xf32> to tensor<256x256xf32>
// CHECK: %[[FULL:.*]] = affine.apply #{{.*}}()[%[[ROWS]]]
// CHECK: scf.for %[[R:.*]] = %c0 to %[[FULL]] step %c8
// CHECK: scf.for %[[JR:.*]] = %c0 to %c256 step %c16
// CHECK: scf.for %[[KR:.*]] = %c0 to %c256 step %c1
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<1x8x1xf32>, tensor<1x16xf32>) outs(%{{.*}} : tensor<1x8x16xf32>) attrs = {nlcpu.register_tile}
// The peeled rows: one op over the whole cache block, unmarked (plain
// loops later).
// CHECK: scf.for %{{.*}} = %[[FULL]] to %[[ROWS]] step %c8
// CHECK-NOT: scf.for
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<1x?x256xf32>, tensor<256x256xf32>) outs(%{{.*}} : tensor<1x?x256xf32>) {
// CHECK: tensor.parallel_insert_slice
// With AVX-512 vectors, a register block is 8 rows of 32 floats.
// AVX512-LABEL: func.func @projection
// AVX512: ins(%{{.*}}, %{{.*}} : tensor<1x8x1xf32>, tensor<1x32xf32>) outs(%{{.*}} : tensor<1x8x32xf32>)
// A weight that fits in the cache budget, with register tiling off, is
// left alone.
// NONE-LABEL: func.func @projection
// NONE-NOT: scf.for
// NONE-NOT: scf.forall
#x = affine_map<(b, t, k, j) -> (b, t, k)>
#w = affine_map<(b, t, k, j) -> (k, j)>
#y = affine_map<(b, t, k, j) -> (b, t, j)>
func.func @projection(%x: tensor<?x?x512xf32>, %w: tensor<512x1024xf32>,
                      %init: tensor<?x?x1024xf32>) -> tensor<?x?x1024xf32> {
  %y = linalg.generic {indexing_maps = [#x, #w, #y],
                       iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
      ins(%x, %w : tensor<?x?x512xf32>, tensor<512x1024xf32>)
      outs(%init : tensor<?x?x1024xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x?x1024xf32>
  return %y : tensor<?x?x1024xf32>
}

// A small contraction (the memories' per-chunk ones): no cache tiles, no
// thread loop for a single block of rows; register blocks only, and none
// peeled (8 rows, 64 columns divide exactly).
// CHECK-LABEL: func.func @small
// CHECK-NOT: scf.forall
// CHECK: scf.for %[[J:.*]] = %c0 to %c64 step %c16
// CHECK: scf.for %[[K:.*]] = %c0 to %c64 step %c1
// CHECK: linalg.generic
// CHECK-SAME: tensor<8x1xf32>, tensor<1x16xf32>
// CHECK-NOT: scf.for
// CHECK: return
#m = affine_map<(i, k, j) -> (i, k)>
#n = affine_map<(i, k, j) -> (k, j)>
#o = affine_map<(i, k, j) -> (i, j)>
func.func @small(%a: tensor<8x64xf32>, %b: tensor<64x64xf32>, %c: tensor<8x64xf32>) -> tensor<8x64xf32> {
  %r = linalg.generic {indexing_maps = [#m, #n, #o],
                       iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %b : tensor<8x64xf32>, tensor<64x64xf32>) outs(%c : tensor<8x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x64xf32>
  return %r : tensor<8x64xf32>
}

// Elementwise ops and contractions over a dynamic innermost dimension are
// not tiled.
// CHECK-LABEL: func.func @dynamic_columns
// CHECK-NOT: scf.for
#p = affine_map<(i, k, j) -> (i, k)>
#q = affine_map<(i, k, j) -> (k, j)>
#r = affine_map<(i, k, j) -> (i, j)>
func.func @dynamic_columns(%a: tensor<8x64xf32>, %b: tensor<64x?xf32>, %c: tensor<8x?xf32>) -> tensor<8x?xf32> {
  %r = linalg.generic {indexing_maps = [#p, #q, #r],
                       iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %b : tensor<8x64xf32>, tensor<64x?xf32>) outs(%c : tensor<8x?xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x?xf32>
  return %r : tensor<8x?xf32>
}

// A transpose of the two innermost dimensions: square tiles of one vector
// (16 floats with 64-byte vectors), shared among threads, each marked to be
// transposed in registers.
// CHECK-LABEL: func.func @transpose
// CHECK: scf.forall {{.*}} step (1, 1, 8, 8)
// AVX512-LABEL: func.func @transpose
// AVX512: scf.forall (%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) = (0, 0, 0, 0) to (%{{.*}}, 8, 32, 64) step (1, 1, 16, 16)
// AVX512: linalg.generic
// AVX512-SAME: ins(%{{.*}} : tensor<1x1x16x16xf32>) outs(%{{.*}} : tensor<1x1x16x16xf32>) attrs = {nlcpu.register_tile}
// A transpose that keeps the contiguous dimension last copies whole rows:
// left alone.
// AVX512-LABEL: func.func @rows
// AVX512-NOT: scf.forall
// AVX512: linalg.transpose
func.func @transpose(%w: tensor<?x8x64x32xf32>) -> tensor<?x8x32x64xf32> {
  %c0 = arith.constant 0 : index
  %b = tensor.dim %w, %c0 : tensor<?x8x64x32xf32>
  %init = tensor.empty(%b) : tensor<?x8x32x64xf32>
  %t = linalg.transpose ins(%w : tensor<?x8x64x32xf32>) outs(%init : tensor<?x8x32x64xf32>) permutation = [0, 1, 3, 2]
  return %t : tensor<?x8x32x64xf32>
}
func.func @rows(%w: tensor<4x8x64xf32>) -> tensor<8x4x64xf32> {
  %init = tensor.empty() : tensor<8x4x64xf32>
  %t = linalg.transpose ins(%w : tensor<4x8x64xf32>) outs(%init : tensor<8x4x64xf32>) permutation = [1, 0, 2]
  return %t : tensor<8x4x64xf32>
}

// A weight's gradient, dW[j, k] = sum_{b, t} dY[b, t, j] X[b, t, k] (what
// nl-differentiate makes of a projection; its body reads the weight too,
// for the forward it recomputes, and does not use it): the two adjacent
// reduction loops are collapsed into one (MLIR's collapseOpIterationDims),
// then tiled like any contraction, k innermost.
// CHECK-LABEL: func.func @weight_gradient
// CHECK: tensor.collapse_shape %arg0 {{\[}}[0, 1], [2]] : tensor<?x?x64xf32> into tensor<?x64xf32>
// CHECK: tensor.collapse_shape %arg2 {{\[}}[0, 1], [2]] : tensor<?x?x512xf32> into tensor<?x512xf32>
// CHECK: scf.forall (%{{.*}}) = (0) to (512) step (256)
// CHECK: scf.for %{{.*}} = %c0 to %c64 step %c8
// CHECK: scf.for %{{.*}} = %c0 to %c256 step %c16
// CHECK: scf.for %{{.*}} = %c0 to %{{.*}} step %c1
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["reduction", "parallel", "parallel"]
// CHECK-SAME: ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<1x8xf32>, tensor<8x16xf32>, tensor<1x16xf32>) outs(%{{.*}} : tensor<8x16xf32>) attrs = {nlcpu.register_tile}
#dy = affine_map<(b, t, j, k) -> (b, t, j)>
#wg = affine_map<(b, t, j, k) -> (j, k)>
#xg = affine_map<(b, t, j, k) -> (b, t, k)>
func.func @weight_gradient(%dy: tensor<?x?x64xf32>, %w: tensor<64x512xf32>,
                           %x: tensor<?x?x512xf32>, %init: tensor<64x512xf32>) -> tensor<64x512xf32> {
  %0 = linalg.generic {indexing_maps = [#dy, #wg, #xg, #wg],
                       iterator_types = ["reduction", "reduction", "parallel", "parallel"]}
      ins(%dy, %w, %x : tensor<?x?x64xf32>, tensor<64x512xf32>, tensor<?x?x512xf32>)
      outs(%init : tensor<64x512xf32>) {
  ^bb0(%a: f32, %unused: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<64x512xf32>
  return %0 : tensor<64x512xf32>
}

// Two reduction loops that are not adjacent are left alone.
// CHECK-LABEL: func.func @split_reductions
// CHECK-NOT: scf.for
// CHECK-NOT: collapse_shape
#sa = affine_map<(t, j, h, k) -> (t, j, h)>
#sb = affine_map<(t, j, h, k) -> (t, h, k)>
#sc = affine_map<(t, j, h, k) -> (j, k)>
func.func @split_reductions(%a: tensor<?x64x4xf32>, %b: tensor<?x4x512xf32>,
                            %init: tensor<64x512xf32>) -> tensor<64x512xf32> {
  %0 = linalg.generic {indexing_maps = [#sa, #sb, #sc],
                       iterator_types = ["reduction", "parallel", "reduction", "parallel"]}
      ins(%a, %b : tensor<?x64x4xf32>, tensor<?x4x512xf32>) outs(%init : tensor<64x512xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<64x512xf32>
  return %0 : tensor<64x512xf32>
}
