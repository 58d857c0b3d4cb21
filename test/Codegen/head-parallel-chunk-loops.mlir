// RUN: hope-opt %s --nl-head-parallel-chunk-loops=remarks=true -verify-diagnostics | FileCheck %s

// A chunk loop as bufferization leaves it: a [batch, heads, ...] state and
// its ownership flag carried, a nest over (batch, head, column) per step.
// It becomes one parallel loop over (batch, head) with the chunk loop
// inside; the nest keeps its column loop behind a guard; each (batch, head)
// copies its slice of the result into a buffer allocated before, and frees
// its own result unless it is the initial state.
// CHECK-LABEL: func.func @chunk_loop(
// CHECK-SAME: %[[INIT:[a-z0-9]+]]: memref<?x2x4xf32>
// CHECK: %[[FINAL:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x2x4xf32>
// CHECK: scf.parallel (%[[B0:.*]], %[[H0:.*]]) = (%{{.*}}, %{{.*}}) to (%{{.*}}, %c2{{.*}}) step
// CHECK: %[[R:.*]]:2 = scf.for
// CHECK: %[[NEW:.*]] = memref.alloc
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[B0]],
// CHECK: %[[IH:.*]] = arith.cmpi ult, %[[H0]], %c2
// CHECK: %[[BOTH:.*]] = arith.andi %[[IN]], %[[IH]]
// CHECK: scf.if %[[BOTH]] {
// CHECK: scf.parallel (%[[J:.*]]) = (%c0) to (%c4) step (%c1)
// CHECK: memref.load %{{.*}}[%[[B0]], %[[H0]], %[[J]]]
// CHECK: memref.store %{{.*}}, %[[NEW]][%[[B0]], %[[H0]], %[[J]]]
// CHECK: scf.yield %[[NEW]], %true
// CHECK: %[[IP:.*]] = memref.extract_aligned_pointer_as_index %[[INIT]]
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %c4
// CHECK: %[[V:.*]] = memref.load %[[R]]#0[%[[B0]], %[[H0]], %[[K]]]
// CHECK: memref.store %[[V]], %[[FINAL]][%[[B0]], %[[H0]], %[[K]]]
// CHECK: %[[RP:.*]] = memref.extract_aligned_pointer_as_index %[[R]]#0
// CHECK: %[[NE:.*]] = arith.cmpi ne, %[[RP]], %[[IP]]
// CHECK: scf.if
// CHECK-NEXT: memref.dealloc %[[R]]#0
// CHECK: return %[[FINAL]], %true{{.*}} :
func.func @chunk_loop(%init: memref<?x2x4xf32>, %x: memref<?x2x8x4xf32>,
                      %n: index) -> (memref<?x2x4xf32>, i1) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %false = arith.constant false
  %true = arith.constant true
  %b = memref.dim %init, %c0 : memref<?x2x4xf32>
  // expected-remark @below {{chunk loop parallel over (batch, head), 1 loop nests}}
  %r:2 = scf.for %i = %c0 to %n step %c1 iter_args(%s = %init, %own = %false) -> (memref<?x2x4xf32>, i1) {
    %new = memref.alloc(%b) : memref<?x2x4xf32>
    scf.parallel (%bb, %h, %j) = (%c0, %c0, %c0) to (%b, %c2, %c4) step (%c1, %c1, %c1) {
      %v = memref.load %s[%bb, %h, %j] : memref<?x2x4xf32>
      %u = memref.load %x[%bb, %h, %i, %j] : memref<?x2x8x4xf32>
      %w = arith.addf %v, %u : f32
      memref.store %w, %new[%bb, %h, %j] : memref<?x2x4xf32>
      scf.reduce
    }
    scf.if %own {
      memref.dealloc %s : memref<?x2x4xf32>
    }
    scf.yield %new, %true : memref<?x2x4xf32>, i1
  }
  return %r#0, %r#1 : memref<?x2x4xf32>, i1
}

// A nest that reads another head's state mixes heads: left serial.
// CHECK-LABEL: func.func @other_head
// CHECK-NOT: scf.parallel (%{{.*}}, %{{.*}}) = (%c0, %c0) to (%{{.*}}, %c2)
func.func @other_head(%init: memref<?x2x4xf32>, %n: index) -> memref<?x2x4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %b = memref.dim %init, %c0 : memref<?x2x4xf32>
  // expected-remark @below {{chunk loop stays serial: a loop nest touches a buffer at an index that is not its own batch and head}}
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%s = %init) -> (memref<?x2x4xf32>) {
    %new = memref.alloc(%b) : memref<?x2x4xf32>
    scf.parallel (%bb, %h, %j) = (%c0, %c0, %c0) to (%b, %c2, %c4) step (%c1, %c1, %c1) {
      // expected-note @below {{here}}
      %v = memref.load %s[%bb, %c0, %j] : memref<?x2x4xf32>
      memref.store %v, %new[%bb, %h, %j] : memref<?x2x4xf32>
      scf.reduce
    }
    scf.yield %new : memref<?x2x4xf32>
  }
  return %r : memref<?x2x4xf32>
}

// An ownership flag that starts true: every thread would free the caller's
// buffer.
func.func @owned_init(%init: memref<?x2x4xf32>, %n: index) -> (memref<?x2x4xf32>, i1) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %true = arith.constant true
  // expected-remark @below {{chunk loop stays serial: it carries a value that is neither a buffer nor an ownership flag that starts false}}
  %r:2 = scf.for %i = %c0 to %n step %c1 iter_args(%s = %init, %own = %true) -> (memref<?x2x4xf32>, i1) {
    scf.yield %s, %own : memref<?x2x4xf32>, i1
  }
  return %r#0, %r#1 : memref<?x2x4xf32>, i1
}

// The state read by the loop's own scalar code, outside any nest.
func.func @outside_nest(%init: memref<?x2x4xf32>, %out: memref<f32>, %n: index) -> memref<?x2x4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-remark @below {{chunk loop stays serial: it touches a buffer of (batch, head) slices outside its loop nests}}
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%s = %init) -> (memref<?x2x4xf32>) {
    %v = memref.load %s[%c0, %c0, %c0] : memref<?x2x4xf32>
    memref.store %v, %out[] : memref<f32>
    scf.yield %s : memref<?x2x4xf32>
  }
  return %r : memref<?x2x4xf32>
}

// A call whose effects the analysis cannot follow.
func.func private @opaque(memref<?x2x4xf32>)
func.func @calls(%init: memref<?x2x4xf32>, %n: index) -> memref<?x2x4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-remark @below {{chunk loop stays serial: it calls @opaque}}
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%s = %init) -> (memref<?x2x4xf32>) {
    func.call @opaque(%s) : (memref<?x2x4xf32>) -> ()
    scf.yield %s : memref<?x2x4xf32>
  }
  return %r : memref<?x2x4xf32>
}
