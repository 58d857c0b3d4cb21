// The chunk-parallel form of a memory: one loop over ceil(T/C) chunks that
// carries the state, per-chunk gradients as batched contractions over the
// chunk's tokens, and no loop over tokens for momentum GD.

// RUN: hope-opt %s --nl-lower-memories --canonicalize --cse --split-input-file | FileCheck %s

!m = !nl.memory<2 heads, 4 -> 4, f32>

// CHECK-LABEL: func.func @momentum
// CHECK-NOT: nl.memory
// CHECK: %[[T:.*]] = tensor.dim %arg0, %c2{{.*}} : tensor<?x2x?x4xf32>
// CHECK: %[[CHUNKS:.*]] = arith.ceildivui %[[T]], %c16
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %[[CHUNKS]] step %c1{{.*}} iter_args(
// The forward pass of the chunk's tokens at the chunk-start state: a
// contraction over d_in, batched over batch, heads and tokens.
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]
// The weighted gradient sum over the chunk's tokens: one contraction per
// parameter (rows x cols x weight, reduced over tokens).
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]
// CHECK-SAME: ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?xf32>)
// CHECK: scf.yield
// CHECK-NOT: nl.read
// CHECK: return
func.func @momentum(%k: tensor<?x2x?x4xf32>, %v: tensor<?x2x?x4xf32>, %lr: tensor<?x2x?xf32>,
                    %beta: tensor<?x2x?xf32>, %q: tensor<?x2x?x4xf32>, %w: tensor<2x4x4xf32>)
    -> (tensor<?x2x?x4xf32>, tensor<?x2x4x4xf32>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<16 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.momentum_gd<order = 1>} : !m
  nl.update %m keys(%k) values(%v) lr(%lr) momentum(%beta) : !m, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?xf32>, tensor<?x2x?xf32>
  %y = nl.read %m(%q) at after : !m, tensor<?x2x?x4xf32>
  %s = nl.final_state %m : !m -> tensor<?x2x4x4xf32>
  return %y, %s : tensor<?x2x?x4xf32>, tensor<?x2x4x4xf32>
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>

// DGD's rank-1 term reads the current state: the chunk applies it token by
// token in a loop nested in the chunk loop, after the batched backward.
// CHECK-LABEL: func.func @dgd
// CHECK: scf.for
// CHECK: linalg.generic
// CHECK: scf.for
// CHECK: tensor.extract_slice {{.*}} to tensor<?x2x4xf32>
// CHECK: scf.yield
// CHECK: scf.yield
func.func @dgd(%k: tensor<?x2x?x4xf32>, %v: tensor<?x2x?x4xf32>, %lr: tensor<?x2x?xf32>,
               %q: tensor<?x2x?x4xf32>, %w: tensor<2x4x4xf32>) -> tensor<?x2x?x4xf32> {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<8 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  nl.update %m keys(%k) values(%v) lr(%lr) : !m, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?xf32>
  %y = nl.read %m(%q) at chunk_start : !m, tensor<?x2x?x4xf32>
  return %y : tensor<?x2x?x4xf32>
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>

// A memory without an update is a fixed model: no loop.
// CHECK-LABEL: func.func @fixed
// CHECK-NOT: scf.for
// CHECK: linalg.generic
func.func @fixed(%q: tensor<?x2x?x4xf32>, %w: tensor<2x4x4xf32>) -> tensor<?x2x?x4xf32> {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<8 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  %y = nl.read %m(%q) at after : !m, tensor<?x2x?x4xf32>
  return %y : tensor<?x2x?x4xf32>
}
