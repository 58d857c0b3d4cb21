// Round trip of the memory ops: nl.memory, nl.update, nl.read and
// nl.final_state, with every model, objective, rule and init layout.
// RUN: hope-opt %s | hope-opt | FileCheck %s
// RUN: hope-opt %s --mlir-print-op-generic | hope-opt | FileCheck %s

!m16 = !nl.memory<4 heads, 16 -> 16, f32>
!m8 = !nl.memory<4 heads, 16 -> 8, f32>

// Linear memory, one state tensor per head ([H, out, in]), momentum GD with
// its default order 1 (printed as `<>`), dot-product objective; read after
// the update, update without retention.

// CHECK-LABEL: func.func @linear_per_head
// CHECK-SAME: (%[[W:[^:]+]]: tensor<4x16x16xf32>, %[[K:[^:]+]]: tensor<?x4x?x16xf32>, %[[V:[^:]+]]: tensor<?x4x?x16xf32>, %[[ETA:[^:]+]]: tensor<?x4x?xf32>, %[[BETA:[^:]+]]: tensor<?x4x?xf32>)
// CHECK: %[[M:.+]] = nl.memory "M" init(%[[W]] : tensor<4x16x16xf32>)
// CHECK-SAME: {every = #nl.every<8 tokens>, model = #nl.linear, objective = #nl.dot, rule = #nl.momentum_gd<>}
// CHECK-SAME: : !nl.memory<4 heads, 16 -> 16, f32>
// CHECK: %[[Y:.+]] = nl.read %[[M]](%[[K]]) at after : !nl.memory<4 heads, 16 -> 16, f32>, tensor<?x4x?x16xf32>
// CHECK: nl.update %[[M]] keys(%[[K]]) values(%[[V]]) lr(%[[ETA]]) momentum(%[[BETA]])
// CHECK-SAME: : !nl.memory<4 heads, 16 -> 16, f32>, tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>, tensor<?x4x?xf32>, tensor<?x4x?xf32>{{$}}
// CHECK: return %[[Y]] : tensor<?x4x?x16xf32>
func.func @linear_per_head(%w: tensor<4x16x16xf32>, %k: tensor<?x4x?x16xf32>,
                           %v: tensor<?x4x?x16xf32>, %eta: tensor<?x4x?xf32>,
                           %beta: tensor<?x4x?xf32>) -> tensor<?x4x?x16xf32> {
  %m = nl.memory "M" init(%w : tensor<4x16x16xf32>) {
      every = #nl.every<8 tokens>, model = #nl.linear, objective = #nl.dot,
      rule = #nl.momentum_gd<>} : !m16
  %y = nl.read %m(%k) at after : !m16, tensor<?x4x?x16xf32>
  nl.update %m keys(%k) values(%v) lr(%eta) momentum(%beta)
      : !m16, tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>, tensor<?x4x?xf32>,
        tensor<?x4x?xf32>
  return %y : tensor<?x4x?x16xf32>
}

// Per-sequence state ([B, H, out, in]) followed by its momentum buffer; every
// parameter of the attributes spelled out at its default value (the printer
// elides them all); retention and momentum rates; final state with the
// momentum buffer; the nl.level discardable attribute.

// CHECK-LABEL: func.func @linear_per_batch_with_momentum_buffer
// CHECK-SAME: (%[[W:[^:]+]]: tensor<2x4x16x16xf32>, %[[S:[^:]+]]: tensor<2x4x16x16xf32>, %[[K:[^:]+]]: tensor<2x4x?x16xf32>, %[[V:[^:]+]]: tensor<2x4x?x16xf32>, %[[ETA:[^:]+]]: tensor<2x4x?xf32>, %[[ALPHA:[^:]+]]: tensor<2x4x?xf32>, %[[BETA:[^:]+]]: tensor<2x4x?xf32>)
// CHECK: %[[M:.+]] = nl.memory "M" init(%[[W]], %[[S]] : tensor<2x4x16x16xf32>, tensor<2x4x16x16xf32>)
// CHECK-SAME: {every = #nl.every<1 tokens>, model = #nl.linear, nl.level = array<i64: 1>, objective = #nl.l2<>, rule = #nl.momentum_gd<>}
// CHECK-SAME: : !nl.memory<4 heads, 16 -> 16, f32>
// CHECK: nl.update %[[M]] keys(%[[K]]) values(%[[V]]) lr(%[[ETA]]) retention(%[[ALPHA]]) momentum(%[[BETA]])
// CHECK-SAME: : !nl.memory<4 heads, 16 -> 16, f32>, tensor<2x4x?x16xf32>, tensor<2x4x?x16xf32>, tensor<2x4x?xf32>, tensor<2x4x?xf32>, tensor<2x4x?xf32>{{$}}
// CHECK: %[[F:.+]]:2 = nl.final_state %[[M]] : !nl.memory<4 heads, 16 -> 16, f32> -> tensor<2x4x16x16xf32>, tensor<2x4x16x16xf32>{{$}}
// CHECK: return %[[F]]#0, %[[F]]#1 : tensor<2x4x16x16xf32>, tensor<2x4x16x16xf32>
func.func @linear_per_batch_with_momentum_buffer(
    %w: tensor<2x4x16x16xf32>, %s: tensor<2x4x16x16xf32>,
    %k: tensor<2x4x?x16xf32>, %v: tensor<2x4x?x16xf32>,
    %eta: tensor<2x4x?xf32>, %alpha: tensor<2x4x?xf32>, %beta: tensor<2x4x?xf32>)
    -> (tensor<2x4x16x16xf32>, tensor<2x4x16x16xf32>) {
  %m = nl.memory "M" init(%w, %s : tensor<2x4x16x16xf32>, tensor<2x4x16x16xf32>) {
      every = #nl.every<1 tokens>, model = #nl.linear,
      objective = #nl.l2<reduction = sum, half = false>,
      rule = #nl.momentum_gd<order = 1, newton_schulz = false, lr = token,
                             retention = token, momentum = token>,
      nl.level = array<i64: 1>} : !m16
  nl.update %m keys(%k) values(%v) lr(%eta) retention(%alpha) momentum(%beta)
      : !m16, tensor<2x4x?x16xf32>, tensor<2x4x?x16xf32>, tensor<2x4x?xf32>,
        tensor<2x4x?xf32>, tensor<2x4x?xf32>
  %fw, %fs = nl.final_state %m : !m16 -> tensor<2x4x16x16xf32>, tensor<2x4x16x16xf32>
  return %fw, %fs : tensor<2x4x16x16xf32>, tensor<2x4x16x16xf32>
}

// MLP of depth 3 with a learned skip and a pre-norm (state W_1, W_2, W_3,
// W_skip, norm scale [d_in]), per-head init, mean-reduced halved L2, DGD with
// normalised step size; read at the chunk start of a static query; final
// state without momentum buffers (DGD without momentum keeps none).

// CHECK-LABEL: func.func @mlp_depth3_learned_pre
// CHECK-SAME: (%[[W1:[^:]+]]: tensor<4x32x16xf32>, %[[W2:[^:]+]]: tensor<4x32x32xf32>, %[[W3:[^:]+]]: tensor<4x8x32xf32>, %[[SKIP:[^:]+]]: tensor<4x8x16xf32>, %[[NORM:[^:]+]]: tensor<4x16xf32>, %[[Q:[^:]+]]: tensor<2x4x10x16xf32>, %[[K:[^:]+]]: tensor<?x4x?x16xf32>, %[[V:[^:]+]]: tensor<?x4x?x8xf32>, %[[ETA:[^:]+]]: tensor<?x4x?xf32>, %[[ALPHA:[^:]+]]: tensor<?x4x?xf32>)
// CHECK: %[[M:.+]] = nl.memory "M_mlp" init(%[[W1]], %[[W2]], %[[W3]], %[[SKIP]], %[[NORM]] : tensor<4x32x16xf32>, tensor<4x32x32xf32>, tensor<4x8x32xf32>, tensor<4x8x16xf32>, tensor<4x16xf32>)
// CHECK-SAME: {every = #nl.every<16 tokens>,
// CHECK-SAME: model = #nl.mlp<depth = 3, hidden = 32, activation = gelu, residual = learned, norm = pre>,
// CHECK-SAME: objective = #nl.l2<reduction = mean, half = true>,
// CHECK-SAME: rule = #nl.dgd<step_size = normalized>}
// CHECK-SAME: : !nl.memory<4 heads, 16 -> 8, f32>
// CHECK: %[[Y:.+]] = nl.read %[[M]](%[[Q]]) at chunk_start : !nl.memory<4 heads, 16 -> 8, f32>, tensor<2x4x10x16xf32>
// CHECK: nl.update %[[M]] keys(%[[K]]) values(%[[V]]) lr(%[[ETA]]) retention(%[[ALPHA]])
// CHECK-SAME: : !nl.memory<4 heads, 16 -> 8, f32>, tensor<?x4x?x16xf32>, tensor<?x4x?x8xf32>, tensor<?x4x?xf32>, tensor<?x4x?xf32>{{$}}
// CHECK: %[[F:.+]]:5 = nl.final_state %[[M]] : !nl.memory<4 heads, 16 -> 8, f32>
// CHECK-SAME: -> tensor<?x4x32x16xf32>, tensor<?x4x32x32xf32>, tensor<?x4x8x32xf32>, tensor<?x4x8x16xf32>, tensor<?x4x16xf32>{{$}}
// CHECK: return %[[Y]], %[[F]]#4 : tensor<2x4x10x8xf32>, tensor<?x4x16xf32>
func.func @mlp_depth3_learned_pre(
    %w1: tensor<4x32x16xf32>, %w2: tensor<4x32x32xf32>, %w3: tensor<4x8x32xf32>,
    %skip: tensor<4x8x16xf32>, %norm: tensor<4x16xf32>,
    %q: tensor<2x4x10x16xf32>, %k: tensor<?x4x?x16xf32>, %v: tensor<?x4x?x8xf32>,
    %eta: tensor<?x4x?xf32>, %alpha: tensor<?x4x?xf32>)
    -> (tensor<2x4x10x8xf32>, tensor<?x4x16xf32>) {
  %m = nl.memory "M_mlp" init(%w1, %w2, %w3, %skip, %norm
      : tensor<4x32x16xf32>, tensor<4x32x32xf32>, tensor<4x8x32xf32>,
        tensor<4x8x16xf32>, tensor<4x16xf32>) {
      every = #nl.every<16 tokens>,
      model = #nl.mlp<depth = 3, hidden = 32, activation = gelu,
                      residual = learned, norm = pre>,
      objective = #nl.l2<reduction = mean, half = true>,
      rule = #nl.dgd<momentum = false, step_size = normalized, lr = token,
                     retention = token>} : !m8
  %y = nl.read %m(%q) at chunk_start : !m8, tensor<2x4x10x16xf32>
  nl.update %m keys(%k) values(%v) lr(%eta) retention(%alpha)
      : !m8, tensor<?x4x?x16xf32>, tensor<?x4x?x8xf32>, tensor<?x4x?xf32>,
        tensor<?x4x?xf32>
  %f:5 = nl.final_state %m : !m8 -> tensor<?x4x32x16xf32>, tensor<?x4x32x32xf32>,
      tensor<?x4x8x32xf32>, tensor<?x4x8x16xf32>, tensor<?x4x16xf32>
  return %y, %f#4 : tensor<2x4x10x8xf32>, tensor<?x4x16xf32>
}

// MLP (default depth 2, silu) without skip and with a post-norm (state W_1,
// W_2, norm scale [d_out]); DGD with momentum: per-sequence init of the three
// parameters and their three momentum buffers, one momentum rate, final state
// with the momentum buffers.

// CHECK-LABEL: func.func @mlp_post_norm_dgd_momentum
// CHECK: %[[M:.+]] = nl.memory "M_post" init(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} : tensor<?x4x8x16xf32>, tensor<?x4x16x8xf32>, tensor<?x4x16xf32>, tensor<?x4x8x16xf32>, tensor<?x4x16x8xf32>, tensor<?x4x16xf32>)
// CHECK-SAME: {every = #nl.every<4 tokens>, model = #nl.mlp<hidden = 8, residual = none, norm = post>, objective = #nl.l2<half = true>, rule = #nl.dgd<momentum = true>}
// CHECK-SAME: : !nl.memory<4 heads, 16 -> 16, f32>
// CHECK: nl.update %[[M]] keys(%{{.+}}) values(%{{.+}}) lr(%{{.+}}) retention(%{{.+}}) momentum(%{{.+}}) :
// CHECK: %{{.+}}:6 = nl.final_state %[[M]] : !nl.memory<4 heads, 16 -> 16, f32>
// CHECK-SAME: -> tensor<3x4x8x16xf32>, tensor<3x4x16x8xf32>, tensor<3x4x16xf32>, tensor<3x4x8x16xf32>, tensor<3x4x16x8xf32>, tensor<3x4x16xf32>{{$}}
func.func @mlp_post_norm_dgd_momentum(
    %w1: tensor<?x4x8x16xf32>, %w2: tensor<?x4x16x8xf32>, %n: tensor<?x4x16xf32>,
    %s1: tensor<?x4x8x16xf32>, %s2: tensor<?x4x16x8xf32>, %sn: tensor<?x4x16xf32>,
    %k: tensor<3x4x?x16xf32>, %eta: tensor<3x4x?xf32>, %alpha: tensor<3x4x?xf32>,
    %beta: tensor<3x4x?xf32>) {
  %m = nl.memory "M_post" init(%w1, %w2, %n, %s1, %s2, %sn
      : tensor<?x4x8x16xf32>, tensor<?x4x16x8xf32>, tensor<?x4x16xf32>,
        tensor<?x4x8x16xf32>, tensor<?x4x16x8xf32>, tensor<?x4x16xf32>) {
      every = #nl.every<4 tokens>,
      model = #nl.mlp<hidden = 8, activation = silu, residual = none, norm = post>,
      objective = #nl.l2<half = true>, rule = #nl.dgd<momentum = true>} : !m16
  nl.update %m keys(%k) values(%k) lr(%eta) retention(%alpha) momentum(%beta)
      : !m16, tensor<3x4x?x16xf32>, tensor<3x4x?x16xf32>, tensor<3x4x?xf32>,
        tensor<3x4x?xf32>, tensor<3x4x?xf32>
  %f:6 = nl.final_state %m : !m16 -> tensor<3x4x8x16xf32>, tensor<3x4x16x8xf32>,
      tensor<3x4x16xf32>, tensor<3x4x8x16xf32>, tensor<3x4x16x8xf32>,
      tensor<3x4x16xf32>
  return
}

// Chunk-aggregated memories: linearised every 64 tokens (a multiple of the
// chunk size 16) with two momentum orders, Newton-Schulz output and per-chunk
// rates ([B, H, ceil(T/C)] = [2, 4, 4] for T = 64); linearised over the whole
// sequence with plain gradient descent (order 0: no momentum rate).

// CHECK-LABEL: func.func @chunk_aggregated
// CHECK-SAME: (%[[W:[^:]+]]: tensor<4x16x16xf32>, %[[K:[^:]+]]: tensor<2x4x64x16xf32>, %[[ETA:[^:]+]]: tensor<2x4x4xf32>, %[[ALPHA:[^:]+]]: tensor<2x4x4xf32>, %[[B1:[^:]+]]: tensor<2x4x4xf32>, %[[B2:[^:]+]]: tensor<2x4x4xf32>, %[[ETA_T:[^:]+]]: tensor<2x4x64xf32>)
// CHECK: %[[M:.+]] = nl.memory "M_agg" init(%[[W]] : tensor<4x16x16xf32>)
// CHECK-SAME: {chunk_aggregated = #nl.chunk_aggregated<linearize = 64>, every = #nl.every<16 tokens>, model = #nl.linear, objective = #nl.l2<reduction = mean>,
// CHECK-SAME: rule = #nl.momentum_gd<order = 2, newton_schulz = true, lr = chunk, retention = chunk, momentum = chunk>}
// CHECK-SAME: : !nl.memory<4 heads, 16 -> 16, f32>
// CHECK: nl.update %[[M]] keys(%[[K]]) values(%[[K]]) lr(%[[ETA]]) retention(%[[ALPHA]]) momentum(%[[B1]], %[[B2]])
// CHECK-SAME: : !nl.memory<4 heads, 16 -> 16, f32>, tensor<2x4x64x16xf32>, tensor<2x4x64x16xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>{{$}}
// CHECK: %[[MS:.+]] = nl.memory "M_seq" init(%[[W]] : tensor<4x16x16xf32>)
// CHECK-SAME: {chunk_aggregated = #nl.chunk_aggregated<linearize = sequence>, every = #nl.every<64 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.momentum_gd<order = 0>}
// CHECK: nl.update %[[MS]] keys(%[[K]]) values(%[[K]]) lr(%[[ETA_T]])
// CHECK-SAME: : !nl.memory<4 heads, 16 -> 16, f32>, tensor<2x4x64x16xf32>, tensor<2x4x64x16xf32>, tensor<2x4x64xf32>{{$}}
func.func @chunk_aggregated(%w: tensor<4x16x16xf32>, %k: tensor<2x4x64x16xf32>,
                            %eta: tensor<2x4x4xf32>, %alpha: tensor<2x4x4xf32>,
                            %beta1: tensor<2x4x4xf32>, %beta2: tensor<2x4x4xf32>,
                            %eta_t: tensor<2x4x64xf32>) {
  %m = nl.memory "M_agg" init(%w : tensor<4x16x16xf32>) {
      every = #nl.every<16 tokens>, model = #nl.linear,
      objective = #nl.l2<reduction = mean>,
      rule = #nl.momentum_gd<order = 2, newton_schulz = true, lr = chunk,
                             retention = chunk, momentum = chunk>,
      chunk_aggregated = #nl.chunk_aggregated<linearize = 64>} : !m16
  nl.update %m keys(%k) values(%k) lr(%eta) retention(%alpha) momentum(%beta1, %beta2)
      : !m16, tensor<2x4x64x16xf32>, tensor<2x4x64x16xf32>, tensor<2x4x4xf32>,
        tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>
  %ms = nl.memory "M_seq" init(%w : tensor<4x16x16xf32>) {
      every = #nl.every<64 tokens>, model = #nl.linear, objective = #nl.l2<>,
      rule = #nl.momentum_gd<order = 0>,
      chunk_aggregated = #nl.chunk_aggregated<linearize = sequence>} : !m16
  nl.update %ms keys(%k) values(%k) lr(%eta_t)
      : !m16, tensor<2x4x64x16xf32>, tensor<2x4x64x16xf32>, tensor<2x4x64xf32>
  return
}

// A memory without nl.update is a fixed model; reads of a memory whose handle
// is a function argument; a state of another float type (bf16).

// CHECK-LABEL: func.func @fixed_memory_bf16
// CHECK-SAME: (%[[H:[^:]+]]: !nl.memory<2 heads, 8 -> 4, bf16>, %[[W:[^:]+]]: tensor<2x4x8xbf16>, %[[Q:[^:]+]]: tensor<1x2x?x8xbf16>)
// CHECK: %[[M:.+]] = nl.memory "fixed" init(%[[W]] : tensor<2x4x8xbf16>) {every = #nl.every<1 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !nl.memory<2 heads, 8 -> 4, bf16>
// CHECK: %[[Y:.+]] = nl.read %[[M]](%[[Q]]) at after : !nl.memory<2 heads, 8 -> 4, bf16>, tensor<1x2x?x8xbf16>
// CHECK: %[[Z:.+]] = nl.read %[[H]](%[[Q]]) at chunk_start : !nl.memory<2 heads, 8 -> 4, bf16>, tensor<1x2x?x8xbf16>
// CHECK: return %[[Y]], %[[Z]] : tensor<1x2x?x4xbf16>, tensor<1x2x?x4xbf16>
func.func @fixed_memory_bf16(%h: !nl.memory<2 heads, 8 -> 4, bf16>,
                             %w: tensor<2x4x8xbf16>, %q: tensor<1x2x?x8xbf16>)
    -> (tensor<1x2x?x4xbf16>, tensor<1x2x?x4xbf16>) {
  %m = nl.memory "fixed" init(%w : tensor<2x4x8xbf16>) {
      every = #nl.every<1 tokens>, model = #nl.linear, objective = #nl.l2<>,
      rule = #nl.dgd<>} : !nl.memory<2 heads, 8 -> 4, bf16>
  %y = nl.read %m(%q) at after : !nl.memory<2 heads, 8 -> 4, bf16>, tensor<1x2x?x8xbf16>
  %z = nl.read %h(%q) at chunk_start : !nl.memory<2 heads, 8 -> 4, bf16>, tensor<1x2x?x8xbf16>
  return %y, %z : tensor<1x2x?x4xbf16>, tensor<1x2x?x4xbf16>
}
