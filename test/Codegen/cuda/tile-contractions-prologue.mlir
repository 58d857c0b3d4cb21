// nl-cuda-tile-contractions: the elementwise producer of a contraction's
// input (an RMSNorm's scaling x * r * g before a projection, r a per-row
// scale and g a per-column gain, each broadcast; a weight scaled by a
// scalar) runs while the tile of that input is staged: the kernel reads the
// producer's inputs, and the producer is gone (its buffer too, or, where
// bufferization reuses the buffer, the next op that overwrites it stays).
// Left alone: a producer whose buffer is read after the contraction, and one
// whose input is written between it and the contraction.

// RUN: hope-opt %s --split-input-file --nl-cuda-tile-contractions --canonicalize --cse \
// RUN:   | FileCheck %s
// The fused kernels, outlined, pass the race check (the loop nests left,
// fills and unfused producers, lowered as the CUDA pipeline does).
// RUN: hope-opt %s --split-input-file --pass-pipeline="builtin.module(nl-cuda-tile-contractions, \
// RUN:   func.func(convert-linalg-to-parallel-loops), nl-cuda-form-kernels, canonicalize, cse, \
// RUN:   gpu-kernel-outlining, nl-cuda-check-races)" \
// RUN:   | FileCheck %s --check-prefix=RACES
// Without the barrier after the rows' values are kept (the last case's
// first barrier: a planted race), it does not.
// RUN: hope-opt %s --split-input-file --pass-pipeline="builtin.module(nl-cuda-tile-contractions, \
// RUN:   func.func(convert-linalg-to-parallel-loops), nl-cuda-form-kernels, canonicalize, cse, \
// RUN:   gpu-kernel-outlining)" \
// RUN:   | awk 'BEGIN { RS = "-----" } END { print $0 }' \
// RUN:   | sed -e '0,/gpu.barrier/{/gpu.barrier/d}' \
// RUN:   | not hope-opt --nl-cuda-check-races 2>&1 \
// RUN:   | FileCheck %s --check-prefix=PLANTED

#x = affine_map<(b, t, n, k) -> (b, t, k)>
#w = affine_map<(b, t, n, k) -> (n, k)>
#y = affine_map<(b, t, n, k) -> (b, t, n)>
#id = affine_map<(b, t, d) -> (b, t, d)>
#row = affine_map<(b, t, d) -> (b, t)>
#col = affine_map<(b, t, d) -> (d)>

// CHECK-LABEL: func.func @norm_projection
// CHECK-NOT: linalg.generic
// CHECK: %[[Y:.*]] = memref.alloc
// CHECK-NOT: memref.alloc
// CHECK: gpu.launch
// CHECK-SAME: workgroup(%[[AS:.*]] : memref<64x17xf32, #gpu.address_space<workgroup>>, %[[BS:.*]] : memref<64x17xf32, #gpu.address_space<workgroup>>
// CHECK: scf.for %{{.*}} = %c0 to %c4 step %c1
// A's tile: x, the row's scale and the column's gain, read at the element's
// indices and multiplied, stored to the tile.
// CHECK: scf.for
// CHECK: %[[XV:.*]] = memref.load %arg0[%[[B:.*]], %[[T:.*]], %[[K:.*]]] : memref<?x?x64xf32>
// CHECK-NEXT: %[[RV:.*]] = memref.load %arg1[%[[B]], %[[T]]] : memref<?x?xf32>
// CHECK-NEXT: %[[GV:.*]] = memref.load %arg2[%[[K]]] : memref<64xf32>
// CHECK-NEXT: %[[XR:.*]] = arith.mulf %[[XV]], %[[RV]]
// CHECK-NEXT: %[[XRG:.*]] = arith.mulf %[[XR]], %[[GV]]
// CHECK-NEXT: memref.store %[[XRG]], %[[AS]]
// B's tile: the weight as it is.
// CHECK: scf.for
// CHECK: memref.load %arg3
// CHECK: memref.store %{{.*}}, %[[BS]]
// CHECK: gpu.barrier
// CHECK: memref.store %{{.*}}, %[[Y]]
// CHECK: gpu.terminator
// CHECK-NOT: linalg.generic
// CHECK: return %[[Y]]
func.func @norm_projection(%x: memref<?x?x64xf32>, %r: memref<?x?xf32>, %g: memref<64xf32>, %w: memref<128x64xf32>) -> memref<?x?x128xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %b = memref.dim %x, %c0 : memref<?x?x64xf32>
  %t = memref.dim %x, %c1 : memref<?x?x64xf32>
  %normed = memref.alloc(%b, %t) : memref<?x?x64xf32>
  linalg.generic {indexing_maps = [#id, #row, #col, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %r, %g : memref<?x?x64xf32>, memref<?x?xf32>, memref<64xf32>) outs(%normed : memref<?x?x64xf32>) {
  ^bb0(%xv: f32, %rv: f32, %gv: f32, %o: f32):
    %xr = arith.mulf %xv, %rv : f32
    %xrg = arith.mulf %xr, %gv : f32
    linalg.yield %xrg : f32
  }
  %y = memref.alloc(%b, %t) : memref<?x?x128xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<?x?x128xf32>)
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%normed, %w : memref<?x?x64xf32>, memref<128x64xf32>) outs(%y : memref<?x?x128xf32>) {
  ^bb0(%in: f32, %in_w: f32, %out: f32):
    %p = arith.mulf %in, %in_w : f32
    %s = arith.addf %out, %p : f32
    linalg.yield %s : f32
  }
  return %y : memref<?x?x128xf32>
}

