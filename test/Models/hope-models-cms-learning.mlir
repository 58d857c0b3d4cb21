// hope-models hope-lm --streaming --cms-learning=LR: every CMS op learns from
// the task loss, the blocks' parameters are streaming states with their
// gradient sums and the last token (docs/training.md, "CMS test-time
// learning").

// RUN: hope-models hope-lm --config=tiny --streaming --cms-learning=0.25 -o - | FileCheck %s
// CHECK: func.func @hope_lm(
// CHECK-SAME: %{{.*}}: tensor<32xf32> {nl.state = "layer0.cms0_norm"}
// CHECK-SAME: %{{.*}}: tensor<64x32xf32> {nl.state = "layer0.cms0_in"}
// CHECK-SAME: %{{.*}}: tensor<64x32xf32> {nl.state = "layer1.cms2_in.grad_sum"}
// CHECK-SAME: %{{.*}}: tensor<?x1xi64> {nl.state = "cms_last_token"}
// CHECK-SAME: tensor<32x64xf32> {nl.state = "layer1.cms2_out"}
// CHECK-SAME: tensor<?x1xi64> {nl.state = "cms_last_token"}
// CHECK: nl.cms "layer0.cms"
// CHECK-SAME: lr = array<f64: 2.500000e-01, 2.500000e-01, 2.500000e-01>
// CHECK-SAME: signal = #nl.cms_signal<task>

// Without the option the blocks are frozen weights.
// RUN: hope-models hope-lm --config=tiny --streaming -o - | FileCheck %s --check-prefix=FROZEN
// FROZEN: %{{.*}}: tensor<64x32xf32> {nl.weight = "layer0.cms0_in"}
// FROZEN-NOT: cms_last_token
// FROZEN: signal = #nl.cms_signal<none>

// RUN: not hope-models hope-lm --config=tiny --cms-learning=0.25 2>&1 | FileCheck %s --check-prefix=ONE-SHOT
// ONE-SHOT: hope-models: --cms-learning needs --streaming and the sequential or independent CMS
// RUN: not hope-models hope-lm --config=tiny --streaming --cms=nested --cms-learning=0.25 2>&1 | FileCheck %s --check-prefix=ONE-SHOT

// The independent CMS learns its blocks; its mixing weights stay weights.
// RUN: hope-models hope-lm --config=tiny --streaming --cms=independent --cms-learning=0.25 -o - | FileCheck %s --check-prefix=INDEPENDENT
// INDEPENDENT: %{{.*}}: tensor<64x32xf32> {nl.state = "layer0.cms0_in"}
// INDEPENDENT-SAME: %{{.*}}: tensor<3xf32> {nl.weight = "layer0.cms_mix"}
// INDEPENDENT: variant = #nl.cms_variant<independent>
// RUN: not hope-models hope-lm --config=tiny --streaming --cms-learning=0 2>&1 | FileCheck %s --check-prefix=RATE
// RATE: hope-models: --cms-learning must be positive, got 0
// RUN: not hope-models hope-block --config=tiny --cms-learning=0.25 2>&1 | FileCheck %s --check-prefix=APPLY
// APPLY: hope-models: --cms-learning does not apply to hope-block (see --help)
