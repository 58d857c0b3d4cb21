// RUN: hope-opt %s --nl-contract-float-ops | FileCheck %s

// Every float arith op may be contracted; flags already present are kept.
// CHECK-LABEL: func.func @contract
// CHECK: arith.mulf %{{.*}}, %{{.*}} fastmath<contract> : f32
// CHECK: arith.addf %{{.*}}, %{{.*}} fastmath<nnan,contract> : f32
// CHECK: arith.addi %{{.*}}, %{{.*}} : i32
func.func @contract(%a: f32, %b: f32, %i: i32) -> (f32, i32) {
  %p = arith.mulf %a, %b : f32
  %s = arith.addf %p, %a fastmath<nnan> : f32
  %j = arith.addi %i, %i : i32
  return %s, %j : f32, i32
}