// RACES: gpu.func @contraction_0
// RACES-SAME: known_block_size = array<i32: 256, 1, 1>

// -----

// The second input (B) produced: a weight scaled by a scalar operand (no
// buffer to read), through a transposing output map (scaled[n, k] =
// s * wkn[k, n]).

// CHECK-LABEL: func.func @scaled_weight
// CHECK-NOT: linalg.generic
// CHECK: gpu.launch
// CHECK-SAME: workgroup(%[[AS:.*]] : memref<64x17xf32, #gpu.address_space<workgroup>>, %[[BS:.*]] : memref<64x17xf32, #gpu.address_space<workgroup>>
// CHECK: scf.for
// CHECK: memref.load %arg0
// CHECK: memref.store %{{.*}}, %[[AS]]
// CHECK: scf.for
// CHECK: %[[WV:.*]] = memref.load %arg1[%[[K:.*]], %[[N:.*]]] : memref<64x128xf32>
// CHECK-NEXT: %[[SW:.*]] = arith.mulf %[[WV]], %arg2
// CHECK-NEXT: memref.store %[[SW]], %[[BS]]
// CHECK: gpu.terminator
// CHECK-NOT: linalg.generic
func.func @scaled_weight(%x: memref<?x64xf32>, %wkn: memref<64x128xf32>, %s: f32) -> memref<?x128xf32> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %m = memref.dim %x, %c0 : memref<?x64xf32>
  // scaled[n, k] = s * wkn[k, n]
  %scaled = memref.alloc() : memref<128x64xf32>
  linalg.generic {indexing_maps = [affine_map<(k, n) -> (k, n)>, affine_map<(k, n) -> ()>, affine_map<(k, n) -> (n, k)>], iterator_types = ["parallel", "parallel"]}
      ins(%wkn, %s : memref<64x128xf32>, f32) outs(%scaled : memref<128x64xf32>) {
  ^bb0(%wv: f32, %sv: f32, %o: f32):
    %sw = arith.mulf %wv, %sv : f32
    linalg.yield %sw : f32
  }
  %y = memref.alloc(%m) : memref<?x128xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<?x128xf32>)
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %scaled : memref<?x64xf32>, memref<128x64xf32>) outs(%y : memref<?x128xf32>) {
  ^bb0(%in: f32, %in_w: f32, %o: f32):
    %p = arith.mulf %in, %in_w : f32
    %sum = arith.addf %o, %p : f32
    linalg.yield %sum : f32
  }
  return %y : memref<?x128xf32>
}

// RACES: gpu.func @contraction_0

// -----

// The producer's buffer is read after the contraction (it is returned):
// the producer stays, and the kernel stages its buffer.

