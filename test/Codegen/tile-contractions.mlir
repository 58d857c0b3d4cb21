// RUN: hope-opt %s --nl-tile-contractions --canonicalize --cse | FileCheck %s
// RUN: hope-opt %s --nl-tile-contractions=cache-bytes=8388608 | FileCheck %s --check-prefix=SMALL

// y[b, t, j] = sum_k x[b, t, k] w[k, j], w 512x1024 (2 MiB): tiled into
// blocks of 64 rows, 256 columns and 256 reduction steps, the reduction loop
// innermost so that every element still sums k in increasing order.
// CHECK-LABEL: func.func @projection
// CHECK: scf.for %[[T:.*]] = %c0 to %{{.*}} step %c64
// CHECK: scf.for %[[J:.*]] = %c0 to %c1024 step %c256
// CHECK: scf.for %[[K:.*]] = %c0 to %c512 step %c256
// CHECK: tensor.extract_slice %{{.*}}[%[[K]], %[[J]]] [256, 256] [1, 1] : tensor<512x1024xf32> to tensor<256x256xf32>
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<?x?x256xf32>, tensor<256x256xf32>)
// A weight that fits in the cache budget is left alone.
// SMALL-LABEL: func.func @projection
// SMALL-NOT: scf.for
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

// Elementwise ops and small contractions (the memories' per-chunk ones) are
// not tiled.
// CHECK-LABEL: func.func @small
// CHECK-NOT: scf.for
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
