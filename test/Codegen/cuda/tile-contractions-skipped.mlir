// nl-cuda-tile-contractions leaves alone a matrix-vector product (no
// dimension of its own on one side: a 64 x 64 tile would be mostly idle),
// a contraction inside a chunk loop (the memory stage's kernel runs it), and
// a float64 one (its tiles would not fit 48 KiB of static shared memory).

// RUN: hope-opt %s --nl-cuda-tile-contractions | FileCheck %s

#mv = affine_map<(b, n, k) -> (b, k)>
#mw = affine_map<(b, n, k) -> (n, k)>
#my = affine_map<(b, n, k) -> (b, n)>

// CHECK-LABEL: func.func @matvec_and_chunk_loop
// CHECK-NOT: gpu.launch
// CHECK: linalg.generic
// CHECK: scf.for
// CHECK: linalg.generic
// CHECK: linalg.generic {{.*}} ins(%arg0, %arg1 : memref<?x64xf64>, memref<128x64xf64>)
func.func @matvec_and_chunk_loop(%x64: memref<?x64xf64>, %w64: memref<128x64xf64>, %y64: memref<?x128xf64>, %x: memref<?x64xf32>, %w: memref<128x64xf32>, %y: memref<?x128xf32>, %vec: memref<64xf32>, %res: memref<128xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // W @ v: the vector has no dimension of its own, not tiled.
  linalg.generic {indexing_maps = [affine_map<(n, k) -> (n, k)>, affine_map<(n, k) -> (k)>, affine_map<(n, k) -> (n)>], iterator_types = ["parallel", "reduction"]}
      ins(%w, %vec : memref<128x64xf32>, memref<64xf32>) outs(%res : memref<128xf32>) {
  ^bb0(%in: f32, %in_v: f32, %o: f32):
    %p = arith.mulf %in, %in_v : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  }
  // Inside a loop (a chunk loop): the memory stage's, not tiled here.
  scf.for %i = %c0 to %n step %c1 {
    linalg.generic {indexing_maps = [#mv, #mw, #my], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%x, %w : memref<?x64xf32>, memref<128x64xf32>) outs(%y : memref<?x128xf32>) {
    ^bb0(%in: f32, %in_w: f32, %o: f32):
      %p = arith.mulf %in, %in_w : f32
      %s = arith.addf %o, %p : f32
      linalg.yield %s : f32
    }
  }
  linalg.generic {indexing_maps = [#mv, #mw, #my], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x64, %w64 : memref<?x64xf64>, memref<128x64xf64>) outs(%y64 : memref<?x128xf64>) {
  ^bb0(%in: f64, %in_w: f64, %o: f64):
    %p = arith.mulf %in, %in_w : f64
    %s = arith.addf %o, %p : f64
    linalg.yield %s : f64
  }
  return
}

