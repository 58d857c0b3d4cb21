// Diagnostics of the optimizer levels: nl.moment and nl.param_update.
// RUN: hope-opt %s -split-input-file -verify-diagnostics

//===----------------------------------------------------------------------===//
// nl.moment
//===----------------------------------------------------------------------===//

func.func @moment_name(%m: tensor<4xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{'nl.moment' op needs a non-empty name}}
  %0 = nl.moment "" %m, %g {every = #nl.every<1 steps>, decay = 0.9, scale = 0.1}
      : tensor<4xf32>
  return
}

// -----

func.func @moment_tokens(%m: tensor<4xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{'nl.moment' op an optimizer level counts training steps, got every 8 tokens}}
  %0 = nl.moment "m" %m, %g {every = #nl.every<8 tokens>, decay = 0.9, scale = 0.1}
      : tensor<4xf32>
  return
}

// -----

func.func @moment_power(%m: tensor<4xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{'nl.moment' op power must be 1 (the gradient) or 2 (its square), got 3}}
  %0 = nl.moment "m" %m, %g {every = #nl.every<1 steps>, decay = 0.9, scale = 0.1,
                             power = 3} : tensor<4xf32>
  return
}

// -----

func.func @moment_power_zero(%m: tensor<4xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{'nl.moment' op power must be 1 (the gradient) or 2 (its square), got 0}}
  %0 = nl.moment "m" %m, %g {every = #nl.every<1 steps>, decay = 0.9, scale = 0.1,
                             power = 0} : tensor<4xf32>
  return
}

// -----

// A negative power prints as written (the attribute is signless).
func.func @moment_power_negative(%m: tensor<4xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{'nl.moment' op power must be 1 (the gradient) or 2 (its square), got -1}}
  %0 = nl.moment "m" %m, %g {every = #nl.every<1 steps>, decay = 0.9, scale = 0.1,
                             power = -1} : tensor<4xf32>
  return
}

// -----

func.func @periodic_without_pending(%m: tensor<4xf32>, %g: tensor<4xf32>,
                                    %t: tensor<i64>) {
  // expected-error @+1 {{'nl.moment' op an optimizer level updated every 4 steps sums its input between updates: it needs pending(...), step(...) and a second result}}
  %0, %1 = nl.moment "m" %m, %g step(%t : tensor<i64>) {every = #nl.every<4 steps>,
                                                         decay = 0.9, scale = 0.1}
      : tensor<4xf32>, tensor<4xf32>
  return
}

// -----

func.func @periodic_without_step(%m: tensor<4xf32>, %g: tensor<4xf32>,
                                 %p: tensor<4xf32>) {
  // expected-error @+1 {{'nl.moment' op an optimizer level updated every 2 steps sums its input between updates}}
  %0, %1 = nl.moment "m" %m, %g pending(%p) {every = #nl.every<2 steps>,
                                              decay = 0.9, scale = 0.1}
      : tensor<4xf32>, tensor<4xf32>
  return
}

// -----

