// RUN: hope-opt %s --nl-assign-levels | FileCheck %s
// RUN: hope-opt %s --nl-assign-levels | hope-opt --nl-assign-levels | FileCheck %s

!m = !nl.memory<2 heads, 4 -> 4, f32>

// CHECK-LABEL: func.func @levels
// CHECK: nl.memory "B" {{.*}}nl.level = array<i64: 2>
// CHECK: nl.memory "A" {{.*}}nl.level = array<i64: 1>
// CHECK: nl.cms "cms" {{.*}}nl.level = array<i64: 3, 4>
func.func @levels(%x: tensor<1x2x8x4xf32>, %w: tensor<2x4x4xf32>, %eta: tensor<1x2x8xf32>,
                  %s: tensor<1x8x8xf32>, %n: tensor<8xf32>, %wi: tensor<16x8xf32>, %wo: tensor<8x16xf32>) -> tensor<1x8x8xf32> {
  %b = nl.memory "B" init(%w : tensor<2x4x4xf32>) {every = #nl.every<16 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.momentum_gd<order = 0>} : !m
  %a = nl.memory "A" init(%w : tensor<2x4x4xf32>) {every = #nl.every<16 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.momentum_gd<order = 0>} : !m
  %ra = nl.read %a(%x) at after : !m, tensor<1x2x8x4xf32>
  nl.update %b keys(%ra) values(%x) lr(%eta) : !m, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
  %y = nl.cms "cms" %s params(%n, %wi, %wo, %n, %wi, %wo : tensor<8xf32>, tensor<16x8xf32>, tensor<8x16xf32>, tensor<8xf32>, tensor<16x8xf32>, tensor<8x16xf32>) {chunks = array<i64: 32, 32>, variant = #nl.cms_variant<sequential>, signal = #nl.cms_signal<none>, activation = #nl.activation<silu>} : tensor<1x8x8xf32>
  return %y : tensor<1x8x8xf32>
}
