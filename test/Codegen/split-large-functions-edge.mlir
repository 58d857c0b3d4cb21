// RUN: hope-opt %s --split-input-file --nl-split-large-functions=max-ops=4 | FileCheck %s

// A part's name never collides with an existing symbol (here a function
// already named like the first part).
// CHECK-LABEL: func.func private @step.part0(
// CHECK-SAME: memref<4xf32>
// CHECK-NEXT: return
// CHECK: func.func private @step.part1(
// CHECK: func.func @step(
// CHECK-NOT: call @step.part0(
func.func private @step.part0(%x: memref<4xf32>) {
  return
}
func.func @step(%x: memref<4xf32>, %v: f32) -> memref<4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %a = memref.alloc() : memref<4xf32>
  memref.store %v, %a[%c0] : memref<4xf32>
  memref.store %v, %a[%c1] : memref<4xf32>
  memref.store %v, %x[%c0] : memref<4xf32>
  memref.store %v, %x[%c1] : memref<4xf32>
  memref.store %v, %a[%c0] : memref<4xf32>
  return %a : memref<4xf32>
}

// -----

// A stack buffer used past its run would be returned from a finished call:
// such a function stays whole.
// CHECK-LABEL: func.func @stack
// CHECK-NOT: call
// CHECK: memref.alloca
func.func @stack(%x: memref<4xf32>, %v: f32) {
  %c0 = arith.constant 0 : index
  %a = memref.alloca() : memref<4xf32>
  memref.store %v, %a[%c0] : memref<4xf32>
  memref.store %v, %a[%c0] : memref<4xf32>
  memref.store %v, %a[%c0] : memref<4xf32>
  memref.store %v, %a[%c0] : memref<4xf32>
  memref.store %v, %a[%c0] : memref<4xf32>
  memref.copy %a, %x : memref<4xf32> to memref<4xf32>
  return
}
