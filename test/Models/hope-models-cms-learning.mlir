// hope-models hope-lm --streaming --cms-learning=LR[,LR...] [--cms-signal=local]:
// every CMS op learns from the task loss (or its local objective), the blocks'
// parameters are streaming states with their gradient sums and the last token
// (docs/training.md, "CMS test-time learning").

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
// ONE-SHOT: hope-models: --cms-learning needs --streaming

// The nested CMS adds every faster block's meta-learnt initial state and its
// gradient sum (not the slowest block's: nothing resets it).
// RUN: hope-models hope-lm --config=tiny --layers=1 --streaming --cms=nested --cms-learning=0.25 -o - | FileCheck %s --check-prefix=NESTED
// NESTED: func.func @hope_lm(
// NESTED-SAME: tensor<64x32xf32> {nl.state = "layer0.cms1_in.grad_sum"}
// NESTED-SAME: tensor<32xf32> {nl.state = "layer0.cms0_norm.initial"}
// NESTED-SAME: tensor<32x64xf32> {nl.state = "layer0.cms1_out.initial"}
// NESTED-NOT: cms2_norm.initial
// NESTED-SAME: tensor<64x32xf32> {nl.state = "layer0.cms0_in.initial_grad_sum"}
// NESTED-SAME: tensor<?x1xi64> {nl.state = "cms_last_token"}
// NESTED: variant = #nl.cms_variant<nested>

// --cms-signal=local: every block learns its local objective; no last token.
// RUN: hope-models hope-lm --config=tiny --layers=1 --streaming --cms-learning=0.25 --cms-signal=local -o - | FileCheck %s --check-prefix=LOCAL
// LOCAL: func.func @hope_lm(
// LOCAL-NOT: cms_last_token
// LOCAL: nl.cms "layer0.cms"
// LOCAL-SAME: local_objective = #nl.l2<>
// LOCAL-SAME: signal = #nl.cms_signal<local>
// RUN: not hope-models hope-lm --config=tiny --streaming --cms-signal=local 2>&1 | FileCheck %s --check-prefix=SIGNAL-ALONE
// SIGNAL-ALONE: hope-models: --cms-signal needs --cms-learning
// RUN: not hope-models hope-lm --config=tiny --streaming --cms-learning=0.25 --cms-signal=none 2>&1 | FileCheck %s --check-prefix=SIGNAL-NAME
// SIGNAL-NAME: hope-models: unknown --cms-signal 'none'; signals: task, local
// RUN: not hope-models hope-block --config=tiny --cms-signal=local 2>&1 | FileCheck %s --check-prefix=SIGNAL-APPLY
// SIGNAL-APPLY: hope-models: --cms-signal does not apply to hope-block (see --help)

// The independent CMS learns its blocks; its mixing weights stay weights.
// RUN: hope-models hope-lm --config=tiny --streaming --cms=independent --cms-learning=0.25 -o - | FileCheck %s --check-prefix=INDEPENDENT
// INDEPENDENT: %{{.*}}: tensor<64x32xf32> {nl.state = "layer0.cms0_in"}
// INDEPENDENT-SAME: %{{.*}}: tensor<3xf32> {nl.weight = "layer0.cms_mix"}
// INDEPENDENT: variant = #nl.cms_variant<independent>

// One rate per CMS level (the fastest first) gives each block its own.
// RUN: hope-models hope-lm --config=tiny --layers=1 --streaming --cms=nested --cms-learning=0.05,0.02,0.01 -o - | FileCheck %s --check-prefix=PER-LEVEL
// PER-LEVEL: nl.cms "layer0.cms"
// PER-LEVEL-SAME: lr = array<f64: 5.000000e-02, 2.000000e-02, 1.000000e-02>
// The command in the header keeps the rates as given.
// RUN: hope-models hope-lm --config=tiny --layers=1 --streaming --cms-learning=0.05,0.02,0.01 -o - | FileCheck %s --check-prefix=HEADER
// HEADER: --cms-learning=0.05,0.02,0.01
// RUN: not hope-models hope-lm --config=tiny --streaming --cms-learning=0.05,0.02 2>&1 | FileCheck %s --check-prefix=COUNT
// COUNT: hope-models: --cms-learning has 2 rates but the CMS has 3 levels (chunks 1,4,8): give one rate, or one per level
// RUN: not hope-models hope-lm --config=tiny --streaming --cms-learning=0.05,fast,0.01 2>&1 | FileCheck %s --check-prefix=NUMBER
// NUMBER: hope-models: --cms-learning: 'fast' is not a number (rates: lr or lr,lr,...)
// RUN: not hope-models hope-lm --config=tiny --streaming --cms-learning=0.05,,0.01 2>&1 | FileCheck %s --check-prefix=EMPTY
// EMPTY: hope-models: --cms-learning: '' is not a number (rates: lr or lr,lr,...)
// RUN: not hope-models hope-lm --config=tiny --streaming --cms-learning=0 2>&1 | FileCheck %s --check-prefix=RATE
// RATE: hope-models: --cms-learning rates must be positive, got 0
// RUN: not hope-models hope-lm --config=tiny --streaming --cms-learning=0.05,-0.01,0.01 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// NEGATIVE: hope-models: --cms-learning rates must be positive, got -0.01
// RUN: not hope-models hope-block --config=tiny --cms-learning=0.25 2>&1 | FileCheck %s --check-prefix=APPLY
// APPLY: hope-models: --cms-learning does not apply to hope-block (see --help)
