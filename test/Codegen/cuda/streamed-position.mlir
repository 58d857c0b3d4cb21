// A streamed position lives in device memory: the memory stage reads it
// itself (its chunk count and chunk phase, position mod C, are computed in
// the kernel; the grid is batch x heads whatever the position), and the
// next position is stored by a kernel of one block. The host code reads
// no device memory.

// RUN: hope-opt %s --nl-cuda-form-kernels | FileCheck %s

// CHECK-LABEL: func.func @stream(
// CHECK-NOT: memref.load
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %{{.*}}, {{.*}} = %c2{{.*}}) threads
// CHECK-SAME: function(@memory_stage_0)
// CHECK-NEXT: memref.load %arg2[] : memref<i64>
// CHECK: arith.remui
// CHECK: scf.for
// CHECK-NOT: memref.load %arg2
// CHECK: gpu.terminator
// CHECK: gpu.launch
// CHECK-SAME: function(@loop_nest_0)
// Read by the one thread that stores the next position (where every use is).
// CHECK: scf.if
// CHECK-NEXT: memref.load %arg2[] : memref<i64>
// CHECK: memref.store %{{.*}}, %{{.*}}[] : memref<i64>
// CHECK: gpu.terminator
// CHECK-NOT: memref.load
// CHECK: return
func.func @stream(%init: memref<?x2x4xf32>, %x: memref<?x?x2x4xf32>,
                  %position: memref<i64>) -> (memref<?x2x4xf32>, memref<i64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %b = memref.dim %init, %c0 : memref<?x2x4xf32>
  %t = memref.dim %x, %c1 : memref<?x?x2x4xf32>
  %p64 = memref.load %position[] : memref<i64>
  %p = arith.index_cast %p64 : i64 to index
  %end = arith.addi %p, %t : index
  %first = arith.divui %p, %c4 : index
  %last = arith.ceildivui %end, %c4 : index
  %chunks = arith.subi %last, %first : index
  %r = scf.for %i = %c0 to %chunks step %c1 iter_args(%s = %init) -> (memref<?x2x4xf32>) {
    %k = arith.addi %first, %i : index
    %start = arith.muli %k, %c4 : index
    %from = arith.maxui %start, %p : index
    %stop = arith.addi %start, %c4 : index
    %to = arith.minui %stop, %end : index
    %count = arith.subi %to, %from : index
    %phase = arith.remui %from, %c4 : index
    %offset = arith.subi %from, %p : index
    %new = memref.alloc(%b) : memref<?x2x4xf32>
    scf.parallel (%u, %h, %e) = (%c0, %c0, %c0) to (%b, %c2, %c4) step (%c1, %c1, %c1) {
      %old = memref.load %s[%u, %h, %e] : memref<?x2x4xf32>
      %v = memref.load %x[%u, %offset, %h, %e] : memref<?x?x2x4xf32>
      %count64 = arith.index_cast %count : index to i64
      %countf = arith.uitofp %count64 : i64 to f32
      %scaled = arith.mulf %v, %countf : f32
      %sum = arith.addf %old, %scaled : f32
      %phase64 = arith.index_cast %phase : index to i64
      %phasef = arith.uitofp %phase64 : i64 to f32
      %out = arith.addf %sum, %phasef : f32
      memref.store %out, %new[%u, %h, %e] : memref<?x2x4xf32>
      scf.reduce
    }
    scf.yield %new : memref<?x2x4xf32>
  }
  %next64 = arith.index_cast %end : index to i64
  %next = memref.alloc() : memref<i64>
  memref.store %next64, %next[] : memref<i64>
  return %r, %next : memref<?x2x4xf32>, memref<i64>
}
