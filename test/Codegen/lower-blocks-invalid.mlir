// RUN: hope-opt %s --nl-lower-blocks-to-linalg -split-input-file -verify-diagnostics

// Feature widths must be static to lower.
func.func @dynamic_width(%x: tensor<?x?x?xf32>) -> tensor<?x2x?x?xf32> {
  // expected-error @+1 {{cannot lower 'nl.split_heads' to linalg: it needs static feature widths}}
  %y = nl.split_heads %x into 2 heads : tensor<?x?x?xf32>
  return %y : tensor<?x2x?x?xf32>
}

// -----

// The nl dialect is illegal after the pass: an op without a lowering gets
// one error there, not a failure in bufferization later.
func.func @moment(%m: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'nl.moment' op has no lowering to linalg}}
  %0 = nl.moment "m" %m, %g {every = #nl.every<1 steps>, decay = 0.9, scale = 0.1}
      : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @param_update(%w: tensor<4xf32>, %m: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'nl.param_update' op has no lowering to linalg}}
  %0 = nl.param_update "w" %w with(%m : tensor<4xf32>) {
      every = #nl.every<1 steps>, rule = #nl.sgd_momentum} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// One error, for the first op left over.
func.func @first_only(%m: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'nl.moment' op has no lowering to linalg}}
  %0 = nl.moment "m" %m, %g {every = #nl.every<1 steps>, decay = 0.9, scale = 0.1}
      : tensor<4xf32>
  %1 = nl.param_update "w" %0 with(%g : tensor<4xf32>) {
      every = #nl.every<1 steps>, rule = #nl.sgd_momentum} : tensor<4xf32>
  return %1 : tensor<4xf32>
}
