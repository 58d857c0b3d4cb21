// hope-models optimizer-step: one training step of the optimizer levels, its
// arguments and results named for the manifest, and its mistakes (one line on
// stderr, exit 1).

// RUN: hope-models optimizer-step --optimizer=sgd --shapes=8x4,4 --weight-decay=0.01 --clip=1 | FileCheck %s --check-prefix=SGD
// SGD: func.func @optimizer_step(%[[P0:[^:]+]]: tensor<8x4xf32> {nl.state = "p0"}, %[[P1:[^:]+]]: tensor<4xf32> {nl.state = "p1"},
// SGD-SAME: %[[G0:[^:]+]]: tensor<8x4xf32> {nl.input = "grad.p0"}, %[[G1:[^:]+]]: tensor<4xf32> {nl.input = "grad.p1"},
// SGD-SAME: %[[M0:[^:]+]]: tensor<8x4xf32> {nl.state = "p0.m"}, %[[M1:[^:]+]]: tensor<4xf32> {nl.state = "p1.m"},
// SGD-SAME: %[[LR:[^:]+]]: tensor<f32> {nl.input = "lr"}, %[[T:[^:]+]]: tensor<i64> {nl.input = "step"})
// SGD-SAME: -> (tensor<8x4xf32> {nl.state = "p0"}, tensor<4xf32> {nl.state = "p1"}, tensor<8x4xf32> {nl.state = "p0.m"}, tensor<4xf32> {nl.state = "p1.m"})
// SGD: %[[C:.+]]:2, %{{.+}} = nl.clip_grad_norm %[[G0]], %[[G1]] {max_norm = 1.000000e+00 : f64} : tensor<8x4xf32>, tensor<4xf32> -> tensor<f32>
// SGD-NOT: nl.lr_schedule
// SGD: %[[NM0:.+]] = nl.moment "p0.m" %[[M0]], %[[C]]#0 l2(%[[P0]]) {decay = 9.000000e-01 : f64, every = #nl.every<1 steps>, scale = -1.000000e+00 : f64, weight_decay = 1.000000e-02 : f64}
// SGD: %[[NP0:.+]] = nl.param_update "p0" %[[P0]] with(%[[NM0]] : tensor<8x4xf32>) lr(%[[LR]] : tensor<f32>) {every = #nl.every<1 steps>, rule = #nl.sgd_momentum}
// SGD: return %[[NP0]], %{{.+}}, %[[NM0]], %{{.+}} :

// RUN: hope-models optimizer-step --optimizer=adamw --shapes=3 --dtype=f64 --warmup=10 --total-steps=100 | FileCheck %s --check-prefix=ADAMW
// Without clipping the op only measures (its norm is unused here: lowered to nothing).
// ADAMW: nl.clip_grad_norm %{{[^ ]+}} : tensor<3xf64> -> tensor<f64>{{$}}
// ADAMW: %[[R:.+]] = nl.lr_schedule %{{.+}} step(%[[T:.+]] : tensor<i64>) {total = 100 : i64, warmup = 10 : i64} : tensor<f64>
// ADAMW: nl.moment "p0.m" {{.+}} {decay = 9.000000e-01 : f64, {{.+}} scale = 0.09999{{[0-9]+}} : f64
// ADAMW: nl.moment "p0.v" {{.+}} power = 2 : i64
// ADAMW: nl.param_update "p0" {{.+}} step(%[[T]] : tensor<i64>) lr(%[[R]] : tensor<f64>) {{.+}}rule = #nl.adamw<lr = 1.000000e+00, beta1 = 9.000000e-01, beta2 = 0.99899999999999999, eps = 1.000000e-08, weight_decay = 0.000000e+00>

// Muon and M3 apply their rule to matrices and AdamW to the rest.
// RUN: hope-models optimizer-step --optimizer=muon --shapes=4x4,4 | FileCheck %s --check-prefix=MUON
// MUON: nl.param_update "p0" {{.+}}rule = #nl.muon<lr = 1.000000e+00>
// MUON: nl.param_update "p1" {{.+}}rule = #nl.adamw<
// RUN: hope-models optimizer-step --optimizer=m3 --shapes=4x6 --m3-every=3 | FileCheck %s --check-prefix=M3
// M3: {nl.state = "p0.m1"}
// M3-SAME: {nl.state = "p0.m2"}
// M3-SAME: {nl.state = "p0.m2.pending"}
// M3-SAME: {nl.state = "p0.v"}
// M3: nl.moment "p0.m2" {{.+}} pending(%{{.+}}) step(%{{.+}} : tensor<i64>) {{.+}}every = #nl.every<3 steps>
// M3: nl.param_update "p0" {{.+}}rule = #nl.m3<lr = 1.000000e+00, alpha = 5.000000e-01, eps = 1.000000e-08>

// RUN: not hope-models optimizer-step --optimizer=lion --shapes=4 2>&1 | FileCheck %s --check-prefix=KIND
// KIND: hope-models: optimizer-step: --optimizer=lion: unknown optimizer (sgd, adamw, muon or m3)
// RUN: not hope-models optimizer-step --optimizer=sgd 2>&1 | FileCheck %s --check-prefix=NOSHAPE
// NOSHAPE: hope-models: optimizer-step: give the parameters' shapes: --shapes=8x4,4
// RUN: not hope-models optimizer-step --optimizer=sgd --shapes=4x0 2>&1 | FileCheck %s --check-prefix=SHAPE
// SHAPE: hope-models: optimizer-step: bad shape '4x0': sizes are positive integers (at most 2^20) separated by 'x'
// RUN: not hope-models optimizer-step --optimizer=sgd --shapes=4 --dtype=bf16 2>&1 | FileCheck %s --check-prefix=DTYPE
// DTYPE: hope-models: optimizer-step: --dtype must be f32 or f64, got 'bf16'
// RUN: not hope-models optimizer-step --optimizer=adamw --shapes=4 --warmup=10 --total-steps=5 2>&1 | FileCheck %s --check-prefix=SCHEDULE
// SCHEDULE: hope-models: optimizer-step: the step does not verify: 'nl.lr_schedule' op the cosine decay ends at step total = 5, which must come after the warm-up (10 steps)
// RUN: not hope-models optimizer-step --optimizer=adamw --shapes=4 --clip=-1 2>&1 | count 1
