// A check that reads device data runs in a kernel, which cannot allocate a
// buffer of dynamic size.

// RUN: hope-opt %s --nl-cuda-device-data-preconditions -verify-diagnostics

func.func @f.preconditions(%x: memref<?xf32>) -> i32 {
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?xf32>
  // expected-error @+1 {{runs in a kernel, where it cannot allocate a buffer of dynamic size}}
  %copy = memref.alloc(%n) : memref<?xf32>
  memref.copy %x, %copy : memref<?xf32> to memref<?xf32>
  %v = memref.load %copy[%c0] : memref<?xf32>
  %zero = arith.constant 0.0 : f32
  %bad = arith.cmpf olt, %v, %zero : f32
  %status = arith.extui %bad : i1 to i32
  return %status : i32
}
func.func @f(%x: memref<?xf32>) {
  return
}
