// RUN: hope-opt %s --nl-parallel-loops-to-openmp=min-parallel-work=0 | FileCheck %s
// RUN: hope-opt %s --nl-parallel-loops-to-openmp | FileCheck %s --check-prefix=SMALL

// The runtime's queries are declared once.
// CHECK: func.func private @omp_get_max_threads() -> i32
// CHECK-NEXT: func.func private @omp_get_num_threads() -> i32
// CHECK-NEXT: func.func private @omp_get_thread_num() -> i32
// CHECK-NOT: func.func private @omp_get

// Each thread of the region takes one contiguous share of the 8 x 5
// iterations (both dimensions collapsed) and recovers the two indices.
// CHECK-LABEL: func.func @two_dimensions
// CHECK-COUNT-2: arith.maxsi
// CHECK-NEXT: %[[TOTAL:.*]] = arith.muli %{{.*}}, %{{.*}} : index
// CHECK-NEXT: omp.parallel {
// CHECK:   %[[T:.*]] = func.call @omp_get_thread_num() : () -> i32
// CHECK:   %[[N:.*]] = func.call @omp_get_num_threads() : () -> i32
// CHECK:   %[[BEGIN:.*]] = arith.minui %{{.*}}, %[[TOTAL]] : index
// CHECK:   %[[END:.*]] = arith.minui %{{.*}}, %[[TOTAL]] : index
// CHECK:   scf.for %[[I:.*]] = %[[BEGIN]] to %[[END]] step %{{.*}} {
// CHECK:       arith.remui %[[I]], %{{.*}} : index
// CHECK:       arith.divui %[[I]], %{{.*}} : index
// CHECK:       memref.store
// CHECK:   omp.terminator
// CHECK-NOT: scf.parallel
// CHECK-NOT: omp.wsloop
func.func @two_dimensions(%a: memref<8x10xf32>, %v: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : index
  %c10 = arith.constant 10 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c8, %c10) step (%c1, %c2) {
    memref.store %v, %a[%i, %j] : memref<8x10xf32>
    scf.reduce
  }
  return
}

// A loop with a reduction, or with stack allocations in its body, is left
// to convert-scf-to-openmp.
// CHECK-LABEL: func.func @reduction
// CHECK: scf.parallel
// CHECK-NOT: omp.parallel
func.func @reduction(%a: memref<8xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %sum = scf.parallel (%i) = (%c0) to (%c8) step (%c1) init (%zero) -> f32 {
    %x = memref.load %a[%i] : memref<8xf32>
    scf.reduce(%x : f32) {
    ^bb0(%l: f32, %r: f32):
      %s = arith.addf %l, %r : f32
      scf.reduce.return %s : f32
    }
  }
  return %sum : f32
}

// CHECK-LABEL: func.func @stack
// CHECK: scf.parallel
// CHECK-NOT: omp.parallel
func.func @stack(%a: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    %tmp = memref.alloca() : memref<4xf32>
    %x = memref.load %a[%i] : memref<8xf32>
    memref.store %x, %tmp[%c0] : memref<4xf32>
    scf.reduce
  }
  return
}

// A nest of few operations per iteration (3), its trip count known only at
// run time: all threads when its iterations do min-parallel-work (65536)
// operations in all, else one.
// CHECK-LABEL: func.func @dynamic
// CHECK: omp.parallel {
// SMALL-LABEL: func.func @dynamic
// SMALL-NEXT: %[[ALL:.*]] = call @omp_get_max_threads() : () -> i32
// SMALL: %[[WORK:.*]] = arith.muli %{{.*}}, %c3 : index
// SMALL: %[[ENOUGH:.*]] = arith.cmpi uge, %[[WORK]], %c65536 : index
// SMALL: %[[N:.*]] = arith.select %[[ENOUGH]], %[[ALL]], %c1_i32 : i32
// SMALL-NEXT: omp.parallel num_threads(%[[N]] : i32) {
func.func @dynamic(%a: memref<?x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %a, %c0 : memref<?x64xf32>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %x = memref.load %a[%i, %c0] : memref<?x64xf32>
    memref.store %x, %a[%i, %c1] : memref<?x64xf32>
    scf.reduce
  }
  return
}

// Two such nests ask the runtime for its thread count once, at the
// function's entry.
// SMALL-LABEL: func.func @dynamic_twice
// SMALL-NEXT: %[[ALL:.*]] = call @omp_get_max_threads() : () -> i32
// SMALL-NOT: call @omp_get_max_threads
// SMALL: arith.select %{{.*}}, %[[ALL]], %c1_i32{{.*}} : i32
// SMALL-NOT: call @omp_get_max_threads
// SMALL: arith.select %{{.*}}, %[[ALL]], %c1_i32{{.*}} : i32
// SMALL-NOT: call @omp_get_max_threads
// SMALL: return
func.func @dynamic_twice(%a: memref<?x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %a, %c0 : memref<?x64xf32>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %x = memref.load %a[%i, %c0] : memref<?x64xf32>
    memref.store %x, %a[%i, %c1] : memref<?x64xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %x = memref.load %a[%i, %c1] : memref<?x64xf32>
    memref.store %x, %a[%i, %c0] : memref<?x64xf32>
    scf.reduce
  }
  return
}