// CHECK-LABEL: func.func @producer_read_twice
// CHECK: %[[P:.*]] = memref.alloc
// CHECK: linalg.generic
// CHECK-SAME: outs(%[[P]]
// CHECK: gpu.launch
// CHECK: scf.for
// CHECK: memref.load %[[P]]
// CHECK: return %[[P]],
func.func @producer_read_twice(%x: memref<?x64xf32>, %w: memref<128x64xf32>) -> (memref<?x64xf32>, memref<?x128xf32>) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %m = memref.dim %x, %c0 : memref<?x64xf32>
  %act = memref.alloc(%m) : memref<?x64xf32>
  linalg.generic {indexing_maps = [affine_map<(m, d) -> (m, d)>, affine_map<(m, d) -> (m, d)>], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<?x64xf32>) outs(%act : memref<?x64xf32>) {
  ^bb0(%xv: f32, %o: f32):
    %e = math.exp %xv : f32
    linalg.yield %e : f32
  }
  %y = memref.alloc(%m) : memref<?x128xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<?x128xf32>)
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%act, %w : memref<?x64xf32>, memref<128x64xf32>) outs(%y : memref<?x128xf32>) {
  ^bb0(%in: f32, %in_w: f32, %o: f32):
    %p = arith.mulf %in, %in_w : f32
    %sum = arith.addf %o, %p : f32
    linalg.yield %sum : f32
  }
  return %act, %y : memref<?x64xf32>, memref<?x128xf32>
}

// RACES: gpu.func @contraction_0

// -----

// The producer's input is overwritten between the producer and the
// contraction: the kernel would read the new values, so it stays.

// CHECK-LABEL: func.func @input_overwritten
// CHECK: %[[P:.*]] = memref.alloc
// CHECK: linalg.generic
// CHECK-SAME: outs(%[[P]]
// CHECK: linalg.fill
// CHECK: gpu.launch
// CHECK: scf.for
// CHECK: memref.load %[[P]]
func.func @input_overwritten(%x: memref<?x64xf32>, %w: memref<128x64xf32>) -> memref<?x128xf32> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %m = memref.dim %x, %c0 : memref<?x64xf32>
  %act = memref.alloc(%m) : memref<?x64xf32>
  linalg.generic {indexing_maps = [affine_map<(m, d) -> (m, d)>, affine_map<(m, d) -> (m, d)>], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<?x64xf32>) outs(%act : memref<?x64xf32>) {
  ^bb0(%xv: f32, %o: f32):
    %e = math.exp %xv : f32
    linalg.yield %e : f32
  }
  linalg.fill ins(%zero : f32) outs(%x : memref<?x64xf32>)
  %y = memref.alloc(%m) : memref<?x128xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<?x128xf32>)
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%act, %w : memref<?x64xf32>, memref<128x64xf32>) outs(%y : memref<?x128xf32>) {
  ^bb0(%in: f32, %in_w: f32, %o: f32):
    %p = arith.mulf %in, %in_w : f32
    %sum = arith.addf %o, %p : f32
    linalg.yield %sum : f32
  }
  return %y : memref<?x128xf32>
}

// RACES: gpu.func @contraction_0

// -----

// The producer's buffer is reused (as bufferization does for the CMS
// levels' norms): after the contraction the next op to touch it overwrites
// it whole, so the value the contraction reads has no other reader. The
// producer goes; the buffer and its next writer stay.