func.func @periodic_without_new_pending(%m: tensor<4xf32>, %g: tensor<4xf32>,
                                        %p: tensor<4xf32>, %t: tensor<i64>) {
  // expected-error @+1 {{'nl.moment' op an optimizer level updated every 2 steps sums its input between updates}}
  %0 = nl.moment "m" %m, %g pending(%p) step(%t : tensor<i64>) {
      every = #nl.every<2 steps>, decay = 0.9, scale = 0.1} : tensor<4xf32>
  return
}

// -----

func.func @pending_every_step(%m: tensor<4xf32>, %g: tensor<4xf32>,
                              %p: tensor<4xf32>, %t: tensor<i64>) {
  // expected-error @+1 {{'nl.moment' op pending(...) is only used by optimizer levels updated every f > 1 steps}}
  %0 = nl.moment "m" %m, %g pending(%p) step(%t : tensor<i64>) {
      every = #nl.every<1 steps>, decay = 0.9, scale = 0.1} : tensor<4xf32>
  return
}

// -----

func.func @new_pending_every_step(%m: tensor<4xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{'nl.moment' op pending(...) is only used by optimizer levels updated every f > 1 steps}}
  %0, %1 = nl.moment "m" %m, %g {every = #nl.every<1 steps>, decay = 0.9, scale = 0.1}
      : tensor<4xf32>, tensor<4xf32>
  return
}

// -----

func.func @step_type(%m: tensor<4xf32>, %g: tensor<4xf32>, %p: tensor<4xf32>,
                     %t: tensor<i32>) {
  // expected-error @+1 {{'nl.moment' op operand #3 must be 0D tensor of 64-bit signless integer values, but got 'tensor<i32>'}}
  %0, %1 = nl.moment "m" %m, %g pending(%p) step(%t : tensor<i32>) {
      every = #nl.every<2 steps>, decay = 0.9, scale = 0.1}
      : tensor<4xf32>, tensor<4xf32>
  return
}

// -----

func.func @decay_kind(%m: tensor<4xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{'nl.moment' op attribute 'decay' failed to satisfy constraint: 64-bit float attribute}}
  %0 = nl.moment "m" %m, %g {every = #nl.every<1 steps>, decay = 1 : i64, scale = 0.1}
      : tensor<4xf32>
  return
}

// -----

func.func @input_type(%m: tensor<4xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{'nl.moment' op failed to verify that all of {state, input, new_state} have same type}}
  %0 = "nl.moment"(%m, %g) <{name = "m", every = #nl.every<1 steps>, decay = 0.9,
                             scale = 0.1, operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}>
      : (tensor<4xf32>, tensor<8xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @pending_type(%m: tensor<4xf32>, %g: tensor<4xf32>, %p: tensor<4xf16>,
                        %t: tensor<i64>) {
  // expected-error @+1 {{'nl.moment' op failed to verify that pending sum matches the state}}
  %0, %1 = "nl.moment"(%m, %g, %p, %t) <{name = "m", every = #nl.every<2 steps>,
      decay = 0.9, scale = 0.1, operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>}>
      : (tensor<4xf32>, tensor<4xf32>, tensor<4xf16>, tensor<i64>) -> (tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @new_pending_type(%m: tensor<4xf32>, %g: tensor<4xf32>, %p: tensor<4xf32>,
                            %t: tensor<i64>) {
  // expected-error @+1 {{'nl.moment' op failed to verify that new pending sum matches the state}}
  %0, %1 = "nl.moment"(%m, %g, %p, %t) <{name = "m", every = #nl.every<2 steps>,
      decay = 0.9, scale = 0.1, operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>}>
      : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<i64>) -> (tensor<4xf32>, tensor<2x4xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// nl.param_update
//===----------------------------------------------------------------------===//

func.func @param_name(%w: tensor<4x4xf32>, %m: tensor<4x4xf32>) {
  // expected-error @+1 {{'nl.param_update' op needs a non-empty name}}
  %0 = nl.param_update "" %w with(%m : tensor<4x4xf32>) {
      every = #nl.every<1 steps>, rule = #nl.sgd_momentum} : tensor<4x4xf32>
  return
}

// -----

func.func @param_tokens(%w: tensor<4x4xf32>, %m: tensor<4x4xf32>) {
  // expected-error @+1 {{'nl.param_update' op a parameter group counts training steps, got every 1 token}}
  %0 = nl.param_update "W" %w with(%m : tensor<4x4xf32>) {
      every = #nl.every<1 tokens>, rule = #nl.sgd_momentum} : tensor<4x4xf32>
  return
}

// -----

func.func @sgd_states(%w: tensor<4x4xf32>, %m: tensor<4x4xf32>) {
  // expected-error @+1 {{'nl.param_update' op rule #nl.sgd_momentum takes 1 optimizer state (m), got 2}}
  %0 = nl.param_update "W" %w with(%m, %m : tensor<4x4xf32>, tensor<4x4xf32>) {
      every = #nl.every<1 steps>, rule = #nl.sgd_momentum} : tensor<4x4xf32>
  return
}

// -----

func.func @adamw_states(%w: tensor<4x4xf32>, %m: tensor<4x4xf32>, %t: tensor<i64>) {
  // expected-error @+1 {{'nl.param_update' op rule #nl.adamw<lr = 1.000000e-03, beta1 = 9.000000e-01, beta2 = 0.99899999999999999, eps = 1.000000e-08, weight_decay = 0.000000e+00> takes 2 optimizer states (m, v), got 1}}
  %0 = nl.param_update "W" %w with(%m : tensor<4x4xf32>) step(%t : tensor<i64>) {
      every = #nl.every<1 steps>,
      rule = #nl.adamw<lr = 1.0e-3, beta1 = 0.9, beta2 = 0.999, eps = 1.0e-8,
                       weight_decay = 0.0>} : tensor<4x4xf32>
  return
}

// -----

func.func @muon_states(%w: tensor<4x4xf32>, %m: tensor<4x4xf32>) {
  // expected-error @+1 {{'nl.param_update' op rule #nl.muon<lr = 2.000000e-02> takes 1 optimizer state (m), got 3}}
  %0 = nl.param_update "W" %w with(%m, %m, %m : tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) {
      every = #nl.every<1 steps>, rule = #nl.muon<lr = 0.02>} : tensor<4x4xf32>
  return
}

// -----

func.func @m3_states(%w: tensor<4x4xf32>, %m: tensor<4x4xf32>) {
  // expected-error @+1 {{'nl.param_update' op rule #nl.m3<lr = 2.000000e-02, alpha = 5.000000e-01, eps = 1.000000e-08> takes 3 optimizer states (M1, M2, V), got 2}}
  %0 = nl.param_update "W" %w with(%m, %m : tensor<4x4xf32>, tensor<4x4xf32>) {
      every = #nl.every<1 steps>, rule = #nl.m3<lr = 0.02, alpha = 0.5, eps = 1.0e-8>}
      : tensor<4x4xf32>
  return
}

// -----

func.func @state_type(%w: tensor<4x4xf32>, %m: tensor<4x4xf32>, %v: tensor<4x?xf32>) {
  // expected-error @+1 {{'nl.param_update' op optimizer state #2 has type 'tensor<4x?xf32>' but the parameter has 'tensor<4x4xf32>'}}
  %0 = nl.param_update "W" %w with(%m, %m, %v : tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x?xf32>) {
      every = #nl.every<1 steps>, rule = #nl.m3<lr = 0.02, alpha = 0.5, eps = 1.0e-8>}
      : tensor<4x4xf32>
  return
}

// -----

func.func @adamw_step(%w: tensor<4xf32>, %m: tensor<4xf32>, %v: tensor<4xf32>) {
  // expected-error @+1 {{'nl.param_update' op AdamW's bias correction needs the step count (step(...))}}
  %0 = nl.param_update "b" %w with(%m, %v : tensor<4xf32>, tensor<4xf32>) {
      every = #nl.every<1 steps>,
      rule = #nl.adamw<lr = 1.0e-3, beta1 = 0.9, beta2 = 0.999, eps = 1.0e-8,
                       weight_decay = 0.0>} : tensor<4xf32>
  return
}

// -----

func.func @adamw_first_decay(%w: tensor<4xf32>, %m: tensor<4xf32>, %v: tensor<4xf32>,
                             %g: tensor<4xf32>, %t: tensor<i64>) {
  %m1 = nl.moment "b.m" %m, %g {every = #nl.every<1 steps>, decay = 0.8, scale = 0.1}
      : tensor<4xf32>
  // expected-error @+1 {{'nl.param_update' op AdamW's first moment must be an nl.moment with decay 9.000000e-01, scale 1.000000e-01 and power 1, but 'b.m' has decay 8.000000e-01, scale 1.000000e-01 and power 1}}
  %0 = nl.param_update "b" %w with(%m1, %v : tensor<4xf32>, tensor<4xf32>)
      step(%t : tensor<i64>) {every = #nl.every<1 steps>,
      rule = #nl.adamw<lr = 1.0e-3, beta1 = 0.9, beta2 = 0.999, eps = 1.0e-8,
                       weight_decay = 0.0>} : tensor<4xf32>
  return
}

// -----

// A momentum (scale -lr) is not Adam's first moment (scale 1 - beta1).
func.func @adamw_first_scale(%w: tensor<4xf32>, %m: tensor<4xf32>, %v: tensor<4xf32>,
                             %g: tensor<4xf32>, %t: tensor<i64>) {
  %m1 = nl.moment "b.m" %m, %g {every = #nl.every<1 steps>, decay = 0.9, scale = -0.1}
      : tensor<4xf32>
  // expected-error @+1 {{'nl.param_update' op AdamW's first moment must be an nl.moment with decay 9.000000e-01, scale 1.000000e-01 and power 1, but 'b.m' has decay 9.000000e-01, scale -1.000000e-01 and power 1}}
  %0 = nl.param_update "b" %w with(%m1, %v : tensor<4xf32>, tensor<4xf32>)
      step(%t : tensor<i64>) {every = #nl.every<1 steps>,
      rule = #nl.adamw<lr = 1.0e-3, beta1 = 0.9, beta2 = 0.999, eps = 1.0e-8,
                       weight_decay = 0.0>} : tensor<4xf32>
  return
}

// -----

func.func @adamw_second_power(%w: tensor<4xf32>, %m: tensor<4xf32>, %v: tensor<4xf32>,
                              %g: tensor<4xf32>, %t: tensor<i64>) {
  %m1 = nl.moment "b.m" %m, %g {every = #nl.every<1 steps>, decay = 0.9, scale = 0.1}
      : tensor<4xf32>
  %v1 = nl.moment "b.v" %v, %g {every = #nl.every<1 steps>, decay = 0.5, scale = 0.5}
      : tensor<4xf32>
  // expected-error @+1 {{'nl.param_update' op AdamW's second moment must be an nl.moment with decay 5.000000e-01, scale 5.000000e-01 and power 2, but 'b.v' has decay 5.000000e-01, scale 5.000000e-01 and power 1}}
  %0 = nl.param_update "b" %w with(%m1, %v1 : tensor<4xf32>, tensor<4xf32>)
      step(%t : tensor<i64>) {every = #nl.every<1 steps>,
      rule = #nl.adamw<lr = 1.0e-3, beta1 = 0.9, beta2 = 0.5, eps = 1.0e-8,
                       weight_decay = 0.0>} : tensor<4xf32>
  return
}

// -----

func.func @muon_rank(%w: tensor<4xf32>, %m: tensor<4xf32>) {
  // expected-error @+1 {{'nl.param_update' op Muon orthogonalises matrices; parameter 'b' has rank 1 (use AdamW for it)}}
  %0 = nl.param_update "b" %w with(%m : tensor<4xf32>) {
      every = #nl.every<1 steps>, rule = #nl.muon<lr = 0.02>} : tensor<4xf32>
  return
}

// -----

func.func @muon_rank3(%w: tensor<2x4x4xf32>, %m: tensor<2x4x4xf32>) {
  // expected-error @+1 {{'nl.param_update' op Muon orthogonalises matrices; parameter 'W' has rank 3 (use AdamW for it)}}
  %0 = nl.param_update "W" %w with(%m : tensor<2x4x4xf32>) {
      every = #nl.every<1 steps>, rule = #nl.muon<lr = 0.02>} : tensor<2x4x4xf32>
  return
}

// -----

func.func @rule_kind(%w: tensor<4x4xf32>, %m: tensor<4x4xf32>) {
  // expected-error @+1 {{'nl.param_update' op attribute 'rule' failed to satisfy constraint}}
  %0 = nl.param_update "W" %w with(%m : tensor<4x4xf32>) {
      every = #nl.every<1 steps>, rule = #nl.momentum_gd<>} : tensor<4x4xf32>
  return
}

// -----

func.func @new_param_type(%w: tensor<4x4xf32>, %m: tensor<4x4xf32>) {
  // expected-error @+1 {{'nl.param_update' op failed to verify that all of {param, new_param} have same type}}
  %0 = "nl.param_update"(%w, %m) <{name = "W", every = #nl.every<1 steps>,
      rule = #nl.sgd_momentum, operandSegmentSizes = array<i32: 1, 1, 0, 0>}>
      : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x?xf32>
  return
}

// -----

func.func @m3_rank(%w: tensor<4xf32>, %m: tensor<4xf32>) {
  // expected-error @+1 {{'nl.param_update' op M3 orthogonalises matrices; parameter 'b' has rank 1 (use AdamW for it)}}
  %0 = nl.param_update "b" %w with(%m, %m, %m : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
      every = #nl.every<1 steps>, rule = #nl.m3<lr = 0.02, alpha = 0.5, eps = 1.0e-8>}
      : tensor<4xf32>
  return
}

// -----

func.func @periodic_param_without_step(%w: tensor<4x4xf32>, %m: tensor<4x4xf32>) {
  // expected-error @+1 {{'nl.param_update' op a parameter group updated every 2 steps needs the step count (step(...)) to know when to update}}
  %0 = nl.param_update "W" %w with(%m : tensor<4x4xf32>) {
      every = #nl.every<2 steps>, rule = #nl.muon<lr = 0.02>} : tensor<4x4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Run-time learning rate, weight decay, clipping and schedules
//===----------------------------------------------------------------------===//

func.func @lr_rank(%w: tensor<4x4xf32>, %m: tensor<4x4xf32>, %r: tensor<1xf32>) {
  // expected-error @+1 {{'nl.param_update' op operand #2 must be 0D tensor of floating-point values, but got 'tensor<1xf32>'}}
  %0 = nl.param_update "W" %w with(%m : tensor<4x4xf32>) lr(%r : tensor<1xf32>) {
      every = #nl.every<1 steps>, rule = #nl.sgd_momentum} : tensor<4x4xf32>
  return
}

// -----

func.func @lr_integer(%w: tensor<4x4xf32>, %m: tensor<4x4xf32>, %r: tensor<i64>) {
  // expected-error @+1 {{'nl.param_update' op operand #2 must be 0D tensor of floating-point values, but got 'tensor<i64>'}}
  %0 = nl.param_update "W" %w with(%m : tensor<4x4xf32>) lr(%r : tensor<i64>) {
      every = #nl.every<1 steps>, rule = #nl.sgd_momentum} : tensor<4x4xf32>
  return
}

// -----

func.func @l2_without_decay(%m: tensor<4xf32>, %g: tensor<4xf32>, %w: tensor<4xf32>) {
  // expected-error @+1 {{'nl.moment' op l2(...) gives the parameter of a coupled weight decay, but weight_decay is 0}}
  %0 = nl.moment "m" %m, %g l2(%w) {every = #nl.every<1 steps>, decay = 0.9, scale = -1.0}
      : tensor<4xf32>
  return
}

// -----

func.func @decay_without_l2(%m: tensor<4xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{'nl.moment' op weight_decay = 1.000000e-02 needs the decayed parameter: l2(...)}}
  %0 = nl.moment "m" %m, %g {every = #nl.every<1 steps>, decay = 0.9, scale = -1.0,
                             weight_decay = 0.01} : tensor<4xf32>
  return
}

// -----

func.func @negative_decay(%m: tensor<4xf32>, %g: tensor<4xf32>, %w: tensor<4xf32>) {
  // expected-error @+1 {{'nl.moment' op weight_decay must be finite and >= 0, got -1.000000e-02}}
  %0 = nl.moment "m" %m, %g l2(%w) {every = #nl.every<1 steps>, decay = 0.9, scale = -1.0,
                                    weight_decay = -0.01} : tensor<4xf32>
  return
}

// -----

func.func @l2_type(%m: tensor<4xf32>, %g: tensor<4xf32>, %w: tensor<4xf64>) {
  // expected-error @+1 {{'nl.moment' op failed to verify that decayed parameter matches the state}}
  %0 = "nl.moment"(%m, %g, %w) <{name = "m", every = #nl.every<1 steps>, decay = 0.9,
      scale = 0.1, weight_decay = 0.1, operandSegmentSizes = array<i32: 1, 1, 0, 0, 1>}>
      : (tensor<4xf32>, tensor<4xf32>, tensor<4xf64>) -> tensor<4xf32>
  return
}

// -----

func.func @clip_empty() {
  // expected-error @+1 {{'nl.clip_grad_norm' op needs at least one gradient}}
  "nl.clip_grad_norm"() <{max_norm = 1.0}> : () -> tensor<f32>
  return
}

// -----

func.func @clip_max_norm(%g: tensor<4xf32>) {
  // expected-error @+1 {{'nl.clip_grad_norm' op max_norm must be finite and > 0 (none: measure only), got 0.000000e+00}}
  %0:2 = nl.clip_grad_norm %g {max_norm = 0.0} : tensor<4xf32> -> tensor<f32>
  return
}

// -----

func.func @clip_types(%g: tensor<4xf32>, %h: tensor<2x2xf32>) {
  // expected-error @+1 {{'nl.clip_grad_norm' op failed to verify that the clipped gradients have the gradients' types}}
  %0:3 = "nl.clip_grad_norm"(%g, %h) <{max_norm = 1.0}>
      : (tensor<4xf32>, tensor<2x2xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<f32>)
  return
}

// -----

func.func @clip_norm_not_scalar(%g: tensor<4xf32>) {
  // expected-error @+1 {{'nl.clip_grad_norm' op result #1 must be 0D tensor of floating-point values}}
  %0:2 = "nl.clip_grad_norm"(%g) : (tensor<4xf32>) -> (tensor<4xf32>, tensor<1xf32>)
  return
}

// -----

func.func @schedule_warmup(%r: tensor<f32>, %t: tensor<i64>) {
  // expected-error @+1 {{'nl.lr_schedule' op warmup must be >= 0 steps, got -3}}
  %0 = nl.lr_schedule %r step(%t : tensor<i64>) {warmup = -3} : tensor<f32>
  return
}

// -----

func.func @schedule_total(%r: tensor<f32>, %t: tensor<i64>) {
  // expected-error @+1 {{'nl.lr_schedule' op the cosine decay ends at step total = 10, which must come after the warm-up (10 steps)}}
  %0 = nl.lr_schedule %r step(%t : tensor<i64>) {warmup = 10, total = 10} : tensor<f32>
  return
}

// -----

func.func @schedule_ratio(%r: tensor<f32>, %t: tensor<i64>) {
  // expected-error @+1 {{'nl.lr_schedule' op min_ratio must be in [0, 1], got 1.500000e+00}}
  %0 = nl.lr_schedule %r step(%t : tensor<i64>) {total = 10, min_ratio = 1.5} : tensor<f32>
  return
}

// -----

func.func @schedule_step_type(%r: tensor<f32>, %t: tensor<i32>) {
  // expected-error @+1 {{'nl.lr_schedule' op operand #1 must be 0D tensor of 64-bit signless integer values, but got 'tensor<i32>'}}
  %0 = nl.lr_schedule %r step(%t : tensor<i32>) : tensor<f32>
  return
}
