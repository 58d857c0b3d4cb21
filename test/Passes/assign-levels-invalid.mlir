// nl-assign-levels refuses an illegal function with the legality diagnostics.
// RUN: hope-opt %s --nl-assign-levels -verify-diagnostics

func.func @illegal(%x: tensor<1x2x8x4xf32>, %w: tensor<2x4x4xf32>, %eta: tensor<1x2x8xf32>) {
  // expected-error @+1 {{component 'A' needs its own state at the same token}}
  %a = nl.memory "A" init(%w : tensor<2x4x4xf32>) {every = #nl.every<1 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !nl.memory<2 heads, 4 -> 4, f32>
  %ra = nl.read %a(%x) at after : !nl.memory<2 heads, 4 -> 4, f32>, tensor<1x2x8x4xf32>
  nl.update %a keys(%ra) values(%x) lr(%eta) : !nl.memory<2 heads, 4 -> 4, f32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
  return
}