// CHECK-LABEL: func.func @reused_buffer
// CHECK: %[[P:.*]] = memref.alloc
// CHECK-NOT: linalg.generic
// CHECK: gpu.launch
// CHECK: scf.for
// CHECK: %[[XV:.*]] = memref.load %arg0
// CHECK-NEXT: math.exp %[[XV]]
// CHECK: gpu.terminator
// CHECK: linalg.generic
// CHECK-SAME: ins(%arg1 : memref<?x64xf32>) outs(%[[P]] : memref<?x64xf32>)
// CHECK-NOT: linalg.generic
// CHECK: return %[[P]],
func.func @reused_buffer(%x: memref<?x64xf32>, %x2: memref<?x64xf32>, %w: memref<128x64xf32>) -> (memref<?x64xf32>, memref<?x128xf32>) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %m = memref.dim %x, %c0 : memref<?x64xf32>
  %act = memref.alloc(%m) : memref<?x64xf32>
  linalg.generic {indexing_maps = [affine_map<(m, d) -> (m, d)>, affine_map<(m, d) -> (m, d)>], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<?x64xf32>) outs(%act : memref<?x64xf32>) {
  ^bb0(%xv: f32, %o: f32):
    %e = math.exp %xv : f32
    linalg.yield %e : f32
  }
  %y = memref.alloc(%m) : memref<?x128xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<?x128xf32>)
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%act, %w : memref<?x64xf32>, memref<128x64xf32>) outs(%y : memref<?x128xf32>) {
  ^bb0(%in: f32, %in_w: f32, %o: f32):
    %p = arith.mulf %in, %in_w : f32
    %sum = arith.addf %o, %p : f32
    linalg.yield %sum : f32
  }
  linalg.generic {indexing_maps = [affine_map<(m, d) -> (m, d)>, affine_map<(m, d) -> (m, d)>], iterator_types = ["parallel", "parallel"]}
      ins(%x2 : memref<?x64xf32>) outs(%act : memref<?x64xf32>) {
  ^bb0(%xv: f32, %o: f32):
    %n = arith.negf %xv : f32
    linalg.yield %n : f32
  }
  return %act, %y : memref<?x64xf32>, memref<?x128xf32>
}

// RACES: gpu.func @contraction_0

// -----

// An in-place producer (the LM's final norm: its buffer is also its input,
// read at the element it writes) before the LM head: the kernel reads the
// buffer's values from before the producer, which nothing changes now.

// CHECK-LABEL: func.func @in_place_norm
// CHECK: %[[H:.*]] = memref.alloc
// CHECK: linalg.copy ins(%arg0 : memref<?x64xf32>) outs(%[[H]] : memref<?x64xf32>)
// CHECK-NOT: linalg.generic
// CHECK: gpu.launch
// CHECK: scf.for
// CHECK: %[[HV:.*]] = memref.load %[[H]][%[[M:.*]], %[[K:.*]]] : memref<?x64xf32>
// CHECK-NEXT: %[[RV:.*]] = memref.load %arg1[%[[M]]] : memref<?xf32>
// CHECK-NEXT: arith.mulf %[[HV]], %[[RV]]
// CHECK: gpu.terminator
// CHECK-NOT: linalg.generic
func.func @in_place_norm(%x: memref<?x64xf32>, %r: memref<?xf32>, %w: memref<128x64xf32>) -> memref<?x128xf32> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %m = memref.dim %x, %c0 : memref<?x64xf32>
  %h = memref.alloc(%m) : memref<?x64xf32>
  linalg.copy ins(%x : memref<?x64xf32>) outs(%h : memref<?x64xf32>)
  linalg.generic {indexing_maps = [affine_map<(m, d) -> (m, d)>, affine_map<(m, d) -> (m)>, affine_map<(m, d) -> (m, d)>], iterator_types = ["parallel", "parallel"]}
      ins(%h, %r : memref<?x64xf32>, memref<?xf32>) outs(%h : memref<?x64xf32>) {
  ^bb0(%hv: f32, %rv: f32, %o: f32):
    %s = arith.mulf %hv, %rv : f32
    linalg.yield %s : f32
  }
  %y = memref.alloc(%m) : memref<?x128xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<?x128xf32>)
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%h, %w : memref<?x64xf32>, memref<128x64xf32>) outs(%y : memref<?x128xf32>) {
  ^bb0(%in: f32, %in_w: f32, %o: f32):
    %p = arith.mulf %in, %in_w : f32
    %sum = arith.addf %o, %p : f32
    linalg.yield %sum : f32
  }
  return %y : memref<?x128xf32>
}

// RACES: gpu.func @contraction_0

// -----

// An RMSNorm's scaling as the HOPE block's CMS levels have it: x * rsqrt(ss
// / 64 + eps) * g. The rsqrt does not depend on k: it is computed once per
// row of the block's tile (the threads striding over the 64 rows) into
// workgroup memory before the k loop, a barrier after; staging reads it
// there and multiplies.

