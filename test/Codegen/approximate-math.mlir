// RUN: hope-opt %s --nl-approximate-math | FileCheck %s

// float32 exp and erf become arithmetic that LLVM can vectorise.
// CHECK-LABEL: func.func @float32
// CHECK-NOT: math.exp
// CHECK-NOT: math.erf
// libm's edge cases: exp below -87 is shifted into the normal range and scaled
// back into the denormals (not flushed to 0).
// CHECK-DAG: arith.constant 2.3283063E-10 : f32
// CHECK-DAG: arith.constant 22.1807098 : f32
// CHECK-DAG: arith.constant -8.700000e+01 : f32
// CHECK: arith.mulf
// erf in float64, rounded once, with the sign of x.
// CHECK: arith.extf %arg0 : f32 to f64
// CHECK: arith.minimumf
// CHECK: arith.truncf %{{.*}} : f64 to f32
// CHECK: math.copysign %{{.*}}, %arg0 : f32
// CHECK: return
// The accuracy over the whole float32 range: test/parity/test_approximate_math.py.
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
