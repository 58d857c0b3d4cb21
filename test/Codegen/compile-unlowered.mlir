// An nl op that cannot be lowered stops the compilation in the linalg phase,
// with one error at the op (not "op was not bufferized" in a later phase):
// here Muon on a matrix of dynamic shape (Newton-Schulz needs static ones).

// RUN: not hope-compile %s -o %t.so 2>&1 | FileCheck %s
// CHECK: compile-unlowered.mlir:[[# @LINE + 10]]:8: error: 'nl.param_update' op cannot be lowered: Newton-Schulz needs a parameter of static shape, got 'tensor<?x4xf32>'
// CHECK-NOT: error:
// CHECK: hope-compile: phase 'linalg' failed
// CHECK-NOT: error:

func.func @step(%m: tensor<?x4xf32> {nl.state = "m"}, %g: tensor<?x4xf32> {nl.input = "g"},
                %w: tensor<?x4xf32> {nl.state = "w"})
    -> (tensor<?x4xf32> {nl.state = "m"}, tensor<?x4xf32> {nl.state = "w"}) {
  %0 = nl.moment "m" %m, %g {every = #nl.every<1 steps>, decay = 0.9, scale = 1.0}
      : tensor<?x4xf32>
  %1 = nl.param_update "w" %w with(%0 : tensor<?x4xf32>) {
      every = #nl.every<1 steps>, rule = #nl.muon<lr = 0.02>} : tensor<?x4xf32>
  return %0, %1 : tensor<?x4xf32>, tensor<?x4xf32>
}
