// RUN: hope-opt %s --nl-outer-parallel-loops | FileCheck %s
// RUN: hope-opt %s --nl-outer-parallel-loops=min-parallel-work=0 | FileCheck %s --check-prefix=ALL

// One head's 8 x 64 elementwise step, 8 heads (as in a memory's chunk
// loop): ~16K operations, less than an OpenMP region costs: serial.
// CHECK-LABEL: func.func @tiny
// CHECK-NOT: scf.parallel
// CHECK-COUNT-3: scf.for
// CHECK-NOT: scf.parallel
// ALL-LABEL: func.func @tiny
// ALL: scf.parallel (%{{.*}}, %{{.*}}) = (%c0, %c0) to (%c8, %c8)
// ALL: scf.for
func.func @tiny(%a: memref<8x8x64xf32>, %b: memref<8x8x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c64 = arith.constant 64 : index
  scf.parallel (%h, %t, %j) = (%c0, %c0, %c0) to (%c8, %c8, %c64) step (%c1, %c1, %c1) {
    %x = memref.load %a[%h, %t, %j] : memref<8x8x64xf32>
    %y = arith.mulf %x, %x : f32
    memref.store %y, %b[%h, %t, %j] : memref<8x8x64xf32>
    scf.reduce
  }
  return
}

// The same body over 8 heads of 512 x 64: ~1M operations, parallel over
// heads and tokens, the vector dimension serial inside.
// CHECK-LABEL: func.func @big
// CHECK: scf.parallel (%{{.*}}, %{{.*}}) = (%c0, %c0) to (%c8, %c512)
// CHECK-NEXT: scf.for %{{.*}} = %c0 to %c64
// CHECK-NOT: scf.parallel
func.func @big(%a: memref<8x512x64xf32>, %b: memref<8x512x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c64 = arith.constant 64 : index
  %c512 = arith.constant 512 : index
  scf.parallel (%h, %t, %j) = (%c0, %c0, %c0) to (%c8, %c512, %c64) step (%c1, %c1, %c1) {
    %x = memref.load %a[%h, %t, %j] : memref<8x512x64xf32>
    %y = arith.mulf %x, %x : f32
    memref.store %y, %b[%h, %t, %j] : memref<8x512x64xf32>
    scf.reduce
  }
  return
}

// Few iterations, but a serial loop inside with a large static trip count
// (a contraction's tile): its work counts, parallel.
// CHECK-LABEL: func.func @deep
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c2)
// CHECK: scf.for %{{.*}} = %c0 to %c65536
func.func @deep(%a: memref<2x65536xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c65536 = arith.constant 65536 : index
  scf.parallel (%i) = (%c0) to (%c2) step (%c1) {
    scf.for %k = %c0 to %c65536 step %c1 {
      %x = memref.load %a[%i, %k] : memref<2x65536xf32>
      memref.store %x, %a[%i, %k] : memref<2x65536xf32>
    }
    scf.reduce
  }
  return
}

// The tokens of a call are not known when compiling: assumed many, parallel.
// CHECK-LABEL: func.func @dynamic
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%{{.*}})
// CHECK-NEXT: scf.for %{{.*}} = %c0 to %c4
func.func @dynamic(%a: memref<?x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %t = memref.dim %a, %c0 : memref<?x4xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%t, %c4) step (%c1, %c1) {
    %x = memref.load %a[%i, %j] : memref<?x4xf32>
    memref.store %x, %a[%i, %j] : memref<?x4xf32>
    scf.reduce
  }
  return
}
