// An nl op without a lowering stops the compilation in the linalg phase,
// with one error at the op (not "op was not bufferized" in a later phase).

// RUN: not hope-compile %s -o %t.so 2>&1 | FileCheck %s
// CHECK: compile-unlowered.mlir:[[# @LINE + 8]]:8: error: 'nl.moment' op has no lowering to linalg
// CHECK-NOT: error:
// CHECK: hope-compile: phase 'linalg' failed
// CHECK-NOT: error:

func.func @step(%m: tensor<4xf32> {nl.state = "m"}, %g: tensor<4xf32> {nl.input = "g"},
                %w: tensor<4xf32> {nl.state = "w"})
    -> (tensor<4xf32> {nl.state = "m"}, tensor<4xf32> {nl.state = "w"}) {
  %0 = nl.moment "m" %m, %g {every = #nl.every<1 steps>, decay = 0.9, scale = 0.1}
      : tensor<4xf32>
  %1 = nl.param_update "w" %w with(%0 : tensor<4xf32>) {
      every = #nl.every<1 steps>, rule = #nl.sgd_momentum} : tensor<4xf32>
  return %0, %1 : tensor<4xf32>, tensor<4xf32>
}
