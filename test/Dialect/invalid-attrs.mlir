// Diagnostics of the attribute and type verifiers and of the custom parameter
// parsers of the nl dialect.
// RUN: hope-opt %s -split-input-file -verify-diagnostics

//===----------------------------------------------------------------------===//
// #nl.every
//===----------------------------------------------------------------------===//

// expected-error @+1 {{update period must be positive, got 0 tokens}}
func.func private @every_zero() attributes {a = #nl.every<0 tokens>}

// -----

// expected-error @+1 {{update period must be positive, got -2 steps}}
func.func private @every_negative() attributes {a = #nl.every<-2 steps>}

// -----

// expected-error @+2 {{expected one of [tokens, steps] for unit in which an update period is counted, got: hours}}
// expected-error @+1 {{failed to parse NL_EveryAttr parameter 'unit'}}
func.func private @every_unit() attributes {a = #nl.every<8 hours>}

// -----

//===----------------------------------------------------------------------===//
// #nl.mlp
//===----------------------------------------------------------------------===//

// expected-error @+1 {{an MLP memory needs depth >= 1, got 0}}
func.func private @mlp_depth() attributes {a = #nl.mlp<depth = 0, hidden = 64>}

// -----

// expected-error @+1 {{an MLP memory of depth 1 without a skip path is one matrix: use #nl.linear}}
func.func private @mlp_depth_one_without_skip() attributes {a = #nl.mlp<depth = 1, hidden = 64, residual = none>}

// -----

// expected-error @+1 {{MLP hidden width must be positive, got 0}}
func.func private @mlp_hidden() attributes {a = #nl.mlp<hidden = 0>}

// -----

// expected-error @+1 {{norm_offset 1.000000e+00 needs a norm (pre or post)}}
func.func private @mlp_offset_without_norm() attributes {a = #nl.mlp<hidden = 8, norm_offset = 1.0>}

// -----

// expected-error @+1 {{struct is missing required parameter: hidden}}
func.func private @mlp_no_hidden() attributes {a = #nl.mlp<depth = 2>}

// -----

// expected-error @+2 {{expected one of [none, identity, learned] for skip path of an MLP memory, got: gated}}
// expected-error @+1 {{failed to parse NL_MLPModelAttr parameter 'residual'}}
func.func private @mlp_residual() attributes {a = #nl.mlp<hidden = 8, residual = gated>}

// -----

//===----------------------------------------------------------------------===//
// #nl.l2 (flag parameters)
//===----------------------------------------------------------------------===//

// expected-error @+2 {{expected 'true' or 'false'}}
// expected-error @+1 {{failed to parse NL_L2ObjectiveAttr parameter 'half'}}
func.func private @l2_half() attributes {a = #nl.l2<half = 1>}

// -----

//===----------------------------------------------------------------------===//
// #nl.momentum_gd
//===----------------------------------------------------------------------===//

// expected-error @+1 {{momentum order must be >= 0, got -1}}
func.func private @momentum_order() attributes {a = #nl.momentum_gd<order = -1>}

// -----

// expected-error @+2 {{expected 'true' or 'false'}}
// expected-error @+1 {{failed to parse NL_MomentumGDAttr parameter 'newton_schulz'}}
func.func private @momentum_ns() attributes {a = #nl.momentum_gd<newton_schulz = yes>}

// -----

//===----------------------------------------------------------------------===//
// #nl.chunk_aggregated (custom parser)
//===----------------------------------------------------------------------===//

// expected-error @+1 {{linearisation period must be positive or 'sequence', got 0}}
func.func private @aggregated_zero() attributes {a = #nl.chunk_aggregated<linearize = 0>}

// -----

// expected-error @+1 {{linearisation period must be positive or 'sequence', got -64}}
func.func private @aggregated_negative() attributes {a = #nl.chunk_aggregated<linearize = -64>}

// -----

// expected-error @+1 {{expected 'linearize'}}
func.func private @aggregated_keyword() attributes {a = #nl.chunk_aggregated<period = 64>}

// -----

// expected-error @+1 {{expected integer value}}
func.func private @aggregated_word() attributes {a = #nl.chunk_aggregated<linearize = chunk>}

// -----

//===----------------------------------------------------------------------===//
// #nl.adamw, #nl.muon, #nl.m3 (real-valued parameters)
//===----------------------------------------------------------------------===//

// expected-error @+1 {{lr must be positive, got 0.000000e+00}}
func.func private @adamw_lr() attributes {a = #nl.adamw<lr = 0.0, beta1 = 0.9, beta2 = 0.999, eps = 1.0e-8, weight_decay = 0.0>}

// -----

// expected-error @+1 {{beta1 must be in [0, 1), got 1.000000e+00}}
func.func private @adamw_beta1() attributes {a = #nl.adamw<lr = 1.0e-3, beta1 = 1.0, beta2 = 0.999, eps = 1.0e-8, weight_decay = 0.0>}

// -----

// expected-error @+1 {{beta2 must be in [0, 1), got -1.000000e-01}}
func.func private @adamw_beta2() attributes {a = #nl.adamw<lr = 1.0e-3, beta1 = 0.9, beta2 = -0.1, eps = 1.0e-8, weight_decay = 0.0>}

// -----

// expected-error @+1 {{eps must be positive, got 0.000000e+00}}
func.func private @adamw_eps() attributes {a = #nl.adamw<lr = 1.0e-3, beta1 = 0.9, beta2 = 0.999, eps = 0.0, weight_decay = 0.0>}

// -----

// expected-error @+1 {{weight_decay must be >= 0, got -1.000000e-02}}
func.func private @adamw_weight_decay() attributes {a = #nl.adamw<lr = 1.0e-3, beta1 = 0.9, beta2 = 0.999, eps = 1.0e-8, weight_decay = -0.01>}

// -----

// expected-error @+1 {{lr must be positive, got -2.000000e-02}}
func.func private @muon_lr() attributes {a = #nl.muon<lr = -0.02>}

// -----

// Real-valued parameters are float literals.
// expected-error @+3 {{unexpected decimal integer literal for a floating point value}}
// expected-note @+2 {{add a trailing dot to make the literal a float}}
// expected-error @+1 {{failed to parse NL_MuonRuleAttr parameter 'lr'}}
func.func private @muon_integer() attributes {a = #nl.muon<lr = 1>}

// -----

// expected-error @+1 {{lr must be positive, got 0.000000e+00}}
func.func private @m3_lr() attributes {a = #nl.m3<lr = 0.0, alpha = 0.5, eps = 1.0e-8>}

// -----

// expected-error @+1 {{eps must be positive, got -1.000000e+00}}
func.func private @m3_eps() attributes {a = #nl.m3<lr = 0.02, alpha = 0.5, eps = -1.0>}

// -----

// expected-error @+1 {{alpha must be >= 0, got -5.000000e-01}}
func.func private @m3_alpha() attributes {a = #nl.m3<lr = 0.02, alpha = -0.5, eps = 1.0e-8>}

// -----

//===----------------------------------------------------------------------===//
// Enum attributes
//===----------------------------------------------------------------------===//

// expected-error @+2 {{expected one of [sequential, independent, nested] for how the blocks of a CMS chain combine, got: parallel}}
// expected-error @+1 {{failed to parse NL_CmsVariantAttr parameter 'value'}}
func.func private @cms_variant() attributes {a = #nl.cms_variant<parallel>}

// -----

// expected-error @+2 {{expected one of [none, task, local] for learning signal of CMS blocks, got: loss}}
// expected-error @+1 {{failed to parse NL_CmsSignalAttr parameter 'value'}}
func.func private @cms_signal() attributes {a = #nl.cms_signal<loss>}

// -----

// expected-error @+2 {{expected one of [silu, gelu, sigmoid, softplus] for elementwise nonlinearity, got: relu}}
// expected-error @+1 {{failed to parse NL_ActivationAttr parameter 'value'}}
func.func private @activation() attributes {a = #nl.activation<relu>}

// -----

//===----------------------------------------------------------------------===//
// !nl.memory
//===----------------------------------------------------------------------===//

// expected-error @+1 {{memory heads and widths must be positive, got 0 heads, 64 -> 64}}
func.func private @memory_heads(!nl.memory<0 heads, 64 -> 64, f32>)

// -----

// expected-error @+1 {{memory heads and widths must be positive, got 8 heads, -1 -> 64}}
func.func private @memory_input(!nl.memory<8 heads, -1 -> 64, f32>)

// -----

// expected-error @+1 {{memory heads and widths must be positive, got 8 heads, 64 -> 0}}
func.func private @memory_output(!nl.memory<8 heads, 64 -> 0, f32>)

// -----

// expected-error @+1 {{memory state must have a float element type, got 'i32'}}
func.func private @memory_element(!nl.memory<8 heads, 64 -> 64, i32>)

// -----

// expected-error @+1 {{memory state must have a float element type, got 'tensor<4xf32>'}}
func.func private @memory_element_tensor(!nl.memory<8 heads, 64 -> 64, tensor<4xf32>>)
