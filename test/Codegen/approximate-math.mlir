// RUN: hope-opt %s --nl-approximate-math | FileCheck %s

// float32 exp and erf become arithmetic that LLVM can vectorise.
// CHECK-LABEL: func.func @float32
// CHECK-NOT: math.exp
// CHECK-NOT: math.erf
// CHECK: arith.mulf
// CHECK: return
func.func @float32(%x: f32) -> (f32, f32) {
  %e = math.exp %x : f32
  %r = math.erf %x : f32
  return %e, %r : f32, f32
}

// float64 keeps libm's.
// CHECK-LABEL: func.func @float64
// CHECK: math.exp %{{.*}} : f64
// CHECK: math.erf %{{.*}} : f64
func.func @float64(%x: f64) -> (f64, f64) {
  %e = math.exp %x : f64
  %r = math.erf %x : f64
  return %e, %r : f64, f64
}
