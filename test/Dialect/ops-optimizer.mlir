// Round trip of the optimizer levels: nl.moment (per step and periodic) and
// nl.param_update with each rule.
// RUN: hope-opt %s | hope-opt | FileCheck %s
// RUN: hope-opt %s --mlir-print-op-generic | hope-opt | FileCheck %s

// SGD with momentum: a per-step momentum level (default power elided) feeding
// a parameter group.

// CHECK-LABEL: func.func @sgd_momentum
// CHECK-SAME: (%[[W:[^:]+]]: tensor<64x32xf32>, %[[M:[^:]+]]: tensor<64x32xf32>, %[[G:[^:]+]]: tensor<64x32xf32>)
// CHECK: %[[M1:.+]] = nl.moment "W.m" %[[M]], %[[G]] {decay = 9.000000e-01 : f64, every = #nl.every<1 steps>, nl.level = array<i64: 2>, scale = -1.000000e-02 : f64} : tensor<64x32xf32>{{$}}
// CHECK: %[[W1:.+]] = nl.param_update "W" %[[W]] with(%[[M1]] : tensor<64x32xf32>) {every = #nl.every<1 steps>, nl.level = array<i64: 3>, rule = #nl.sgd_momentum} : tensor<64x32xf32>{{$}}
// CHECK: return %[[W1]], %[[M1]] : tensor<64x32xf32>, tensor<64x32xf32>
func.func @sgd_momentum(%w: tensor<64x32xf32>, %m: tensor<64x32xf32>,
                        %g: tensor<64x32xf32>)
    -> (tensor<64x32xf32>, tensor<64x32xf32>) {
  %m1 = nl.moment "W.m" %m, %g {every = #nl.every<1 steps>, decay = 0.9,
                                scale = -0.01, power = 1,
                                nl.level = array<i64: 2>} : tensor<64x32xf32>
  %w1 = nl.param_update "W" %w with(%m1 : tensor<64x32xf32>) {
      every = #nl.every<1 steps>, rule = #nl.sgd_momentum,
      nl.level = array<i64: 3>} : tensor<64x32xf32>
  return %w1, %m1 : tensor<64x32xf32>, tensor<64x32xf32>
}

// AdamW: first and second moments (power 2) with the decays and scales the
// rule assumes (1 - beta is not exact in binary), and the step count.

// CHECK-LABEL: func.func @adamw
// CHECK-SAME: (%[[W:[^:]+]]: tensor<16xf32>, %[[M:[^:]+]]: tensor<16xf32>, %[[V:[^:]+]]: tensor<16xf32>, %[[G:[^:]+]]: tensor<16xf32>, %[[T:[^:]+]]: tensor<i64>)
// CHECK: %[[M1:.+]] = nl.moment "b.m" %[[M]], %[[G]] {decay = 9.000000e-01 : f64, every = #nl.every<1 steps>, scale = 1.000000e-01 : f64} : tensor<16xf32>{{$}}
// CHECK: %[[V1:.+]] = nl.moment "b.v" %[[V]], %[[G]] {decay = 0.99899999999999999 : f64, every = #nl.every<1 steps>, power = 2 : i64, scale = 1.000000e-03 : f64} : tensor<16xf32>{{$}}
// CHECK: %[[W1:.+]] = nl.param_update "b" %[[W]] with(%[[M1]], %[[V1]] : tensor<16xf32>, tensor<16xf32>) step(%[[T]] : tensor<i64>)
// CHECK-SAME: {every = #nl.every<1 steps>, rule = #nl.adamw<lr = 1.000000e-03, beta1 = 9.000000e-01, beta2 = 0.99899999999999999, eps = 1.000000e-08, weight_decay = 1.000000e-02>} : tensor<16xf32>{{$}}
// CHECK: return %[[W1]] : tensor<16xf32>
func.func @adamw(%w: tensor<16xf32>, %m: tensor<16xf32>, %v: tensor<16xf32>,
                 %g: tensor<16xf32>, %t: tensor<i64>) -> tensor<16xf32> {
  %m1 = nl.moment "b.m" %m, %g {every = #nl.every<1 steps>, decay = 0.9,
                                scale = 0.1} : tensor<16xf32>
  %v1 = nl.moment "b.v" %v, %g {every = #nl.every<1 steps>, decay = 0.999,
                                scale = 0.001, power = 2} : tensor<16xf32>
  %w1 = nl.param_update "b" %w with(%m1, %v1 : tensor<16xf32>, tensor<16xf32>)
      step(%t : tensor<i64>) {every = #nl.every<1 steps>,
      rule = #nl.adamw<lr = 1.0e-03, beta1 = 0.9, beta2 = 0.999, eps = 1.0e-08,
                       weight_decay = 0.01>} : tensor<16xf32>
  return %w1 : tensor<16xf32>
}

// Muon on a matrix, updated every 2 steps (it needs the step count) from
// states that are plain
// arguments (not nl.moment results); weight decay 0 is allowed for AdamW.

