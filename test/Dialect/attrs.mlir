// Round trip of every attribute and type of the nl dialect, outside any op:
// default parameters are elided, struct parameters print in declaration order
// whatever order they were written in.
// RUN: hope-opt %s | hope-opt | FileCheck %s
// RUN: hope-opt %s --mlir-print-op-generic | hope-opt | FileCheck %s

// CHECK-LABEL: func.func private @every()
// CHECK-SAME: attributes {a = #nl.every<8 tokens>, b = #nl.every<1 steps>, c = #nl.every<1 tokens>, d = #nl.every<1000000 steps>}{{$}}
func.func private @every() attributes {
    a = #nl.every<8 tokens>, b = #nl.every<1 steps>, c = #nl.every<1 tokens>,
    d = #nl.every<1000000 steps>}

// CHECK-LABEL: func.func private @models()
// CHECK-SAME: attributes {a = #nl.linear,
// CHECK-SAME: b = #nl.mlp<hidden = 64>,
// CHECK-SAME: c = #nl.mlp<hidden = 64>,
// CHECK-SAME: d = #nl.mlp<hidden = 8, norm = pre>,
// CHECK-SAME: e = #nl.mlp<depth = 4, hidden = 1, activation = softplus, residual = none, norm = post>,
// CHECK-SAME: f = #nl.mlp<depth = 3, hidden = 16, activation = gelu, residual = learned>,
// CHECK-SAME: g = #nl.mlp<hidden = 2, activation = sigmoid>,
// CHECK-SAME: h = #nl.mlp<hidden = 8, norm = post, norm_offset = 1.000000e+00>,
// CHECK-SAME: i = #nl.mlp<hidden = 8, norm = post>,
// CHECK-SAME: j = #nl.mlp<depth = 1, hidden = 16>}{{$}}
func.func private @models() attributes {
    a = #nl.linear,
    b = #nl.mlp<hidden = 64>,
    c = #nl.mlp<depth = 2, hidden = 64, activation = silu, residual = identity,
                norm = none>,
    d = #nl.mlp<norm = pre, hidden = 8>,
    e = #nl.mlp<depth = 4, hidden = 1, activation = softplus, residual = none,
                norm = post>,
    f = #nl.mlp<residual = learned, activation = gelu, hidden = 16, depth = 3>,
    g = #nl.mlp<hidden = 2, activation = sigmoid>,
    h = #nl.mlp<hidden = 8, norm = post, norm_offset = 1.0>,
    i = #nl.mlp<hidden = 8, norm = post, norm_offset = 0.0>,
    j = #nl.mlp<depth = 1, hidden = 16>}

// CHECK-LABEL: func.func private @objectives()
// CHECK-SAME: attributes {a = #nl.l2<>, b = #nl.l2<>, c = #nl.l2<reduction = mean>, d = #nl.l2<half = true>, e = #nl.l2<reduction = mean, half = true>, f = #nl.dot}{{$}}
func.func private @objectives() attributes {
    a = #nl.l2<>, b = #nl.l2<reduction = sum, half = false>,
    c = #nl.l2<reduction = mean>, d = #nl.l2<half = true>,
    e = #nl.l2<half = true, reduction = mean>, f = #nl.dot}

// CHECK-LABEL: func.func private @rules()
// CHECK-SAME: attributes {a = #nl.momentum_gd<>,
// CHECK-SAME: b = #nl.momentum_gd<>,
// CHECK-SAME: c = #nl.momentum_gd<order = 0>,
// CHECK-SAME: d = #nl.momentum_gd<order = 3, newton_schulz = true>,
// CHECK-SAME: e = #nl.momentum_gd<lr = chunk>,
// CHECK-SAME: f = #nl.momentum_gd<retention = chunk>,
// CHECK-SAME: g = #nl.momentum_gd<momentum = chunk>,
// CHECK-SAME: h = #nl.dgd<>,
// CHECK-SAME: i = #nl.dgd<>,
// CHECK-SAME: j = #nl.dgd<momentum = true, step_size = normalized, lr = chunk, retention = chunk>,
// CHECK-SAME: k = #nl.dgd<retention = chunk>}{{$}}
func.func private @rules() attributes {
    a = #nl.momentum_gd<>,
    b = #nl.momentum_gd<order = 1, newton_schulz = false, lr = token,
                        retention = token, momentum = token>,
    c = #nl.momentum_gd<order = 0>,
    d = #nl.momentum_gd<newton_schulz = true, order = 3>,
    e = #nl.momentum_gd<lr = chunk>,
    f = #nl.momentum_gd<retention = chunk>,
    g = #nl.momentum_gd<momentum = chunk>,
    h = #nl.dgd<>,
    i = #nl.dgd<momentum = false, step_size = plain, lr = token, retention = token>,
    j = #nl.dgd<retention = chunk, lr = chunk, step_size = normalized,
                momentum = true>,
    k = #nl.dgd<retention = chunk>}

// CHECK-LABEL: func.func private @chunk_aggregated()
// CHECK-SAME: attributes {a = #nl.chunk_aggregated<linearize = 64>, b = #nl.chunk_aggregated<linearize = 1>, c = #nl.chunk_aggregated<linearize = sequence>}{{$}}
func.func private @chunk_aggregated() attributes {
    a = #nl.chunk_aggregated<linearize = 64>,
    b = #nl.chunk_aggregated<linearize = 1>,
    c = #nl.chunk_aggregated<linearize = sequence>}

// Real-valued parameters print in the shortest form that parses back to the
// same double.

// CHECK-LABEL: func.func private @optimizer_rules()
// CHECK-SAME: attributes {a = #nl.sgd_momentum,
// CHECK-SAME: b = #nl.adamw<lr = 1.000000e-03, beta1 = 9.000000e-01, beta2 = 0.99899999999999999, eps = 1.000000e-08, weight_decay = 1.000000e-02>,
// CHECK-SAME: c = #nl.adamw<lr = 3.000000e-04, beta1 = 8.000000e-01, beta2 = 0.94999999999999996, eps = 1.000000e-08, weight_decay = 0.000000e+00>,
// CHECK-SAME: d = #nl.muon<lr = 2.000000e-02>,
// CHECK-SAME: e = #nl.muon<lr = 0.123456789>,
// CHECK-SAME: f = #nl.m3<lr = 2.000000e-02, alpha = 5.000000e-01, eps = 1.000000e-08>,
// CHECK-SAME: g = #nl.m3<lr = 1.000000e+00, alpha = 0.000000e+00, eps = 1.000000e+00>}{{$}}
func.func private @optimizer_rules() attributes {
    a = #nl.sgd_momentum,
    b = #nl.adamw<lr = 1.0e-03, beta1 = 0.9, beta2 = 0.999, eps = 1.0e-08,
                  weight_decay = 0.01>,
    c = #nl.adamw<weight_decay = 0.0, eps = 1.0e-8, beta2 = 0.95, beta1 = 0.8,
                  lr = 3.0e-4>,
    d = #nl.muon<lr = 0.02>,
    e = #nl.muon<lr = 0.123456789>,
    f = #nl.m3<lr = 0.02, alpha = 0.5, eps = 1.0e-8>,
    g = #nl.m3<eps = 1.0, alpha = 0.0, lr = 1.0>}

// CHECK-LABEL: func.func private @enums()
// CHECK-SAME: attributes {a = #nl.cms_variant<sequential>, b = #nl.cms_variant<independent>, c = #nl.cms_variant<nested>,
// CHECK-SAME: d = #nl.cms_signal<none>, e = #nl.cms_signal<task>, f = #nl.cms_signal<local>,
// CHECK-SAME: g = #nl.activation<silu>, h = #nl.activation<gelu>, i = #nl.activation<sigmoid>, j = #nl.activation<softplus>}{{$}}
func.func private @enums() attributes {
    a = #nl.cms_variant<sequential>, b = #nl.cms_variant<independent>,
    c = #nl.cms_variant<nested>,
    d = #nl.cms_signal<none>, e = #nl.cms_signal<task>, f = #nl.cms_signal<local>,
    g = #nl.activation<silu>, h = #nl.activation<gelu>,
    i = #nl.activation<sigmoid>, j = #nl.activation<softplus>}

// CHECK-LABEL: func.func private @memory_types
// CHECK-SAME: (!nl.memory<1 heads, 1 -> 1, f16>, !nl.memory<8 heads, 64 -> 64, f32>, !nl.memory<8 heads, 64 -> 1, bf16>, !nl.memory<2 heads, 3 -> 5, f64>)
// CHECK-SAME: -> !nl.memory<16 heads, 128 -> 256, f32>{{$}}
func.func private @memory_types(!nl.memory<1 heads, 1 -> 1, f16>,
                                !nl.memory<8 heads, 64 -> 64, f32>,
                                !nl.memory<8 heads, 64 -> 1, bf16>,
                                !nl.memory<2 heads, 3 -> 5, f64>)
    -> !nl.memory<16 heads, 128 -> 256, f32>
