// nl-cuda-tile-contractions: a contraction outside the memory stages
// (x[b, t, k] @ W[n, k]^T, its accumulator a filled buffer copied in, as
// bufferization leaves it) becomes one gpu.launch of 64 x 64 output tiles:
// 256 threads, A and B tiles staged in workgroup memory by thread-strided
// loops, barriers around each k step's register-tile update, the tile
// written back where in bounds. The fill and the copy are gone: the
// accumulators start at the constant. (tile-contractions-skipped.mlir: what
// is left alone.)

// RUN: hope-opt %s --split-input-file --nl-cuda-tile-contractions --canonicalize --cse \
// RUN:   | FileCheck %s --check-prefixes=CHECK,EPILOGUE
// The tiled kernel, outlined, passes the race check; with the barrier after
// the tiles are staged removed (a planted race), it does not.
// RUN: hope-opt %s --split-input-file --nl-cuda-tile-contractions --nl-cuda-form-kernels \
// RUN:   --canonicalize --cse --gpu-kernel-outlining --nl-cuda-check-races \
// RUN:   | FileCheck %s --check-prefix=RACES
// RUN: hope-opt %s --nl-cuda-tile-contractions --nl-cuda-form-kernels \
// RUN:   --canonicalize --cse --gpu-kernel-outlining \
// RUN:   | sed -e '0,/gpu.barrier/{/gpu.barrier/d}' \
// RUN:   | not hope-opt --nl-cuda-check-races 2>&1 \
// RUN:   | FileCheck %s --check-prefix=PLANTED

#x = affine_map<(b, t, n, k) -> (b, t, k)>
#w = affine_map<(b, t, n, k) -> (n, k)>
#y = affine_map<(b, t, n, k) -> (b, t, n)>
#mv = affine_map<(b, n, k) -> (b, k)>
#mw = affine_map<(b, n, k) -> (n, k)>
#my = affine_map<(b, n, k) -> (b, n)>

// CHECK-LABEL: func.func @projection
// CHECK-NOT: linalg.fill
// CHECK-NOT: linalg.copy
// CHECK: %[[B:.*]] = memref.dim %arg0, %c0
// CHECK: %[[T:.*]] = memref.dim %arg0, %c1
// CHECK: %[[Y:.*]] = memref.alloc
// CHECK: %[[TILES_M:.*]] = arith.ceildivui %[[T]], %c64
// CHECK: %[[GRID_Y:.*]] = arith.maxui %[[TILES_M]], %c1
// CHECK: %[[GRID_Z:.*]] = arith.maxui %[[B]], %c1
// CHECK: gpu.launch blocks(%[[BX:.*]], %[[BY:.*]], %[[BZ:.*]]) in ({{.*}} = %c2, {{.*}} = %[[GRID_Y]], {{.*}} = %[[GRID_Z]]) threads(%[[TID:.*]], %{{.*}}, %{{.*}}) in ({{.*}} = %c256, {{.*}} = %c1, {{.*}} = %c1)
// CHECK-SAME: function(@contraction_0)
// CHECK-SAME: workgroup(%[[AS:.*]] : memref<64x17xf32, #gpu.address_space<workgroup>>, %[[BS:.*]] : memref<64x17xf32, #gpu.address_space<workgroup>>, %[[CS:.*]] : memref<16x256xf32, #gpu.address_space<workgroup>>)
// CHECK: scf.if
// The accumulators start at the fill's constant, each thread its column.
// CHECK-COUNT-16: memref.store %cst, %[[CS]][%{{.*}}, %[[TID]]]
// CHECK: scf.for %[[K:.*]] = %c0 to %c4 step %c1
// Tiles of A and B staged by loops from the thread id by the block size.
// CHECK: scf.for %{{.*}} = %[[TID]] to %c1024 step %c256
// CHECK: memref.load %arg0[%{{.*}}]
// CHECK: memref.store %{{.*}}, %[[AS]]
// CHECK: scf.for %{{.*}} = %[[TID]] to %c1024 step %c256
// CHECK: memref.load %arg1
// CHECK: memref.store %{{.*}}, %[[BS]]
// CHECK: gpu.barrier
// Each thread's 4 x 4 register tile over the step's 16 k.
// CHECK-COUNT-16: memref.load %[[CS]]
// CHECK: scf.for %{{.*}} = %c0 to %c16 step %c1 iter_args
// CHECK-COUNT-16: arith.mulf
// CHECK: scf.yield
// CHECK-COUNT-16: memref.store %{{.*}}, %[[CS]]
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: }
// CHECK-NEXT: gpu.barrier
// The tile to the output, consecutive threads on consecutive columns.
// CHECK: scf.for %{{.*}} = %[[TID]] to %c4096 step %c256
// CHECK: scf.if
// CHECK: %[[V:.*]] = memref.load %[[CS]]
// CHECK: memref.store %[[V]], %[[Y]][%{{.*}}, %{{.*}}, %{{.*}}] : memref<?x?x128xf32>
// CHECK: gpu.terminator
// CHECK-NOT: linalg.generic
// CHECK: return %[[Y]]
func.func @projection(%x: memref<?x?x64xf32>, %w: memref<128x64xf32>) -> memref<?x?x128xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %b = memref.dim %x, %c0 : memref<?x?x64xf32>
  %t = memref.dim %x, %c1 : memref<?x?x64xf32>
  %filled = memref.alloc(%b, %t) : memref<?x?x128xf32>
  linalg.fill ins(%zero : f32) outs(%filled : memref<?x?x128xf32>)
  %y = memref.alloc(%b, %t) : memref<?x?x128xf32>
  linalg.copy ins(%filled : memref<?x?x128xf32>) outs(%y : memref<?x?x128xf32>)
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x?x64xf32>, memref<128x64xf32>) outs(%y : memref<?x?x128xf32>) {
  ^bb0(%in: f32, %in_w: f32, %out: f32):
    %p = arith.mulf %in, %in_w : f32
    %s = arith.addf %out, %p : f32
    linalg.yield %s : f32
  }
  return %y : memref<?x?x128xf32>
}

