// What the code generator does not compile yet is a clear error at the memory.
// RUN: hope-opt %s --nl-lower-memories -split-input-file -verify-diagnostics

!m = !nl.memory<1 heads, 2 -> 2, f32>
func.func @order2(%k: tensor<1x1x4x2xf32>, %lr: tensor<1x1x4xf32>, %k0: tensor<1x2x2xf32>) {
  // expected-error @+1 {{cannot be compiled yet: momentum of order 2 is not implemented by the code generator}}
  %m = nl.memory "M" init(%k0 : tensor<1x2x2xf32>) {every = #nl.every<2 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.momentum_gd<order = 2>} : !m
  nl.update %m keys(%k) values(%k) lr(%lr) momentum(%lr, %lr) : !m, tensor<1x1x4x2xf32>, tensor<1x1x4x2xf32>, tensor<1x1x4xf32>, tensor<1x1x4xf32>, tensor<1x1x4xf32>
  return
}

// -----

!m = !nl.memory<1 heads, 2 -> 2, f32>
func.func @ns5(%k: tensor<1x1x4x2xf32>, %lr: tensor<1x1x4xf32>, %w: tensor<1x2x2xf32>) {
  // expected-error @+1 {{cannot be compiled yet: the Newton-Schulz output is not implemented}}
  %m = nl.memory "M" init(%w : tensor<1x2x2xf32>) {every = #nl.every<2 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.momentum_gd<order = 1, newton_schulz = true>} : !m
  nl.update %m keys(%k) values(%k) lr(%lr) momentum(%lr) : !m, tensor<1x1x4x2xf32>, tensor<1x1x4x2xf32>, tensor<1x1x4xf32>, tensor<1x1x4xf32>
  return
}

// -----

!m = !nl.memory<1 heads, 2 -> 2, f32>
func.func @pre_norm(%k: tensor<1x1x4x2xf32>, %lr: tensor<1x1x4xf32>, %w1: tensor<1x3x2xf32>, %w2: tensor<1x2x3xf32>, %n: tensor<1x2xf32>) {
  // expected-error @+1 {{cannot be compiled yet: MLP memories with norm = pre}}
  %m = nl.memory "M" init(%w1, %w2, %n : tensor<1x3x2xf32>, tensor<1x2x3xf32>, tensor<1x2xf32>) {every = #nl.every<2 tokens>, model = #nl.mlp<hidden = 3, norm = pre>, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  nl.update %m keys(%k) values(%k) lr(%lr) : !m, tensor<1x1x4x2xf32>, tensor<1x1x4x2xf32>, tensor<1x1x4xf32>
  return
}

// -----

// Ops between reads and updates run per block of tokens: they must be
// token-local.
!m = !nl.memory<1 heads, 2 -> 2, f32>
func.func @mixing(%k: tensor<1x1x?x2xf32>, %lr: tensor<1x1x?xf32>, %w: tensor<1x2x2xf32>, %c: tensor<2x3xf32>) {
  %m = nl.memory "M" init(%w : tensor<1x2x2xf32>) {every = #nl.every<2 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  %t = nl.read %m(%k) at chunk_start : !m, tensor<1x1x?x2xf32>
  %flat = nl.merge_heads %t : tensor<1x1x?x2xf32>
  // expected-error @+1 {{is computed from memory reads and feeds an update, so it runs per block of tokens, which needs a token-local op}}
  %conv = nl.causal_conv %flat, %c : tensor<1x?x2xf32>, tensor<2x3xf32>
  %heads = nl.split_heads %conv into 1 heads : tensor<1x?x2xf32>
  nl.update %m keys(%k) values(%heads) lr(%lr) : !m, tensor<1x1x?x2xf32>, tensor<1x1x?x2xf32>, tensor<1x1x?xf32>
  return
}

// -----

!m = !nl.memory<1 heads, 2 -> 2, f32>
func.func @stream_fixed(%w: tensor<1x2x2xf32>) {
  %m = nl.memory "M" init(%w : tensor<1x2x2xf32>) {every = #nl.every<2 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  // expected-error @+1 {{streams a memory that never learns: it has no state to carry}}
  %r, %p = nl.stream_state %m : !m -> reference(tensor<?x1x2x2xf32>) position tensor<i64>
  return
}

// -----

!m = !nl.memory<1 heads, 2 -> 2, f32>
func.func @positions(%k: tensor<1x1x?x2xf32>, %lr: tensor<1x1x?xf32>, %w: tensor<1x2x2xf32>, %p: tensor<i64>) {
  %a = nl.memory "A" init(%w : tensor<1x2x2xf32>) position(%p : tensor<i64>) {every = #nl.every<2 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  // expected-error @+1 {{has no position while other memories of this function stream from one}}
  %b = nl.memory "B" init(%w : tensor<1x2x2xf32>) {every = #nl.every<2 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  nl.update %a keys(%k) values(%k) lr(%lr) : !m, tensor<1x1x?x2xf32>, tensor<1x1x?x2xf32>, tensor<1x1x?xf32>
  nl.update %b keys(%k) values(%k) lr(%lr) : !m, tensor<1x1x?x2xf32>, tensor<1x1x?x2xf32>, tensor<1x1x?xf32>
  return
}
