// Diagnostics of nl.memory, nl.update, nl.read and nl.final_state.
// RUN: hope-opt %s -split-input-file -verify-diagnostics

!m = !nl.memory<2 heads, 4 -> 4, f32>

//===----------------------------------------------------------------------===//
// nl.memory
//===----------------------------------------------------------------------===//

func.func @empty_name(%w: tensor<2x4x4xf32>) {
  // expected-error @+1 {{'nl.memory' op needs a non-empty name}}
  %m = nl.memory "" init(%w : tensor<2x4x4xf32>) {every = #nl.every<1 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @every_steps(%w: tensor<2x4x4xf32>) {
  // expected-error @+1 {{'nl.memory' op a memory's chunk size counts tokens, got every 1 step}}
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<1 steps>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  return
}

// -----

func.func @identity_residual_widths(%w1: tensor<2x8x4xf32>, %w2: tensor<2x2x8xf32>) {
  // expected-error @+1 {{'nl.memory' op residual = identity needs equal input and output widths, got 4 -> 2 (use residual = learned)}}
  %m = nl.memory "M" init(%w1, %w2 : tensor<2x8x4xf32>, tensor<2x2x8xf32>) {
      every = #nl.every<1 tokens>, model = #nl.mlp<hidden = 8>,
      objective = #nl.l2<>, rule = #nl.dgd<>} : !nl.memory<2 heads, 4 -> 2, f32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @aggregated_dgd(%w: tensor<2x4x4xf32>) {
  // expected-error @+1 {{'nl.memory' op DGD is not defined for the chunk-aggregated variant (use #nl.momentum_gd)}}
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<8 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>,
      chunk_aggregated = #nl.chunk_aggregated<linearize = sequence>} : !m
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @aggregated_period(%w: tensor<2x4x4xf32>) {
  // expected-error @+1 {{'nl.memory' op linearisation period 12 is not a multiple of the chunk size 8}}
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<8 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.momentum_gd<order = 0>,
      chunk_aggregated = #nl.chunk_aggregated<linearize = 12>} : !m
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @init_count(%w: tensor<2x4x4xf32>) {
  // expected-error @+1 {{'nl.memory' op expects 1 initial state tensors (W), got 2}}
  %m = nl.memory "M" init(%w, %w : tensor<2x4x4xf32>, tensor<2x4x4xf32>) {
      every = #nl.every<1 tokens>, model = #nl.linear, objective = #nl.l2<>,
      rule = #nl.dgd<>} : !m
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @init_none() {
  // expected-error @+1 {{'nl.memory' op expects 1 initial state tensors (W), got 0}}
  %m = "nl.memory"() <{name = "M", every = #nl.every<1 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>}> : () -> !m
  return
}

// -----

// W_1, W_2, W_skip and the post-norm scale, each with two momentum buffers.
func.func @init_count_momentum(%w1: tensor<2x8x4xf32>, %w2: tensor<2x2x8xf32>,
                               %skip: tensor<2x2x4xf32>, %n: tensor<2x2xf32>) {
  // expected-error @+1 {{'nl.memory' op expects 4 initial state tensors (W_1, W_2, W_skip, norm_scale) or 12 with the momentum buffers, got 5}}
  %m = nl.memory "M" init(%w1, %w2, %skip, %n, %w1
      : tensor<2x8x4xf32>, tensor<2x2x8xf32>, tensor<2x2x4xf32>, tensor<2x2xf32>,
        tensor<2x8x4xf32>) {
      every = #nl.every<1 tokens>,
      model = #nl.mlp<hidden = 8, residual = learned, norm = post>,
      objective = #nl.l2<>, rule = #nl.momentum_gd<order = 2>}
      : !nl.memory<2 heads, 4 -> 2, f32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @init_shape(%w: tensor<2x4x3xf32>) {
  // expected-error @+1 {{'nl.memory' op initial state 'W' (#0) must have shape [2, 4, 4] or [B, 2, 4, 4], got [2, 4, 3]}}
  %m = nl.memory "M" init(%w : tensor<2x4x3xf32>) {every = #nl.every<1 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  return
}

// -----

// The head count of a per-sequence state must match too.
!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @init_shape_batched(%w: tensor<5x3x4x4xf32>) {
  // expected-error @+1 {{'nl.memory' op initial state 'W' (#0) must have shape [2, 4, 4] or [B, 2, 4, 4], got [5, 3, 4, 4]}}
  %m = nl.memory "M" init(%w : tensor<5x3x4x4xf32>) {every = #nl.every<1 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  return
}

// -----

// The pre-norm scale has the input width.
func.func @init_shape_norm(%w1: tensor<2x8x4xf32>, %w2: tensor<2x2x8xf32>,
                           %skip: tensor<2x2x4xf32>, %n: tensor<2x2xf32>) {
  // expected-error @+1 {{'nl.memory' op initial state 'norm_scale' (#3) must have shape [2, 4] or [B, 2, 4], got [2, 2]}}
  %m = nl.memory "M" init(%w1, %w2, %skip, %n
      : tensor<2x8x4xf32>, tensor<2x2x8xf32>, tensor<2x2x4xf32>, tensor<2x2xf32>) {
      every = #nl.every<1 tokens>,
      model = #nl.mlp<hidden = 8, residual = learned, norm = pre>,
      objective = #nl.l2<>, rule = #nl.dgd<>} : !nl.memory<2 heads, 4 -> 2, f32>
  return
}

// -----

func.func @init_momentum_shape(%w1: tensor<2x8x4xf32>, %w2: tensor<2x4x8xf32>,
                               %s2: tensor<2x8x4xf32>) {
  // expected-error @+1 {{'nl.memory' op initial momentum 'W_2' (#3) must have shape [2, 4, 8] or [B, 2, 4, 8], got [2, 8, 4]}}
  %m = nl.memory "M" init(%w1, %w2, %w1, %s2
      : tensor<2x8x4xf32>, tensor<2x4x8xf32>, tensor<2x8x4xf32>, tensor<2x8x4xf32>) {
      every = #nl.every<1 tokens>, model = #nl.mlp<hidden = 8>,
      objective = #nl.l2<>, rule = #nl.dgd<momentum = true>}
      : !nl.memory<2 heads, 4 -> 4, f32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @init_element_type(%w: tensor<1x2x4x4xf16>) {
  // expected-error @+1 {{'nl.memory' op initial state 'W' (#0) has element type 'f16' but the memory holds 'f32'}}
  %m = nl.memory "M" init(%w : tensor<1x2x4x4xf16>) {every = #nl.every<1 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @two_updates(%w: tensor<2x4x4xf32>, %k: tensor<1x2x3x4xf32>,
                       %eta: tensor<1x2x3xf32>) {
  // expected-error @+1 {{'nl.memory' op memory 'M' has 2 nl.update ops; a memory learns from exactly one}}
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<1 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  nl.update %m keys(%k) values(%k) lr(%eta)
      : !m, tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3xf32>
  nl.update %m keys(%k) values(%k) lr(%eta)
      : !m, tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @model_kind(%w: tensor<2x4x4xf32>) {
  // expected-error @+1 {{'nl.memory' op attribute 'model' failed to satisfy constraint}}
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<1 tokens>,
      model = #nl.l2<>, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @objective_kind(%w: tensor<2x4x4xf32>) {
  // expected-error @+1 {{'nl.memory' op attribute 'objective' failed to satisfy constraint}}
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<1 tokens>,
      model = #nl.linear, objective = #nl.linear, rule = #nl.dgd<>} : !m
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @rule_kind(%w: tensor<2x4x4xf32>) {
  // expected-error @+1 {{'nl.memory' op attribute 'rule' failed to satisfy constraint}}
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<1 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.sgd_momentum} : !m
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @every_kind(%w: tensor<2x4x4xf32>) {
  // expected-error @+1 {{'nl.memory' op attribute 'every' failed to satisfy constraint}}
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = 8 : i64,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  return
}

// -----

//===----------------------------------------------------------------------===//
// nl.update
//===----------------------------------------------------------------------===//

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @aggregated_token_retention(%w: tensor<2x4x4xf32>, %k: tensor<1x2x8x4xf32>,
                                      %eta: tensor<1x2x8xf32>, %alpha: tensor<1x2x8xf32>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<4 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.momentum_gd<order = 0>,
      chunk_aggregated = #nl.chunk_aggregated<linearize = 4>} : !m
  // expected-error @+1 {{'nl.update' op the chunk-aggregated variant applies retention and momentum once per chunk: declare them `chunk` in the rule}}
  nl.update %m keys(%k) values(%k) lr(%eta) retention(%alpha)
      : !m, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>, tensor<1x2x8xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @update_handle(%m: !m, %k: tensor<1x2x3x4xf32>, %eta: tensor<1x2x3xf32>) {
  // expected-error @+1 {{'nl.update' op the memory handle must come from an nl.memory op}}
  nl.update %m keys(%k) values(%k) lr(%eta)
      : !m, tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @update_not_a_memory(%w: tensor<2x4x4xf32>, %k: tensor<1x2x3x4xf32>,
                               %eta: tensor<1x2x3xf32>) {
  // expected-error @+1 {{'nl.update' op operand #0 must be handle to an associative memory}}
  nl.update %w keys(%k) values(%k) lr(%eta)
      : tensor<2x4x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @update_rank(%w: tensor<2x4x4xf32>, %k: tensor<2x3x4xf32>,
                       %v: tensor<1x2x3x4xf32>, %eta: tensor<1x2x3xf32>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<1 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  // expected-error @+1 {{'nl.update' op keys and values must be per-head sequences [B, H, T, d], got [2, 3, 4] and [1, 2, 3, 4]}}
  nl.update %m keys(%k) values(%v) lr(%eta)
      : !m, tensor<2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @update_values_rank(%w: tensor<2x4x4xf32>, %k: tensor<1x2x3x4xf32>,
                              %v: tensor<1x2x3x4x1xf32>, %eta: tensor<1x2x3xf32>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<1 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  // expected-error @+1 {{'nl.update' op keys and values must be per-head sequences [B, H, T, d], got [1, 2, 3, 4] and [1, 2, 3, 4, 1]}}
  nl.update %m keys(%k) values(%v) lr(%eta)
      : !m, tensor<1x2x3x4xf32>, tensor<1x2x3x4x1xf32>, tensor<1x2x3xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @update_key_heads(%w: tensor<2x4x4xf32>, %k: tensor<1x3x3x4xf32>,
                            %eta: tensor<1x2x3xf32>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<1 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  // expected-error @+1 {{'nl.update' op keys must be [B, 2, T, 4] for this memory, got [1, 3, 3, 4]}}
  nl.update %m keys(%k) values(%k) lr(%eta)
      : !m, tensor<1x3x3x4xf32>, tensor<1x3x3x4xf32>, tensor<1x2x3xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @update_key_width(%w: tensor<2x4x4xf32>, %k: tensor<1x2x3x5xf32>,
                            %v: tensor<1x2x3x4xf32>, %eta: tensor<1x2x3xf32>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<1 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  // expected-error @+1 {{'nl.update' op keys must be [B, 2, T, 4] for this memory, got [1, 2, 3, 5]}}
  nl.update %m keys(%k) values(%v) lr(%eta)
      : !m, tensor<1x2x3x5xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @update_disagree(%w: tensor<2x4x4xf32>, %k: tensor<1x2x3x4xf32>,
                           %v: tensor<1x2x5x4xf32>, %eta: tensor<1x2x3xf32>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<1 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  // expected-error @+1 {{'nl.update' op keys [1, 2, 3, 4] and values [1, 2, 5, 4] disagree on batch, heads or tokens}}
  nl.update %m keys(%k) values(%v) lr(%eta)
      : !m, tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x3xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @update_value_width(%w: tensor<2x4x4xf32>, %k: tensor<1x2x3x4xf32>,
                              %v: tensor<1x2x3x1xf32>, %eta: tensor<1x2x3xf32>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<1 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  // expected-error @+1 {{'nl.update' op values must have the memory's output width 4, got [1, 2, 3, 1]}}
  nl.update %m keys(%k) values(%v) lr(%eta)
      : !m, tensor<1x2x3x4xf32>, tensor<1x2x3x1xf32>, tensor<1x2x3xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @update_value_element_type(%w: tensor<2x4x4xf32>, %k: tensor<1x2x3x4xf32>,
                               %v: tensor<1x2x3x4xbf16>, %eta: tensor<1x2x3xf32>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<1 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  // expected-error @+1 {{'nl.update' op keys and values must have the memory's element type 'f32'}}
  nl.update %m keys(%k) values(%v) lr(%eta)
      : !m, tensor<1x2x3x4xf32>, tensor<1x2x3x4xbf16>, tensor<1x2x3xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @update_key_element_type(%w: tensor<2x4x4xf32>, %k: tensor<1x2x3x4xf16>,
                                   %v: tensor<1x2x3x4xf32>, %eta: tensor<1x2x3xf32>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<1 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  // expected-error @+1 {{'nl.update' op keys and values must have the memory's element type 'f32'}}
  nl.update %m keys(%k) values(%v) lr(%eta)
      : !m, tensor<1x2x3x4xf16>, tensor<1x2x3x4xf32>, tensor<1x2x3xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @update_lr_per_token(%w: tensor<2x4x4xf32>, %k: tensor<1x2x5x4xf32>,
                               %eta: tensor<1x2x3xf32>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<2 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  // expected-error @+1 {{'nl.update' op learning rate is per token and must have shape [1, 2, 5] ([B, H, T]), got [1, 2, 3]}}
  nl.update %m keys(%k) values(%k) lr(%eta)
      : !m, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x3xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @update_lr_rank(%w: tensor<2x4x4xf32>, %k: tensor<?x2x?x4xf32>,
                          %eta: tensor<?x2x?x1xf32>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<2 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  // expected-error @+1 {{'nl.update' op learning rate is per token and must have shape [?, 2, ?] ([B, H, T]), got [?, 2, ?, 1]}}
  nl.update %m keys(%k) values(%k) lr(%eta)
      : !m, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x1xf32>
  return
}

// -----

// T = 5 tokens in chunks of 2: ceil(5/2) = 3 rates.
!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @update_lr_per_chunk(%w: tensor<2x4x4xf32>, %k: tensor<1x2x5x4xf32>,
                               %eta: tensor<1x2x5xf32>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<2 tokens>,
      model = #nl.linear, objective = #nl.l2<>,
      rule = #nl.momentum_gd<order = 0, lr = chunk>} : !m
  // expected-error @+1 {{'nl.update' op learning rate is per chunk and must have shape [1, 2, 3] ([B, H, ceil(T/C)]), got [1, 2, 5]}}
  nl.update %m keys(%k) values(%k) lr(%eta)
      : !m, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @update_lr_element_type(%w: tensor<2x4x4xf32>, %k: tensor<1x2x5x4xf32>,
                                  %eta: tensor<1x2x5xf16>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<2 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  // expected-error @+1 {{'nl.update' op learning rate has element type 'f16' but the memory holds 'f32'}}
  nl.update %m keys(%k) values(%k) lr(%eta)
      : !m, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5xf16>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @update_retention_per_chunk(%w: tensor<2x4x4xf32>, %k: tensor<1x2x8x4xf32>,
                                      %eta: tensor<1x2x8xf32>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<4 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<retention = chunk>} : !m
  // expected-error @+1 {{'nl.update' op retention rate is per chunk and must have shape [1, 2, 2] ([B, H, ceil(T/C)]), got [1, 2, 8]}}
  nl.update %m keys(%k) values(%k) lr(%eta) retention(%eta)
      : !m, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>, tensor<1x2x8xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @update_retention_batch(%w: tensor<2x4x4xf32>, %k: tensor<1x2x8x4xf32>,
                                  %eta: tensor<1x2x8xf32>, %alpha: tensor<3x2x8xf32>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<4 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  // expected-error @+1 {{'nl.update' op retention rate is per token and must have shape [1, 2, 8] ([B, H, T]), got [3, 2, 8]}}
  nl.update %m keys(%k) values(%k) lr(%eta) retention(%alpha)
      : !m, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>, tensor<3x2x8xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @update_missing_momentum(%w: tensor<2x4x4xf32>, %k: tensor<1x2x8x4xf32>,
                                   %eta: tensor<1x2x8xf32>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<4 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.momentum_gd<>} : !m
  // expected-error @+1 {{'nl.update' op the rule keeps 1 momentum buffer and needs as many momentum rates, got 0}}
  nl.update %m keys(%k) values(%k) lr(%eta)
      : !m, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @update_extra_momentum(%w: tensor<2x4x4xf32>, %k: tensor<1x2x8x4xf32>,
                                 %eta: tensor<1x2x8xf32>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<4 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  // expected-error @+1 {{'nl.update' op the rule keeps 0 momentum buffers and needs as many momentum rates, got 1}}
  nl.update %m keys(%k) values(%k) lr(%eta) momentum(%eta)
      : !m, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>, tensor<1x2x8xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @update_momentum_order(%w: tensor<2x4x4xf32>, %k: tensor<1x2x8x4xf32>,
                                 %eta: tensor<1x2x8xf32>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<4 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.momentum_gd<order = 2>} : !m
  // expected-error @+1 {{'nl.update' op the rule keeps 2 momentum buffers and needs as many momentum rates, got 1}}
  nl.update %m keys(%k) values(%k) lr(%eta) momentum(%eta)
      : !m, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>, tensor<1x2x8xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @update_momentum_per_chunk(%w: tensor<2x4x4xf32>, %k: tensor<1x2x8x4xf32>,
                                     %eta: tensor<1x2x8xf32>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<4 tokens>,
      model = #nl.linear, objective = #nl.l2<>,
      rule = #nl.momentum_gd<momentum = chunk>} : !m
  // expected-error @+1 {{'nl.update' op momentum rate is per chunk and must have shape [1, 2, 2] ([B, H, ceil(T/C)]), got [1, 2, 8]}}
  nl.update %m keys(%k) values(%k) lr(%eta) momentum(%eta)
      : !m, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>, tensor<1x2x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// nl.read
//===----------------------------------------------------------------------===//

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @read_rank(%m: !m, %q: tensor<1x3x4xf32>) {
  // expected-error @+1 {{'nl.read' query must be [B, 2, T, 4] for this memory, got [1, 3, 4]}}
  %y = nl.read %m(%q) at after : !m, tensor<1x3x4xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @read_rank5(%m: !m, %q: tensor<1x2x3x4x1xf32>) {
  // expected-error @+1 {{'nl.read' query must be [B, 2, T, 4] for this memory, got [1, 2, 3, 4, 1]}}
  %y = nl.read %m(%q) at after : !m, tensor<1x2x3x4x1xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @read_heads(%m: !m, %q: tensor<1x4x3x4xf32>) {
  // expected-error @+1 {{'nl.read' query must be [B, 2, T, 4] for this memory, got [1, 4, 3, 4]}}
  %y = nl.read %m(%q) at after : !m, tensor<1x4x3x4xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @read_width(%m: !m, %q: tensor<?x?x?x8xf32>) {
  // expected-error @+1 {{'nl.read' query must be [B, 2, T, 4] for this memory, got [?, ?, ?, 8]}}
  %y = nl.read %m(%q) at chunk_start : !m, tensor<?x?x?x8xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @read_element_type(%m: !m, %q: tensor<1x2x3x4xf16>) {
  // expected-error @+1 {{'nl.read' query element type 'f16' differs from the memory's 'f32'}}
  %y = nl.read %m(%q) at after : !m, tensor<1x2x3x4xf16>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @read_point(%m: !m, %q: tensor<1x2x3x4xf32>) {
  // expected-error @+2 {{expected one of [after, chunk_start] for which state of a memory a read sees, got: before}}
  // expected-error @+1 {{invalid value for property point, expected which state of a memory a read sees}}
  %y = nl.read %m(%q) at before : !m, tensor<1x2x3x4xf32>
  return
}

// -----

// The result type is the one the memory and the query imply.
!m = !nl.memory<2 heads, 4 -> 3, f32>
func.func @read_result_type(%m: !m, %q: tensor<1x2x3x4xf32>) {
  // expected-error @+2 {{'nl.read' op inferred type(s) 'tensor<1x2x3x3xf32>' are incompatible with return type(s) of operation 'tensor<1x2x3x4xf32>'}}
  // expected-error @+1 {{'nl.read' op failed to infer returned types}}
  %y = "nl.read"(%m, %q) <{point = 0 : i32}> : (!m, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// nl.final_state
//===----------------------------------------------------------------------===//

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @final_handle(%m: !m) {
  // expected-error @+1 {{'nl.final_state' op the memory handle must come from an nl.memory op}}
  %w = nl.final_state %m : !m -> tensor<1x2x4x4xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @final_count(%w: tensor<2x4x4xf32>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<1 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  // expected-error @+1 {{'nl.final_state' op returns the 1 state parameters, got 2 results}}
  %f:2 = nl.final_state %m : !m -> tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @final_count_momentum(%w: tensor<2x4x4xf32>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<1 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.momentum_gd<>} : !m
  // expected-error @+1 {{'nl.final_state' op returns the 1 state parameters (or 2 with the momentum buffers), got 3 results}}
  %f:3 = nl.final_state %m : !m -> tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
  return
}

// -----

// Final states always have a batch dimension.
!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @final_shape(%w: tensor<2x4x4xf32>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<1 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  // expected-error @+1 {{'nl.final_state' op final state 'W' (#0) must have shape [B, 2, 4, 4], got [2, 4, 4]}}
  %f = nl.final_state %m : !m -> tensor<2x4x4xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @final_momentum_shape(%w: tensor<2x4x4xf32>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<1 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<momentum = true>} : !m
  // expected-error @+1 {{'nl.final_state' op final momentum 'W' (#1) must have shape [B, 2, 4, 4], got [1, 2, 4]}}
  %f:2 = nl.final_state %m : !m -> tensor<1x2x4x4xf32>, tensor<1x2x4xf32>
  return
}

// -----

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @final_element_type(%w: tensor<2x4x4xf32>) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<1 tokens>,
      model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  // expected-error @+1 {{'nl.final_state' op final state 'W' (#0) has element type 'f64' but the memory holds 'f32'}}
  %f = nl.final_state %m : !m -> tensor<1x2x4x4xf64>
  return
}

// -----

// A dynamic batch in between does not hide the disagreement.
!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @final_batch(%w1: tensor<2x8x4xf32>, %w2: tensor<2x4x8xf32>,
                       %skip: tensor<2x4x4xf32>) {
  %m = nl.memory "M" init(%w1, %w2, %skip
      : tensor<2x8x4xf32>, tensor<2x4x8xf32>, tensor<2x4x4xf32>) {
      every = #nl.every<1 tokens>, model = #nl.mlp<hidden = 8, residual = learned>,
      objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  // expected-error @+1 {{'nl.final_state' op final states disagree on the batch size}}
  %f:3 = nl.final_state %m : !m -> tensor<3x2x8x4xf32>, tensor<?x2x4x8xf32>, tensor<2x2x4x4xf32>
  return
}