#x = affine_map<(b, t, n, k) -> (b, t, k)>
#w = affine_map<(b, t, n, k) -> (n, k)>
#y = affine_map<(b, t, n, k) -> (b, t, n)>
#id = affine_map<(b, t, d) -> (b, t, d)>
#row = affine_map<(b, t, d) -> (b, t)>
#col = affine_map<(b, t, d) -> (d)>

// CHECK-LABEL: func.func @norm_row_part
// CHECK: gpu.launch
// CHECK-SAME: workgroup(%[[AS:[^ ]*]] : memref<64x17xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<64x17xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<16x256xf32, #gpu.address_space<workgroup>>, %[[RS:[^ ]*]] : memref<64xf32, #gpu.address_space<workgroup>>)
// CHECK: scf.for %{{.*}} = %{{.*}} to %c64 step %c256
// CHECK: %[[SS:.*]] = memref.load %arg1[%{{.*}}, %{{.*}}] : memref<?x?xf32>
// CHECK-NEXT: %[[MS:.*]] = arith.divf %[[SS]], %{{.*}}
// CHECK-NEXT: %[[MSE:.*]] = arith.addf %[[MS]], %{{.*}}
// CHECK-NEXT: %[[INV:.*]] = math.rsqrt %[[MSE]]
// CHECK-NEXT: memref.store %[[INV]], %[[RS]][%{{.*}}]
// CHECK: gpu.barrier
// CHECK: scf.for %{{.*}} = %c0 to %c4 step %c1
// CHECK: scf.for
// CHECK-NOT: math.rsqrt
// CHECK: %[[ROW:.*]] = memref.load %[[RS]]
// CHECK-NEXT: %[[XV:.*]] = memref.load %arg0
// CHECK-NEXT: %[[GV:.*]] = memref.load %arg2
// CHECK-NEXT: %[[XS:.*]] = arith.mulf %[[XV]], %[[ROW]]
// CHECK-NEXT: %[[XSG:.*]] = arith.mulf %[[XS]], %[[GV]]
// CHECK-NEXT: memref.store %[[XSG]], %[[AS]]
// CHECK-NOT: math.rsqrt
// CHECK: gpu.terminator
func.func @norm_row_part(%x: memref<?x?x64xf32>, %ss: memref<?x?xf32>, %g: memref<64xf32>, %w: memref<128x64xf32>) -> memref<?x?x128xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %width = arith.constant 64.0 : f32
  %eps = arith.constant 1.0e-6 : f32
  %b = memref.dim %x, %c0 : memref<?x?x64xf32>
  %t = memref.dim %x, %c1 : memref<?x?x64xf32>
  %normed = memref.alloc(%b, %t) : memref<?x?x64xf32>
  linalg.generic {indexing_maps = [#id, #row, #col, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %ss, %g : memref<?x?x64xf32>, memref<?x?xf32>, memref<64xf32>) outs(%normed : memref<?x?x64xf32>) {
  ^bb0(%xv: f32, %sv: f32, %gv: f32, %o: f32):
    %ms = arith.divf %sv, %width : f32
    %mse = arith.addf %ms, %eps : f32
    %inv = math.rsqrt %mse : f32
    %xs = arith.mulf %xv, %inv : f32
    %xsg = arith.mulf %xs, %gv : f32
    linalg.yield %xsg : f32
  }
  %y = memref.alloc(%b, %t) : memref<?x?x128xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<?x?x128xf32>)
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%normed, %w : memref<?x?x64xf32>, memref<128x64xf32>) outs(%y : memref<?x?x128xf32>) {
  ^bb0(%in: f32, %in_w: f32, %out: f32):
    %p = arith.mulf %in, %in_w : f32
    %s = arith.addf %out, %p : f32
    linalg.yield %s : f32
  }
  return %y : memref<?x?x128xf32>
}

// RACES: gpu.func @contraction_0
// RACES-SAME: memref<64xf32, #gpu.address_space<workgroup>>

// PLANTED: error: possible race on workgroup buffer #3 (memref<64xf32, #gpu.address_space<workgroup>>)
