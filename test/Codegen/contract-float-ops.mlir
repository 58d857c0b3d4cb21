// RUN: hope-opt %s --nl-contract-float-ops | FileCheck %s

// Every float arith op may be contracted; flags already present are kept.
// CHECK-LABEL: func.func @contract
// CHECK: %[[P:.*]] = arith.mulf %{{.*}}, %{{.*}} fastmath<contract> : f32
// CHECK: arith.addf %[[P]], %{{.*}} fastmath<nnan,contract> : f32
// CHECK: arith.addi %{{.*}}, %{{.*}} : i32
// CHECK: return {{.*}}, %[[P]]
func.func @contract(%a: f32, %b: f32, %i: i32) -> (f32, i32, f32) {
  %p = arith.mulf %a, %b : f32
  %s = arith.addf %p, %a fastmath<nnan> : f32
  %j = arith.addi %i, %i : i32
  return %s, %j, %p : f32, i32, f32
}

// A product used only by an add fuses with it, on either side; a product
// with another use stays (above).
// CHECK-LABEL: func.func @fuse
// CHECK: %[[F:.*]] = llvm.intr.fmuladd(%arg0, %arg1, %arg2) : (f64, f64, f64) -> f64
// CHECK: %[[G:.*]] = llvm.intr.fmuladd(%arg1, %arg2, %[[F]]) : (f64, f64, f64) -> f64
// CHECK-NOT: arith.mulf
// CHECK: return %[[G]]
func.func @fuse(%a: f64, %b: f64, %c: f64) -> f64 {
  %p = arith.mulf %a, %b : f64
  %s = arith.addf %p, %c : f64
  %q = arith.mulf %b, %c : f64
  %t = arith.addf %s, %q : f64
  return %t : f64
}
