// Diagnostics of nl.cms.
// RUN: hope-opt %s -split-input-file -verify-diagnostics

func.func @empty_name(%x: tensor<1x8x4xf32>, %n: tensor<4xf32>, %i: tensor<8x4xf32>,
                      %o: tensor<4x8xf32>) {
  // expected-error @+1 {{'nl.cms' op needs a non-empty name}}
  %y = nl.cms "" %x params(%n, %i, %o : tensor<4xf32>, tensor<8x4xf32>, tensor<4x8xf32>) {
      chunks = array<i64: 1>, variant = #nl.cms_variant<sequential>,
      signal = #nl.cms_signal<none>, activation = #nl.activation<silu>} : tensor<1x8x4xf32>
  return
}

// -----

func.func @no_blocks(%x: tensor<1x8x4xf32>) {
  // expected-error @+1 {{'nl.cms' op needs at least one block (chunks is empty)}}
  %y = "nl.cms"(%x) <{name = "cms", chunks = array<i64>,
      variant = #nl.cms_variant<sequential>, signal = #nl.cms_signal<none>,
      activation = #nl.activation<silu>}> : (tensor<1x8x4xf32>) -> tensor<1x8x4xf32>
  return
}

// -----

func.func @chunk_size(%x: tensor<1x8x4xf32>, %n: tensor<4xf32>, %i: tensor<8x4xf32>,
                      %o: tensor<4x8xf32>) {
  // expected-error @+1 {{'nl.cms' op chunk size of block 1 must be positive, got 0}}
  %y = nl.cms "cms" %x params(%n, %i, %o, %n, %i, %o
      : tensor<4xf32>, tensor<8x4xf32>, tensor<4x8xf32>,
        tensor<4xf32>, tensor<8x4xf32>, tensor<4x8xf32>) {
      chunks = array<i64: 1, 0>, variant = #nl.cms_variant<sequential>,
      signal = #nl.cms_signal<none>, activation = #nl.activation<silu>} : tensor<1x8x4xf32>
  return
}

// -----

func.func @input_rank(%x: tensor<8x4xf32>, %n: tensor<4xf32>, %i: tensor<8x4xf32>,
                      %o: tensor<4x8xf32>) {
  // expected-error @+1 {{'nl.cms' op input must be [B, T, D], got shape [8, 4]}}
  %y = nl.cms "cms" %x params(%n, %i, %o : tensor<4xf32>, tensor<8x4xf32>, tensor<4x8xf32>) {
      chunks = array<i64: 1>, variant = #nl.cms_variant<sequential>,
      signal = #nl.cms_signal<none>, activation = #nl.activation<silu>} : tensor<8x4xf32>
  return
}

// -----

func.func @param_count(%x: tensor<1x8x4xf32>, %n: tensor<4xf32>, %i: tensor<8x4xf32>) {
  // expected-error @+1 {{'nl.cms' op expects 3 parameters (norm scale, W_in, W_out per block) for 1 blocks, got 2}}
  %y = nl.cms "cms" %x params(%n, %i : tensor<4xf32>, tensor<8x4xf32>) {
      chunks = array<i64: 1>, variant = #nl.cms_variant<nested>,
      signal = #nl.cms_signal<none>, activation = #nl.activation<silu>} : tensor<1x8x4xf32>
  return
}

// -----

// An independent chain takes its mixing weights last.
func.func @param_count_independent(%x: tensor<1x8x4xf32>, %n: tensor<4xf32>,
                                   %i: tensor<8x4xf32>, %o: tensor<4x8xf32>) {
  // expected-error @+1 {{'nl.cms' op expects 7 parameters (norm scale, W_in, W_out per block, then the mixing weights) for 2 blocks, got 6}}
  %y = nl.cms "cms" %x params(%n, %i, %o, %n, %i, %o
      : tensor<4xf32>, tensor<8x4xf32>, tensor<4x8xf32>,
        tensor<4xf32>, tensor<8x4xf32>, tensor<4x8xf32>) {
      chunks = array<i64: 1, 4>, variant = #nl.cms_variant<independent>,
      signal = #nl.cms_signal<none>, activation = #nl.activation<silu>} : tensor<1x8x4xf32>
  return
}

// -----

func.func @norm_scale(%x: tensor<1x8x4xf32>, %n: tensor<8xf32>, %i: tensor<8x4xf32>,
                      %o: tensor<4x8xf32>) {
  // expected-error @+1 {{'nl.cms' op norm scale of block 0 must be [4], got [8]}}
  %y = nl.cms "cms" %x params(%n, %i, %o : tensor<8xf32>, tensor<8x4xf32>, tensor<4x8xf32>) {
      chunks = array<i64: 1>, variant = #nl.cms_variant<sequential>,
      signal = #nl.cms_signal<none>, activation = #nl.activation<silu>} : tensor<1x8x4xf32>
  return
}

// -----

func.func @norm_scale_rank(%x: tensor<1x8x4xf32>, %n: tensor<4x1xf32>, %i: tensor<8x4xf32>,
                           %o: tensor<4x8xf32>) {
  // expected-error @+1 {{'nl.cms' op norm scale of block 0 must be [4], got [4, 1]}}
  %y = nl.cms "cms" %x params(%n, %i, %o : tensor<4x1xf32>, tensor<8x4xf32>, tensor<4x8xf32>) {
      chunks = array<i64: 1>, variant = #nl.cms_variant<sequential>,
      signal = #nl.cms_signal<none>, activation = #nl.activation<silu>} : tensor<1x8x4xf32>
  return
}

// -----

func.func @w_in(%x: tensor<1x8x4xf32>, %n: tensor<4xf32>, %i: tensor<8x4xf32>,
                %o: tensor<4x8xf32>, %i1: tensor<8x5xf32>) {
  // expected-error @+1 {{'nl.cms' op W_in of block 1 must be [hidden, 4], got [8, 5]}}
  %y = nl.cms "cms" %x params(%n, %i, %o, %n, %i1, %o
      : tensor<4xf32>, tensor<8x4xf32>, tensor<4x8xf32>,
        tensor<4xf32>, tensor<8x5xf32>, tensor<4x8xf32>) {
      chunks = array<i64: 1, 4>, variant = #nl.cms_variant<sequential>,
      signal = #nl.cms_signal<none>, activation = #nl.activation<silu>} : tensor<1x8x4xf32>
  return
}

// -----

func.func @w_in_rank(%x: tensor<1x8x4xf32>, %n: tensor<4xf32>, %i: tensor<4xf32>,
                     %o: tensor<4x8xf32>) {
  // expected-error @+1 {{'nl.cms' op W_in of block 0 must be [hidden, 4], got [4]}}
  %y = nl.cms "cms" %x params(%n, %i, %o : tensor<4xf32>, tensor<4xf32>, tensor<4x8xf32>) {
      chunks = array<i64: 1>, variant = #nl.cms_variant<sequential>,
      signal = #nl.cms_signal<none>, activation = #nl.activation<silu>} : tensor<1x8x4xf32>
  return
}

// -----

func.func @w_out_hidden(%x: tensor<1x8x4xf32>, %n: tensor<4xf32>, %i: tensor<8x4xf32>,
                        %o: tensor<4x6xf32>) {
  // expected-error @+1 {{'nl.cms' op W_out of block 0 must be [4, 8], got [4, 6]}}
  %y = nl.cms "cms" %x params(%n, %i, %o : tensor<4xf32>, tensor<8x4xf32>, tensor<4x6xf32>) {
      chunks = array<i64: 1>, variant = #nl.cms_variant<sequential>,
      signal = #nl.cms_signal<none>, activation = #nl.activation<silu>} : tensor<1x8x4xf32>
  return
}

// -----

func.func @w_out_width(%x: tensor<1x8x4xf32>, %n: tensor<4xf32>, %i: tensor<8x4xf32>,
                       %o: tensor<5x8xf32>) {
  // expected-error @+1 {{'nl.cms' op W_out of block 0 must be [4, 8], got [5, 8]}}
  %y = nl.cms "cms" %x params(%n, %i, %o : tensor<4xf32>, tensor<8x4xf32>, tensor<5x8xf32>) {
      chunks = array<i64: 1>, variant = #nl.cms_variant<sequential>,
      signal = #nl.cms_signal<none>, activation = #nl.activation<silu>} : tensor<1x8x4xf32>
  return
}

// -----

func.func @w_out_rank(%x: tensor<1x8x4xf32>, %n: tensor<4xf32>, %i: tensor<8x4xf32>,
                      %o: tensor<4x8x1xf32>) {
  // expected-error @+1 {{'nl.cms' op W_out of block 0 must be [4, 8], got [4, 8, 1]}}
  %y = nl.cms "cms" %x params(%n, %i, %o : tensor<4xf32>, tensor<8x4xf32>, tensor<4x8x1xf32>) {
      chunks = array<i64: 1>, variant = #nl.cms_variant<sequential>,
      signal = #nl.cms_signal<none>, activation = #nl.activation<silu>} : tensor<1x8x4xf32>
  return
}

// -----

func.func @mixing_weights(%x: tensor<1x8x4xf32>, %n: tensor<4xf32>, %i: tensor<8x4xf32>,
                          %o: tensor<4x8xf32>, %w: tensor<3xf32>) {
  // expected-error @+1 {{'nl.cms' op mixing weights must be [2], got [3]}}
  %y = nl.cms "cms" %x params(%n, %i, %o, %n, %i, %o, %w
      : tensor<4xf32>, tensor<8x4xf32>, tensor<4x8xf32>,
        tensor<4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<3xf32>) {
      chunks = array<i64: 1, 4>, variant = #nl.cms_variant<independent>,
      signal = #nl.cms_signal<none>, activation = #nl.activation<silu>} : tensor<1x8x4xf32>
  return
}

// -----

func.func @mixing_weights_rank(%x: tensor<1x8x4xf32>, %n: tensor<4xf32>, %i: tensor<8x4xf32>,
                               %o: tensor<4x8xf32>, %w: tensor<1x1xf32>) {
  // expected-error @+1 {{'nl.cms' op mixing weights must be [1], got [1, 1]}}
  %y = nl.cms "cms" %x params(%n, %i, %o, %w
      : tensor<4xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<1x1xf32>) {
      chunks = array<i64: 1>, variant = #nl.cms_variant<independent>,
      signal = #nl.cms_signal<none>, activation = #nl.activation<silu>} : tensor<1x8x4xf32>
  return
}

// -----

func.func @param_element_type(%x: tensor<1x8x4xf32>, %n: tensor<4xf32>, %i: tensor<8x4xf32>,
                              %o: tensor<4x8xf16>) {
  // expected-error @+1 {{'nl.cms' op parameters must have the input's element type 'f32'}}
  %y = nl.cms "cms" %x params(%n, %i, %o : tensor<4xf32>, tensor<8x4xf32>, tensor<4x8xf16>) {
      chunks = array<i64: 1>, variant = #nl.cms_variant<sequential>,
      signal = #nl.cms_signal<none>, activation = #nl.activation<silu>} : tensor<1x8x4xf32>
  return
}

// -----

func.func @lr_missing(%x: tensor<1x8x4xf32>, %n: tensor<4xf32>, %i: tensor<8x4xf32>,
                      %o: tensor<4x8xf32>) {
  // expected-error @+1 {{'nl.cms' op a learning CMS needs one learning rate per block (lr with 2 entries)}}
  %y = nl.cms "cms" %x params(%n, %i, %o, %n, %i, %o
      : tensor<4xf32>, tensor<8x4xf32>, tensor<4x8xf32>,
        tensor<4xf32>, tensor<8x4xf32>, tensor<4x8xf32>) {
      chunks = array<i64: 1, 4>, variant = #nl.cms_variant<nested>,
      signal = #nl.cms_signal<task>, activation = #nl.activation<silu>} : tensor<1x8x4xf32>
  return
}

// -----

func.func @lr_count(%x: tensor<1x8x4xf32>, %n: tensor<4xf32>, %i: tensor<8x4xf32>,
                    %o: tensor<4x8xf32>) {
  // expected-error @+1 {{'nl.cms' op a learning CMS needs one learning rate per block (lr with 2 entries)}}
  %y = nl.cms "cms" %x params(%n, %i, %o, %n, %i, %o
      : tensor<4xf32>, tensor<8x4xf32>, tensor<4x8xf32>,
        tensor<4xf32>, tensor<8x4xf32>, tensor<4x8xf32>) {
      chunks = array<i64: 1, 4>, variant = #nl.cms_variant<sequential>,
      signal = #nl.cms_signal<local>, activation = #nl.activation<silu>,
      lr = array<f64: 0.1>, local_objective = #nl.l2<>} : tensor<1x8x4xf32>
  return
}

// -----

func.func @lr_frozen(%x: tensor<1x8x4xf32>, %n: tensor<4xf32>, %i: tensor<8x4xf32>,
                     %o: tensor<4x8xf32>) {
  // expected-error @+1 {{'nl.cms' op lr is only meaningful when the blocks learn (signal = task or local)}}
  %y = nl.cms "cms" %x params(%n, %i, %o : tensor<4xf32>, tensor<8x4xf32>, tensor<4x8xf32>) {
      chunks = array<i64: 1>, variant = #nl.cms_variant<sequential>,
      signal = #nl.cms_signal<none>, activation = #nl.activation<silu>,
      lr = array<f64: 0.1>} : tensor<1x8x4xf32>
  return
}

// -----

func.func @local_without_objective(%x: tensor<1x8x4xf32>, %n: tensor<4xf32>,
                                   %i: tensor<8x4xf32>, %o: tensor<4x8xf32>) {
  // expected-error @+1 {{'nl.cms' op signal = local needs a local_objective}}
  %y = nl.cms "cms" %x params(%n, %i, %o : tensor<4xf32>, tensor<8x4xf32>, tensor<4x8xf32>) {
      chunks = array<i64: 1>, variant = #nl.cms_variant<sequential>,
      signal = #nl.cms_signal<local>, activation = #nl.activation<silu>,
      lr = array<f64: 0.1>} : tensor<1x8x4xf32>
  return
}

// -----

func.func @objective_without_local(%x: tensor<1x8x4xf32>, %n: tensor<4xf32>,
                                   %i: tensor<8x4xf32>, %o: tensor<4x8xf32>) {
  // expected-error @+1 {{'nl.cms' op local_objective is only used with signal = local}}
  %y = nl.cms "cms" %x params(%n, %i, %o : tensor<4xf32>, tensor<8x4xf32>, tensor<4x8xf32>) {
      chunks = array<i64: 1>, variant = #nl.cms_variant<sequential>,
      signal = #nl.cms_signal<task>, activation = #nl.activation<silu>,
      lr = array<f64: 0.1>, local_objective = #nl.dot} : tensor<1x8x4xf32>
  return
}

// -----

func.func @objective_frozen(%x: tensor<1x8x4xf32>, %n: tensor<4xf32>,
                            %i: tensor<8x4xf32>, %o: tensor<4x8xf32>) {
  // expected-error @+1 {{'nl.cms' op local_objective is only used with signal = local}}
  %y = nl.cms "cms" %x params(%n, %i, %o : tensor<4xf32>, tensor<8x4xf32>, tensor<4x8xf32>) {
      chunks = array<i64: 1>, variant = #nl.cms_variant<sequential>,
      signal = #nl.cms_signal<none>, activation = #nl.activation<silu>,
      local_objective = #nl.l2<>} : tensor<1x8x4xf32>
  return
}

// -----

func.func @variant_kind(%x: tensor<1x8x4xf32>, %n: tensor<4xf32>, %i: tensor<8x4xf32>,
                        %o: tensor<4x8xf32>) {
  // expected-error @+1 {{'nl.cms' op attribute 'variant' failed to satisfy constraint: how the blocks of a CMS chain combine}}
  %y = nl.cms "cms" %x params(%n, %i, %o : tensor<4xf32>, tensor<8x4xf32>, tensor<4x8xf32>) {
      chunks = array<i64: 1>, variant = #nl.cms_signal<none>,
      signal = #nl.cms_signal<none>, activation = #nl.activation<silu>} : tensor<1x8x4xf32>
  return
}

// -----

func.func @local_objective_kind(%x: tensor<1x8x4xf32>, %n: tensor<4xf32>,
                                %i: tensor<8x4xf32>, %o: tensor<4x8xf32>) {
  // expected-error @+1 {{'nl.cms' op attribute 'local_objective' failed to satisfy constraint}}
  %y = nl.cms "cms" %x params(%n, %i, %o : tensor<4xf32>, tensor<8x4xf32>, tensor<4x8xf32>) {
      chunks = array<i64: 1>, variant = #nl.cms_variant<sequential>,
      signal = #nl.cms_signal<local>, activation = #nl.activation<silu>,
      lr = array<f64: 0.1>, local_objective = #nl.linear} : tensor<1x8x4xf32>
  return
}

// -----

func.func @result_type(%x: tensor<1x8x4xf32>, %n: tensor<4xf32>, %i: tensor<8x4xf32>,
                       %o: tensor<4x8xf32>) {
  // expected-error @+1 {{'nl.cms' op failed to verify that all of {input, result} have same type}}
  %y = "nl.cms"(%x, %n, %i, %o) <{name = "cms", chunks = array<i64: 1>,
      variant = #nl.cms_variant<sequential>, signal = #nl.cms_signal<none>,
      activation = #nl.activation<silu>}>
      : (tensor<1x8x4xf32>, tensor<4xf32>, tensor<8x4xf32>, tensor<4x8xf32>) -> tensor<1x?x4xf32>
  return
}
