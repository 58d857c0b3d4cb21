// RUN: hope-opt %s --nl-lower-vector-ops | FileCheck %s
// RUN: hope-opt %s --nl-lower-vector-ops=transpose-lowering=shuffle16x16 | FileCheck %s --check-prefix=AVX512

// A register block's step: one FMA per row of the accumulator, the row of w
// times the row's element of x broadcast.
// CHECK-LABEL: func.func @block_step
// CHECK-COUNT-4: vector.fma %{{.*}}, %{{.*}}, %{{.*}} : vector<16xf32>
// CHECK-NOT: vector.contract
#x = affine_map<(i, k, j) -> (i, k)>
#w = affine_map<(i, k, j) -> (k, j)>
#y = affine_map<(i, k, j) -> (i, j)>
func.func @block_step(%x: vector<4x1xf32>, %w: vector<1x16xf32>, %acc: vector<4x16xf32>) -> vector<4x16xf32> {
  %r = vector.contract {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "reduction", "parallel"], kind = #vector.kind<add>} %x, %w, %acc : vector<4x1xf32>, vector<1x16xf32> into vector<4x16xf32>
  return %r : vector<4x16xf32>
}

// A 16 x 16 tile of a transpose: one shuffle of the flattened tile by
// default, AVX-512's unpack/shuffle network on request.
// CHECK-LABEL: func.func @transpose_tile
// CHECK: vector.shuffle
// CHECK-NOT: vector.transpose
// AVX512-LABEL: func.func @transpose_tile
// AVX512-COUNT-64: vector.shuffle
// AVX512-NOT: vector.transpose
func.func @transpose_tile(%t: vector<16x16xf32>) -> vector<16x16xf32> {
  %r = vector.transpose %t, [1, 0] : vector<16x16xf32> to vector<16x16xf32>
  return %r : vector<16x16xf32>
}