// CHECK-LABEL: func.func @muon
// CHECK-SAME: (%[[W:[^:]+]]: tensor<8x8xbf16>, %[[M:[^:]+]]: tensor<8x8xbf16>, %[[V:[^:]+]]: tensor<8x8xbf16>, %[[T:[^:]+]]: tensor<i64>)
// CHECK: %[[W1:.+]] = nl.param_update "W" %[[W]] with(%[[M]] : tensor<8x8xbf16>) step(%[[T]] : tensor<i64>) {every = #nl.every<2 steps>, rule = #nl.muon<lr = 2.000000e-02>} : tensor<8x8xbf16>{{$}}
// CHECK: %[[W2:.+]] = nl.param_update "W_adam" %[[W1]] with(%[[M]], %[[V]] : tensor<8x8xbf16>, tensor<8x8xbf16>) step(%[[T]] : tensor<i64>)
// CHECK-SAME: {every = #nl.every<1 steps>, rule = #nl.adamw<lr = 1.000000e-03, beta1 = 0.000000e+00, beta2 = 5.000000e-01, eps = 1.000000e-08, weight_decay = 0.000000e+00>} : tensor<8x8xbf16>{{$}}
// CHECK: return %[[W2]] : tensor<8x8xbf16>
func.func @muon(%w: tensor<8x8xbf16>, %m: tensor<8x8xbf16>, %v: tensor<8x8xbf16>,
                %t: tensor<i64>) -> tensor<8x8xbf16> {
  %w1 = nl.param_update "W" %w with(%m : tensor<8x8xbf16>) step(%t : tensor<i64>) {
      every = #nl.every<2 steps>, rule = #nl.muon<lr = 0.02>} : tensor<8x8xbf16>
  %w2 = nl.param_update "W_adam" %w1 with(%m, %v : tensor<8x8xbf16>, tensor<8x8xbf16>)
      step(%t : tensor<i64>) {every = #nl.every<1 steps>,
      rule = #nl.adamw<lr = 1.0e-03, beta1 = 0.0, beta2 = 0.5, eps = 1.0e-08,
                       weight_decay = 0.0>} : tensor<8x8xbf16>
  return %w2 : tensor<8x8xbf16>
}

// M3: a fast momentum, a slow momentum updated every 4 steps (periodic form:
// pending sum in and out, step count) and a second moment.

// CHECK-LABEL: func.func @m3
// CHECK-SAME: (%[[W:[^:]+]]: tensor<32x16xf32>, %[[M1:[^:]+]]: tensor<32x16xf32>, %[[M2:[^:]+]]: tensor<32x16xf32>, %[[P:[^:]+]]: tensor<32x16xf32>, %[[V:[^:]+]]: tensor<32x16xf32>, %[[G:[^:]+]]: tensor<32x16xf32>, %[[T:[^:]+]]: tensor<i64>)
// CHECK: %[[FAST:.+]] = nl.moment "W.m1" %[[M1]], %[[G]] {decay = 9.000000e-01 : f64, every = #nl.every<1 steps>, scale = 1.000000e+00 : f64} : tensor<32x16xf32>{{$}}
// CHECK: %[[SLOW:.+]], %[[PENDING:.+]] = nl.moment "W.m2" %[[M2]], %[[G]] pending(%[[P]]) step(%[[T]] : tensor<i64>)
// CHECK-SAME: {decay = 0.98999999999999999 : f64, every = #nl.every<4 steps>, nl.level = array<i64: 4>, scale = 1.000000e+00 : f64} : tensor<32x16xf32>, tensor<32x16xf32>{{$}}
// CHECK: %[[SECOND:.+]] = nl.moment "W.v" %[[V]], %[[G]] {decay = 0.99899999999999999 : f64, every = #nl.every<1 steps>, power = 2 : i64, scale = 1.000000e-03 : f64} : tensor<32x16xf32>{{$}}
// CHECK: %[[W1:.+]] = nl.param_update "W" %[[W]] with(%[[FAST]], %[[SLOW]], %[[SECOND]] : tensor<32x16xf32>, tensor<32x16xf32>, tensor<32x16xf32>)
// CHECK-SAME: {every = #nl.every<1 steps>, rule = #nl.m3<lr = 2.000000e-02, alpha = 0.000000e+00, eps = 1.000000e-08>} : tensor<32x16xf32>{{$}}
// CHECK: return %[[W1]], %[[PENDING]] : tensor<32x16xf32>, tensor<32x16xf32>
func.func @m3(%w: tensor<32x16xf32>, %m1: tensor<32x16xf32>, %m2: tensor<32x16xf32>,
              %p: tensor<32x16xf32>, %v: tensor<32x16xf32>, %g: tensor<32x16xf32>,
              %t: tensor<i64>) -> (tensor<32x16xf32>, tensor<32x16xf32>) {
  %fast = nl.moment "W.m1" %m1, %g {every = #nl.every<1 steps>, decay = 0.9,
                                    scale = 1.0} : tensor<32x16xf32>
  %slow, %pending = nl.moment "W.m2" %m2, %g pending(%p) step(%t : tensor<i64>) {
      every = #nl.every<4 steps>, decay = 0.99, scale = 1.0,
      nl.level = array<i64: 4>} : tensor<32x16xf32>, tensor<32x16xf32>
  %second = nl.moment "W.v" %v, %g {every = #nl.every<1 steps>, decay = 0.999,
                                    scale = 0.001, power = 2} : tensor<32x16xf32>
  %w1 = nl.param_update "W" %w with(%fast, %slow, %second
      : tensor<32x16xf32>, tensor<32x16xf32>, tensor<32x16xf32>) {
      every = #nl.every<1 steps>,
      rule = #nl.m3<lr = 0.02, alpha = 0.0, eps = 1.0e-8>} : tensor<32x16xf32>
  return %w1, %pending : tensor<32x16xf32>, tensor<32x16xf32>
}

// torch.optim.SGD's form with a run-time learning rate: a momentum buffer
// (scale -1) with coupled weight decay, the rate from a schedule, and the
// gradients clipped by their global norm first.

// CHECK-LABEL: func.func @sgd_runtime_lr
// CHECK-SAME: (%[[W:[^:]+]]: tensor<8x4xf32>, %[[B:[^:]+]]: tensor<4xf32>, %[[MW:[^:]+]]: tensor<8x4xf32>, %[[MB:[^:]+]]: tensor<4xf32>, %[[GW:[^:]+]]: tensor<8x4xf32>, %[[GB:[^:]+]]: tensor<4xf32>, %[[R:[^:]+]]: tensor<f32>, %[[T:[^:]+]]: tensor<i64>)
// CHECK: %[[C:.+]]:2, %{{.+}} = nl.clip_grad_norm %[[GW]], %[[GB]] {max_norm = 1.000000e+00 : f64} : tensor<8x4xf32>, tensor<4xf32> -> tensor<f32>{{$}}
// CHECK: %[[RATE:.+]] = nl.lr_schedule %[[R]] step(%[[T]] : tensor<i64>) {min_ratio = 1.000000e-01 : f64, total = 100 : i64, warmup = 10 : i64} : tensor<f32>{{$}}
// CHECK: %[[MW1:.+]] = nl.moment "W.m" %[[MW]], %[[C]]#0 l2(%[[W]]) {decay = 9.000000e-01 : f64, every = #nl.every<1 steps>, scale = -1.000000e+00 : f64, weight_decay = 1.000000e-04 : f64} : tensor<8x4xf32>{{$}}
// CHECK: %[[W1:.+]] = nl.param_update "W" %[[W]] with(%[[MW1]] : tensor<8x4xf32>) lr(%[[RATE]] : tensor<f32>) {every = #nl.every<1 steps>, rule = #nl.sgd_momentum} : tensor<8x4xf32>{{$}}
// CHECK: nl.param_update "b" %[[B]] with({{.*}}) step(%[[T]] : tensor<i64>) lr(%[[RATE]] : tensor<f32>)
func.func @sgd_runtime_lr(%w: tensor<8x4xf32>, %b: tensor<4xf32>,
                          %mw: tensor<8x4xf32>, %mb: tensor<4xf32>,
                          %gw: tensor<8x4xf32>, %gb: tensor<4xf32>,
                          %r: tensor<f32>, %t: tensor<i64>)
    -> (tensor<8x4xf32>, tensor<4xf32>) {
  %c:3 = nl.clip_grad_norm %gw, %gb {max_norm = 1.0} : tensor<8x4xf32>, tensor<4xf32> -> tensor<f32>
  %rate = nl.lr_schedule %r step(%t : tensor<i64>) {warmup = 10, total = 100, min_ratio = 0.1} : tensor<f32>
  %mw1 = nl.moment "W.m" %mw, %c#0 l2(%w) {every = #nl.every<1 steps>, decay = 0.9,
                                           scale = -1.0, weight_decay = 1.0e-4} : tensor<8x4xf32>
  %w1 = nl.param_update "W" %w with(%mw1 : tensor<8x4xf32>) lr(%rate : tensor<f32>) {
      every = #nl.every<1 steps>, rule = #nl.sgd_momentum} : tensor<8x4xf32>
  %mb1 = nl.moment "b.m" %mb, %c#1 {every = #nl.every<1 steps>, decay = 0.9,
                                    scale = -1.0} : tensor<4xf32>
  %b1 = nl.param_update "b" %b with(%mb1 : tensor<4xf32>) step(%t : tensor<i64>)
      lr(%rate : tensor<f32>) {every = #nl.every<2 steps>, rule = #nl.sgd_momentum} : tensor<4xf32>
  return %w1, %b1 : tensor<8x4xf32>, tensor<4xf32>
}
