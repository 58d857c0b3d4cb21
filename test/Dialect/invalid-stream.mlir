// RUN: hope-opt %s -split-input-file -verify-diagnostics

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @reference_count(%w: tensor<2x4x4xf32>, %r: tensor<?x2x4x4xf32>) {
  // expected-error @+1 {{reference holds the state at the last chunk boundary, one tensor per state parameter (1), got 2}}
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) reference(%r, %r : tensor<?x2x4x4xf32>, tensor<?x2x4x4xf32>) {every = #nl.every<4 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @reference_shared(%w: tensor<2x4x4xf32>) {
  // expected-error @+1 {{reference 'W' (#0) must have shape [B, 2, 4, 4], got [2, 4, 4]}}
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) reference(%w : tensor<2x4x4xf32>) {every = #nl.every<4 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @pending_token_variant(%w: tensor<2x4x4xf32>, %g: tensor<?x2x4x4xf32>) {
  // expected-error @+1 {{pending is the gradient sum of an unfinished chunk and exists only for the chunk-aggregated variant}}
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) pending(%g : tensor<?x2x4x4xf32>) {every = #nl.every<4 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @pending_count(%w: tensor<2x4x4xf32>, %g: tensor<?x2x4x4xf32>) {
  // expected-error @+1 {{pending holds one tensor per state parameter (1), got 2}}
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) pending(%g, %g : tensor<?x2x4x4xf32>, tensor<?x2x4x4xf32>) {every = #nl.every<4 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.momentum_gd<order = 0>, chunk_aggregated = #nl.chunk_aggregated<linearize = 4>} : !m
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @stream_reference_count(%w: tensor<2x4x4xf32>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<4 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  // expected-error @+1 {{returns the reference state: 1 tensors, got 2}}
  %r:2, %p = nl.stream_state %m : !m -> reference(tensor<?x2x4x4xf32>, tensor<?x2x4x4xf32>) position tensor<i64>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @stream_pending(%w: tensor<2x4x4xf32>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<4 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  // expected-error @+1 {{returns 0 pending gradient sums for this memory, got 1}}
  %r, %g, %p = nl.stream_state %m : !m -> reference(tensor<?x2x4x4xf32>) pending(tensor<?x2x4x4xf32>) position tensor<i64>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @stream_shape(%w: tensor<2x4x4xf32>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<4 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  // expected-error @+1 {{reference 'W' (#0) must have shape [B, 2, 4, 4], got [2, 4, 4]}}
  %r, %p = nl.stream_state %m : !m -> reference(tensor<2x4x4xf32>) position tensor<i64>
  return
}

// -----

func.func @stream_handle(%m: !nl.memory<2 heads, 4 -> 4, f32>) {
  // expected-error @+1 {{the memory handle must come from an nl.memory op}}
  %r, %p = nl.stream_state %m : !nl.memory<2 heads, 4 -> 4, f32> -> reference(tensor<?x2x4x4xf32>) position tensor<i64>
  return
}
