// RUN: hope-opt %s | hope-opt | FileCheck %s
// RUN: hope-opt %s --mlir-print-op-generic | hope-opt | FileCheck %s

!m = !nl.memory<2 heads, 4 -> 4, f32>

// A piece of a sequence: state, reference and position in; what the next
// piece needs out.
// CHECK-LABEL: func.func @token_variant
// CHECK: nl.memory "M" init(%{{.*}} : tensor<?x2x4x4xf32>) reference(%{{.*}} : tensor<?x2x4x4xf32>) position(%{{.*}} : tensor<i64>)
// CHECK: nl.stream_state %{{.*}} : !nl.memory<2 heads, 4 -> 4, f32> -> reference(tensor<?x2x4x4xf32>) position tensor<i64>
func.func @token_variant(%k: tensor<?x2x?x4xf32>, %lr: tensor<?x2x?xf32>, %w: tensor<?x2x4x4xf32>,
                         %r: tensor<?x2x4x4xf32>, %p: tensor<i64>) -> (tensor<?x2x4x4xf32>, tensor<i64>) {
  %m = nl.memory "M" init(%w : tensor<?x2x4x4xf32>) reference(%r : tensor<?x2x4x4xf32>) position(%p : tensor<i64>) {every = #nl.every<4 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  nl.update %m keys(%k) values(%k) lr(%lr) : !m, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?xf32>
  %ref, %pos = nl.stream_state %m : !m -> reference(tensor<?x2x4x4xf32>) position tensor<i64>
  return %ref, %pos : tensor<?x2x4x4xf32>, tensor<i64>
}

// The chunk-aggregated variant also carries the unfinished chunk's sum.
// CHECK-LABEL: func.func @aggregated
// CHECK: pending(%{{.*}} : tensor<?x2x4x4xf32>) position(
// CHECK: nl.stream_state {{.*}} -> reference(tensor<?x2x4x4xf32>) pending(tensor<?x2x4x4xf32>) position tensor<i64>
func.func @aggregated(%k: tensor<?x2x?x4xf32>, %lr: tensor<?x2x?xf32>, %w: tensor<?x2x4x4xf32>,
                      %r: tensor<?x2x4x4xf32>, %g: tensor<?x2x4x4xf32>, %p: tensor<i64>) {
  %m = nl.memory "M" init(%w : tensor<?x2x4x4xf32>) reference(%r : tensor<?x2x4x4xf32>) pending(%g : tensor<?x2x4x4xf32>) position(%p : tensor<i64>) {every = #nl.every<4 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.momentum_gd<order = 0>, chunk_aggregated = #nl.chunk_aggregated<linearize = 4>} : !m
  nl.update %m keys(%k) values(%k) lr(%lr) : !m, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?xf32>
  %ref, %pend, %pos = nl.stream_state %m : !m -> reference(tensor<?x2x4x4xf32>) pending(tensor<?x2x4x4xf32>) position tensor<i64>
  return
}
