// RUN: hope-opt %s --nl-verify-levels -split-input-file -verify-diagnostics

!m = !nl.memory<2 heads, 4 -> 4, f32>

// Two components of one frequency that need each other at the same token.
func.func @two_way(%x: tensor<1x2x8x4xf32>, %w: tensor<2x4x4xf32>, %eta: tensor<1x2x8xf32>) {
  // expected-error @+1 {{components 'A' and 'B' both update every 8 tokens and each needs the other's state at the same token}}
  %a = nl.memory "A" init(%w : tensor<2x4x4xf32>) {every = #nl.every<8 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  // expected-note @+1 {{'B' is declared here}}
  %b = nl.memory "B" init(%w : tensor<2x4x4xf32>) {every = #nl.every<8 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  %ra = nl.read %a(%x) at after : !m, tensor<1x2x8x4xf32>
  %rb = nl.read %b(%x) at after : !m, tensor<1x2x8x4xf32>
  nl.update %a keys(%rb) values(%x) lr(%eta) : !m, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
  nl.update %b keys(%ra) values(%x) lr(%eta) : !m, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>

// A memory whose update reads its own state after that update.
func.func @self(%x: tensor<1x2x8x4xf32>, %w: tensor<2x4x4xf32>, %eta: tensor<1x2x8xf32>) {
  // expected-error @+1 {{component 'A' needs its own state at the same token: a read at point 'after' feeds its update}}
  %a = nl.memory "A" init(%w : tensor<2x4x4xf32>) {every = #nl.every<1 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  %ra = nl.read %a(%x) at after : !m, tensor<1x2x8x4xf32>
  %t = nl.stop_gradient %ra : tensor<1x2x8x4xf32>
  nl.update %a keys(%x) values(%t) lr(%eta) : !m, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>

// A cycle through three components, across frequencies.
func.func @three_cycle(%x: tensor<1x2x8x4xf32>, %w: tensor<2x4x4xf32>, %eta: tensor<1x2x8xf32>) {
  // expected-error @+1 {{components 'A', 'B', 'C' form a same-token dependence cycle}}
  %a = nl.memory "A" init(%w : tensor<2x4x4xf32>) {every = #nl.every<2 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  // expected-note @+1 {{'B' is declared here}}
  %b = nl.memory "B" init(%w : tensor<2x4x4xf32>) {every = #nl.every<4 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  // expected-note @+1 {{'C' is declared here}}
  %c = nl.memory "C" init(%w : tensor<2x4x4xf32>) {every = #nl.every<8 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  %ra = nl.read %a(%x) at after : !m, tensor<1x2x8x4xf32>
  %rb = nl.read %b(%x) at after : !m, tensor<1x2x8x4xf32>
  %rc = nl.read %c(%x) at after : !m, tensor<1x2x8x4xf32>
  nl.update %a keys(%rc) values(%x) lr(%eta) : !m, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
  nl.update %b keys(%ra) values(%x) lr(%eta) : !m, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
  nl.update %c keys(%rb) values(%x) lr(%eta) : !m, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>

// Chunk sizes of components that feed each other must divide one another.
func.func @not_dividing(%x: tensor<1x2x8x4xf32>, %w: tensor<2x4x4xf32>, %eta: tensor<1x2x8xf32>) {
  // expected-note @+1 {{'A' is declared here}}
  %a = nl.memory "A" init(%w : tensor<2x4x4xf32>) {every = #nl.every<8 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  // expected-error @+1 {{component 'B' (every 12 tokens) reads 'A' (every 8 tokens): the periods of components that feed each other must divide one another}}
  %b = nl.memory "B" init(%w : tensor<2x4x4xf32>) {every = #nl.every<12 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  %ra = nl.read %a(%x) at chunk_start : !m, tensor<1x2x8x4xf32>
  nl.update %b keys(%ra) values(%x) lr(%eta) : !m, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
  return
}

// -----

// The same rule for optimizer levels counted in steps.
func.func @steps_not_dividing(%w: tensor<4x4xf32>, %g: tensor<4x4xf32>, %t: tensor<i64>) -> tensor<4x4xf32> {
  // expected-note @+1 {{'W.m' is declared here}}
  %m, %p = nl.moment "W.m" %g, %g pending(%g) step(%t : tensor<i64>) {every = #nl.every<2 steps>, decay = 0.9 : f64, scale = -0.1 : f64} : tensor<4x4xf32>, tensor<4x4xf32>
  // expected-error @+1 {{component 'W' (every 3 steps) reads 'W.m' (every 2 steps)}}
  %w1 = nl.param_update "W" %w with(%m : tensor<4x4xf32>) step(%t : tensor<i64>) {every = #nl.every<3 steps>, rule = #nl.sgd_momentum} : tensor<4x4xf32>
  return %w1 : tensor<4x4xf32>
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>

// Names identify components.
func.func @duplicate(%x: tensor<1x2x8x4xf32>, %w: tensor<2x4x4xf32>) {
  // expected-note @+1 {{first component named 'A' is here}}
  %a = nl.memory "A" init(%w : tensor<2x4x4xf32>) {every = #nl.every<8 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  // expected-error @+1 {{component name 'A' is used twice in this function}}
  %b = nl.memory "A" init(%w : tensor<2x4x4xf32>) {every = #nl.every<8 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  return
}
