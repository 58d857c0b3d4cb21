// Diagnostics of NLDialect::verifyOperationAttribute: the discardable
// attributes of the nl namespace (only `nl.level`, one level number >= 1 per
// component of a component op).
// RUN: hope-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{unknown nl attribute 'nl.levels'}}
func.func private @unknown() attributes {nl.levels = array<i64: 1>}

// -----

func.func @unknown_on_component(%m: tensor<4xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{unknown nl attribute 'nl.frequency'}}
  %0 = nl.moment "m" %m, %g {every = #nl.every<1 steps>, decay = 0.9,
                             scale = 1.0, nl.frequency = 1} : tensor<4xf32>
  return
}

// -----

// expected-error @+1 {{'nl.level' is only valid on ops that declare components}}
func.func private @not_an_op_of_nl() attributes {nl.level = array<i64: 1>}

// -----

// A state reader is not a component.
func.func @not_a_component(%m: !nl.memory<1 heads, 4 -> 4, f32>,
                           %q: tensor<1x1x3x4xf32>) {
  // expected-error @+1 {{'nl.level' is only valid on ops that declare components}}
  %0 = nl.read %m(%q) at after {nl.level = array<i64: 1>}
      : !nl.memory<1 heads, 4 -> 4, f32>, tensor<1x1x3x4xf32>
  return
}

// -----

func.func @not_an_array(%m: tensor<4xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{'nl.level' must be an array<i64> of level numbers}}
  %0 = nl.moment "m" %m, %g {every = #nl.every<1 steps>, decay = 0.9,
                             scale = 1.0, nl.level = 1 : i64} : tensor<4xf32>
  return
}

// -----

func.func @i32_array(%w: tensor<4xf32>, %m: tensor<4xf32>) {
  // expected-error @+1 {{'nl.level' must be an array<i64> of level numbers}}
  %0 = nl.param_update "w" %w with(%m : tensor<4xf32>) {
      every = #nl.every<1 steps>, rule = #nl.sgd_momentum,
      nl.level = array<i32: 2>} : tensor<4xf32>
  return
}

// -----

func.func @too_few(%x: tensor<1x8x4xf32>, %n: tensor<4xf32>, %i: tensor<8x4xf32>,
                   %o: tensor<4x8xf32>) {
  // expected-error @+1 {{'nl.level' has 1 entries but the op declares 2 components}}
  %0 = nl.cms "cms" %x params(%n, %i, %o, %n, %i, %o
      : tensor<4xf32>, tensor<8x4xf32>, tensor<4x8xf32>,
        tensor<4xf32>, tensor<8x4xf32>, tensor<4x8xf32>) {
      chunks = array<i64: 1, 4>, variant = #nl.cms_variant<sequential>,
      signal = #nl.cms_signal<none>, activation = #nl.activation<silu>,
      nl.level = array<i64: 1>} : tensor<1x8x4xf32>
  return
}

// -----

func.func @too_many(%w: tensor<1x4x4xf32>) {
  // expected-error @+1 {{'nl.level' has 2 entries but the op declares 1 component}}
  %m = nl.memory "M" init(%w : tensor<1x4x4xf32>) {
      every = #nl.every<1 tokens>, model = #nl.linear, objective = #nl.l2<>,
      rule = #nl.dgd<>, nl.level = array<i64: 1, 2>}
      : !nl.memory<1 heads, 4 -> 4, f32>
  return
}

// -----

func.func @level_zero(%x: tensor<1x8x4xf32>, %n: tensor<4xf32>, %i: tensor<8x4xf32>,
                      %o: tensor<4x8xf32>) {
  // expected-error @+1 {{level numbers start at 1, got 0}}
  %0 = nl.cms "cms" %x params(%n, %i, %o, %n, %i, %o
      : tensor<4xf32>, tensor<8x4xf32>, tensor<4x8xf32>,
        tensor<4xf32>, tensor<8x4xf32>, tensor<4x8xf32>) {
      chunks = array<i64: 1, 4>, variant = #nl.cms_variant<sequential>,
      signal = #nl.cms_signal<none>, activation = #nl.activation<silu>,
      nl.level = array<i64: 1, 0>} : tensor<1x8x4xf32>
  return
}
