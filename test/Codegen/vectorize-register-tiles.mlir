// RUN: hope-opt %s --nl-tile-contractions=vector-bytes=64 --canonicalize --cse --nl-vectorize-register-tiles --canonicalize | FileCheck %s

// A full 8 x 32 register block of y[t, j] += x[t, k] w[k, j]: its
// accumulator is read once before the loop over k, carried through it as a
// vector (registers), and written once after it; each step is one
// contraction of a column of x with a row of w.
// CHECK-LABEL: func.func @projection
// CHECK: scf.for %[[R:.*]] = %c0 to %{{.*}} step %c8
// CHECK: scf.for %[[J:.*]] = %c0 to %c128 step %c32
// CHECK: %[[BLOCK:.*]] = tensor.extract_slice %{{.*}}[0, %[[J]]] [8, 32] [1, 1] : tensor<8x128xf32> to tensor<8x32xf32>
// CHECK: %[[ACC:.*]] = vector.transfer_read %[[BLOCK]][%c0, %c0], %{{.*}} {in_bounds = [true, true]} : tensor<8x32xf32>, vector<8x32xf32>
// CHECK: %[[SUM:.*]] = scf.for %[[K:.*]] = %c0 to %c96 step %c1 iter_args(%[[A:.*]] = %[[ACC]]) -> (vector<8x32xf32>)
// CHECK: %[[XK:.*]] = vector.transfer_read %arg0[%{{.*}}, %[[K]]], %{{.*}} : tensor<?x96xf32>, vector<8x1xf32>
// CHECK: %[[WK:.*]] = vector.transfer_read %arg1[%[[K]], %{{.*}}], %{{.*}} : tensor<96x128xf32>, vector<1x32xf32>
// CHECK: %[[NEXT:.*]] = vector.contract {{.*}} %[[XK]], %[[WK]], %[[A]] : vector<8x1xf32>, vector<1x32xf32> into vector<8x32xf32>
// CHECK: scf.yield %[[NEXT]] : vector<8x32xf32>
// CHECK: vector.transfer_write %[[SUM]], %[[BLOCK]][%c0, %c0] {in_bounds = [true, true]} : vector<8x32xf32>, tensor<8x32xf32>
// The partial block of the last rows stays one linalg op over every k,
// unmarked.
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c8
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}}, %arg1 : tensor<?x96xf32>, tensor<96x128xf32>)
// CHECK-NOT: nlcpu.register_tile
#x = affine_map<(t, k, j) -> (t, k)>
#w = affine_map<(t, k, j) -> (k, j)>
#y = affine_map<(t, k, j) -> (t, j)>
func.func @projection(%x: tensor<?x96xf32>, %w: tensor<96x128xf32>,
                      %init: tensor<?x128xf32>) -> tensor<?x128xf32> {
  %y = linalg.generic {indexing_maps = [#x, #w, #y],
                       iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %w : tensor<?x96xf32>, tensor<96x128xf32>)
      outs(%init : tensor<?x128xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x128xf32>
  return %y : tensor<?x128xf32>
}

// A tile of a transpose: one vector read, a transpose in registers, one
// vector write.
// CHECK-LABEL: func.func @transpose
// CHECK: scf.forall
// CHECK: %[[TILE:.*]] = vector.transfer_read %arg0[%{{.*}}, %{{.*}}, %[[J:.*]], %[[I:.*]]], %{{.*}} {in_bounds = [true, true]} : tensor<?x8x64x32xf32>, vector<16x16xf32>
// CHECK: %[[T:.*]] = vector.transpose %[[TILE]], [1, 0] : vector<16x16xf32> to vector<16x16xf32>
// CHECK: vector.transfer_write %[[T]]
func.func @transpose(%w: tensor<?x8x64x32xf32>) -> tensor<?x8x32x64xf32> {
  %c0 = arith.constant 0 : index
  %b = tensor.dim %w, %c0 : tensor<?x8x64x32xf32>
  %init = tensor.empty(%b) : tensor<?x8x32x64xf32>
  %t = linalg.transpose ins(%w : tensor<?x8x64x32xf32>) outs(%init : tensor<?x8x32x64xf32>) permutation = [0, 1, 3, 2]
  return %t : tensor<?x8x32x64xf32>
}