// RACES: gpu.func @contraction_0
// RACES-SAME: workgroup
// RACES-SAME: known_block_size = array<i32: 256, 1, 1>
// RACES: gpu.barrier

// PLANTED: error: possible race on workgroup buffer #0 (memref<64x17xf32

// -----

// The elementwise consumer right after the contraction (here SiLU plus a
// residual, as the CMS layers end) runs in the kernel's epilogue: the
// kernel stores its result into the consumer's output (allocated after the
// contraction: the allocation moves before the kernel) and the
// contraction's own buffer is gone.

// EPILOGUE-LABEL: func.func @with_epilogue
// EPILOGUE: %[[Z:.*]] = memref.alloc
// EPILOGUE-NOT: memref.alloc
// EPILOGUE: gpu.launch
// EPILOGUE: memref.store %{{cst.*}}, %{{.*}}[%c0, %{{.*}}] : memref<16x256xf32, #gpu.address_space<workgroup>>
// EPILOGUE: gpu.barrier
// EPILOGUE: scf.for %{{.*}} = %{{.*}} to %c4096 step %c256
// EPILOGUE: scf.if
// EPILOGUE: %[[ACC:.*]] = memref.load %{{.*}}[%{{.*}}, %{{.*}}] : memref<16x256xf32, #gpu.address_space<workgroup>>
// EPILOGUE: %[[RES:.*]] = memref.load %arg2[%[[I:.*]], %[[J:.*]]]
// EPILOGUE: math.exp
// EPILOGUE: %[[OUT:.*]] = arith.addf %{{.*}}, %[[RES]]
// EPILOGUE: memref.store %[[OUT]], %[[Z]][%[[I]], %[[J]]]
// EPILOGUE: gpu.terminator
// EPILOGUE-NOT: linalg.generic
func.func @with_epilogue(%x: memref<?x64xf32>, %w: memref<64x128xf32>, %res: memref<?x128xf32>) -> memref<?x128xf32> {
  %c0 = arith.constant 0 : index
  %one = arith.constant 1.0 : f32
  %zero = arith.constant 0.0 : f32
  %m = memref.dim %x, %c0 : memref<?x64xf32>
  %y = memref.alloc(%m) : memref<?x128xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<?x128xf32>)
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x64xf32>, memref<64x128xf32>) outs(%y : memref<?x128xf32>) {
  ^bb0(%in: f32, %in_w: f32, %o: f32):
    %p = arith.mulf %in, %in_w : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  }
  %out = memref.alloc(%m) : memref<?x128xf32>
  linalg.generic {indexing_maps = [affine_map<(m, n) -> (m, n)>, affine_map<(m, n) -> (m, n)>, affine_map<(m, n) -> (m, n)>], iterator_types = ["parallel", "parallel"]}
      ins(%y, %res : memref<?x128xf32>, memref<?x128xf32>) outs(%out : memref<?x128xf32>) {
  ^bb0(%v: f32, %r: f32, %o: f32):
    %n = arith.negf %v : f32
    %e = math.exp %n : f32
    %d = arith.addf %e, %one : f32
    %g = arith.divf %v, %d : f32
    %a = arith.addf %g, %r : f32
    linalg.yield %a : f32
  }
  return %out : memref<?x128xf32>
}
