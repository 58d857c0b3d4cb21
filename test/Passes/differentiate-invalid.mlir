// nl-differentiate names the op it has no rule for, at its location.
// RUN: hope-opt %s --nl-differentiate="functions=f" -split-input-file -verify-diagnostics

func.func @f(%x: tensor<4xf64>) -> tensor<4xf64> {
  %e = tensor.empty() : tensor<4xf64>
  %y = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%x : tensor<4xf64>) outs(%e : tensor<4xf64>) {
  ^bb0(%a: f64, %o: f64):
    // expected-error @+1 {{nl-differentiate: no derivative rule for 'math.atan'}}
    %t = math.atan %a : f64
    linalg.yield %t : f64
  } -> tensor<4xf64>
  return %y : tensor<4xf64>
}

// -----

// A product reduction is neither a sum nor a max/min accumulator.
func.func @f(%x: tensor<4x3xf64>) -> tensor<4xf64> {
  %one = arith.constant 1.0 : f64
  %e = tensor.empty() : tensor<4xf64>
  %init = linalg.fill ins(%one : f64) outs(%e : tensor<4xf64>) -> tensor<4xf64>
  // expected-error @+1 {{no adjoint rule for a reduction whose output #0 accumulates other than by a sum (out + f(ins)) or a max/min}}
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<4x3xf64>) outs(%init : tensor<4xf64>) {
  ^bb0(%a: f64, %o: f64):
    %m = arith.mulf %o, %a : f64
    linalg.yield %m : f64
  } -> tensor<4xf64>
  return %r : tensor<4xf64>
}

// -----

// A max whose partial maximum is also read elsewhere (here the candidate
// depends on it) is not a max accumulator.
func.func @f(%x: tensor<4x3xf64>) -> tensor<4xf64> {
  %zero = arith.constant 0.0 : f64
  %e = tensor.empty() : tensor<4xf64>
  %init = linalg.fill ins(%zero : f64) outs(%e : tensor<4xf64>) -> tensor<4xf64>
  // expected-error @+1 {{no adjoint rule for a reduction whose output #0 accumulates other than by a sum}}
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<4x3xf64>) outs(%init : tensor<4xf64>) {
  ^bb0(%a: f64, %o: f64):
    %p = arith.mulf %o, %a : f64
    %m = arith.maximumf %o, %p : f64
    linalg.yield %m : f64
  } -> tensor<4xf64>
  return %r : tensor<4xf64>
}

// -----

// A max reduction over elements gathered from a table (tensor.extract of a
// float tensor the generic does not take as an operand) is not
// differentiated: the gather rule handles parallel bodies and sums only.
func.func @f(%table: tensor<8xf64>, %ids: tensor<4x3xindex>) -> tensor<4xf64> {
  %zero = arith.constant 0.0 : f64
  %e = tensor.empty() : tensor<4xf64>
  %init = linalg.fill ins(%zero : f64) outs(%e : tensor<4xf64>) -> tensor<4xf64>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%ids : tensor<4x3xindex>) outs(%init : tensor<4xf64>) {
  ^bb0(%i: index, %o: f64):
    // expected-error @+1 {{nl-differentiate: a linalg.generic body uses a float computed outside it}}
    %v = tensor.extract %table[%i] : tensor<8xf64>
    %m = arith.maximumf %o, %v : f64
    linalg.yield %m : f64
  } -> tensor<4xf64>
  return %r : tensor<4xf64>
}

// -----

// An op outside linalg without a rule, on the gradient's path.
func.func @f(%x: tensor<4xf64>) -> tensor<2x2xf64> {
  %shape = arith.constant dense<[2, 2]> : tensor<2xindex>
  // expected-error @+1 {{nl-differentiate: no adjoint rule for 'tensor.reshape'}}
  %y = tensor.reshape %x(%shape) : (tensor<4xf64>, tensor<2xindex>) -> tensor<2x2xf64>
  return %y : tensor<2x2xf64>
}

// -----

// expected-error @+1 {{nl-differentiate: no function with a body named 'f'}}
module {
  func.func @g(%x: f64) -> f64 {
    return %x : f64
  }
}
