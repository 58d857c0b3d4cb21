// Every config of every model verifies, has legal levels, and round-trips.

// RUN: hope-models hope-block --config=tiny | hope-opt --nl-verify-levels --nl-print-levels -o /dev/null | FileCheck %s --check-prefix=HOPE
// HOPE:      levels of @hope_block (fastest first):
// HOPE-NEXT:   level 1   every 1 token      cms[0] (nl.cms)
// HOPE-NEXT:   level 2   every 2 tokens     M_k (nl.memory), M_v (nl.memory), M_eta (nl.memory), M_alpha (nl.memory)
// HOPE-NEXT:   level 3   every 4 tokens     M_mem (nl.memory), cms[1] (nl.cms)
// HOPE-NEXT:   level 4   every 8 tokens     cms[2] (nl.cms)

// RUN: hope-models titans-memory --config=tiny | hope-opt --nl-verify-levels --nl-print-levels -o /dev/null | FileCheck %s --check-prefix=TITANS
// TITANS:      levels of @titans_memory (fastest first):
// TITANS-NEXT:   level 1   every 4 tokens     memory (nl.memory)

// titans-pytorch's options, in float64: the RMSNorms' epsilon is float64's
// machine epsilon, rate projections have biases, the memory's LayerNorm
// scales by gamma + 1, reads are gated per head; --max-lr bounds the rate.
// RUN: hope-models titans-memory --config=titans-pytorch --width=16 --heads=2 --chunk=4 \
// RUN:     --dtype=f64 --max-lr=0.5 | hope-opt | FileCheck %s --check-prefix=TORCH
// TORCH: %arg9: tensor<2xf64> {nl.weight = "b_lr"}, %arg10: tensor<2xf64> {nl.weight = "b_momentum"}, %arg11: tensor<2xf64> {nl.weight = "b_retention"}, %arg12: tensor<2x16xf64> {nl.weight = "w_gate"}
// TORCH-SAME: {nl.weight = "mem_norm_gamma"}
// TORCH: nl.rms_norm %arg0, %arg1 {epsilon = 2.2204460492503131E-16 : f64}
// TORCH: nl.linear %{{.*}}, %arg6 bias %arg9
// TORCH: nl.rate sigmoid %{{.*}} scale 5.000000e-01
// TORCH: #nl.mlp<hidden = 32, activation = gelu, norm = post, norm_offset = 1.000000e+00>
// TORCH: %[[G:.*]] = nl.rate sigmoid
// TORCH: nl.gate %{{.*}}, %[[G]] : tensor<?x2x?x8xf64>, tensor<?x2x?xf64>
// NeuralMemory's default_step_transform_max_lr is 1: no scale on the rate.
// RUN: hope-models titans-memory --config=titans-pytorch --width=16 --heads=2 --chunk=4 | FileCheck %s --check-prefix=MAXLR
// MAXLR: %[[LR:.*]] = nl.linear %{{.*}}, %arg6 bias %arg9
// MAXLR: nl.split_heads %[[LR]]
// MAXLR-NEXT: nl.rate sigmoid %{{[0-9]+}} : tensor
// One head: no gate (as in the package).
// RUN: hope-models titans-memory --config=titans-pytorch --width=16 --heads=1 | FileCheck %s --check-prefix=ONEHEAD
// ONEHEAD-NOT: nl.gate

// RUN: hope-models self-modifying-titans --config=tiny --chunk=2 --chunk-memory=8 | hope-opt --nl-verify-levels --nl-print-levels -o /dev/null | FileCheck %s --check-prefix=SMT
// SMT:      levels of @self_modifying_titans (fastest first):
// SMT-NEXT:   level 1   every 2 tokens     M_k (nl.memory), M_v (nl.memory), M_eta (nl.memory), M_alpha (nl.memory)
// SMT-NEXT:   level 2   every 8 tokens     M_mem (nl.memory)
// nested-learning's form: one head, GELU memories, normalisation epsilon 1e-6.
// RUN: hope-models self-modifying-titans --config=nested-learning --eta-scale=0.3 | FileCheck %s --check-prefix=NESTED
// NESTED: --config=nested-learning --eta-scale=0.3
// NESTED: %arg0: tensor<?x?x64xf32> {nl.input = "h"}
// NESTED-NOT: nl.weight = "w_o"
// NESTED: #nl.mlp<hidden = 64, activation = gelu>
// NESTED: nl.l2_normalize %{{.*}} {epsilon = 9.9999999999999995E-7 : f64}
// NESTED: nl.rate softplus %{{.*}} scale 3.000000e-01
// The package's derived sizes follow the given ones: memory hidden = width,
// chunk_size_memory = chunk_size_other (default 1).
// RUN: hope-models self-modifying-titans --config=nested-learning | FileCheck %s --check-prefix=NESTED-DEFAULT
// NESTED-DEFAULT-COUNT-5: every = #nl.every<1 tokens>
// NESTED-DEFAULT-NOT: every =
// RUN: hope-models self-modifying-titans --config=nested-learning --width=32 --chunk=3 | FileCheck %s --check-prefix=NESTED-SIZES
// NESTED-SIZES: tensor<1x32x32xf32> {nl.weight = "mk_w1"}
// NESTED-SIZES-COUNT-5: every = #nl.every<3 tokens>, model = #nl.mlp<hidden = 32, activation = gelu
// NESTED-SIZES-NOT: every =

// The HOPE language model: levels of both blocks, each memory and CMS named
// by its layer; the three large configs verify (their sizes: ModelWeightsTest).
// RUN: hope-models hope-lm --config=tiny | hope-opt --nl-verify-levels --nl-print-levels -o /dev/null | FileCheck %s --check-prefix=LM
// LM:      levels of @hope_lm (fastest first):
// LM-NEXT:   level 1   every 1 token      layer0.cms[0] (nl.cms)
// LM-NEXT:   level 2   every 1 token      layer1.cms[0] (nl.cms)
// LM-NEXT:   level 3   every 2 tokens     layer0.M_k (nl.memory), layer0.M_v (nl.memory), layer0.M_eta (nl.memory), layer0.M_alpha (nl.memory), layer1.M_k (nl.memory), layer1.M_v (nl.memory), layer1.M_eta (nl.memory), layer1.M_alpha (nl.memory)
// small: every level chunks several times within T = 64 (test_small_gradients.py).
// RUN: hope-models hope-lm --config=small | hope-opt --nl-verify-levels --nl-print-levels -o /dev/null | FileCheck %s --check-prefix=LM-SMALL
// LM-SMALL:      levels of @hope_lm (fastest first):
// LM-SMALL-NEXT:   level 1   every 1 token      layer0.cms[0] (nl.cms)
// LM-SMALL-NEXT:   level 2   every 1 token      layer1.cms[0] (nl.cms)
// LM-SMALL-NEXT:   level 3   every 4 tokens     layer0.M_k (nl.memory), layer0.M_v (nl.memory), layer0.M_eta (nl.memory), layer0.M_alpha (nl.memory), layer0.cms[1] (nl.cms)
// LM-SMALL-NEXT:   level 4   every 4 tokens     layer1.M_k
// LM-SMALL-NEXT:   level 5   every 16 tokens    layer0.M_mem (nl.memory), layer0.cms[2] (nl.cms)
// LM-SMALL-NEXT:   level 6   every 16 tokens    layer1.M_mem (nl.memory), layer1.cms[2] (nl.cms)
// The small block and self-modifying Titans are the LM's block.
// RUN: hope-models hope-block --config=small | FileCheck %s --check-prefix=BLOCK-SMALL
// BLOCK-SMALL: tensor<4x16x16xf32> {nl.weight = "mk_w1"}
// BLOCK-SMALL-SAME: tensor<128x64xf32> {nl.weight = "cms2_in"}
// RUN: hope-models self-modifying-titans --config=small | hope-opt --nl-verify-levels --nl-print-levels -o /dev/null | FileCheck %s --check-prefix=SMT-SMALL
// SMT-SMALL:      level 1   every 4 tokens     M_k (nl.memory), M_v (nl.memory), M_eta (nl.memory), M_alpha (nl.memory)
// SMT-SMALL-NEXT: level 2   every 16 tokens    M_mem (nl.memory)
// titans-memory small: titans-pytorch's options (rate biases, gate, gamma + 1, max_lr 1).
// RUN: hope-models titans-memory --config=small --dtype=f64 | FileCheck %s --check-prefix=TITANS-SMALL
// TITANS-SMALL: {nl.weight = "b_lr"}
// TITANS-SMALL-SAME: tensor<4x64xf64> {nl.weight = "w_gate"}
// TITANS-SMALL-SAME: {nl.weight = "mem_norm_gamma"}
// TITANS-SMALL: nl.rms_norm %arg0, %arg1 {epsilon = 2.2204460492503131E-16 : f64}
// TITANS-SMALL: chunk_aggregated = #nl.chunk_aggregated<linearize = 16>, every = #nl.every<8 tokens>, model = #nl.mlp<hidden = 32, activation = gelu, norm = post, norm_offset = 1.000000e+00>
// RUN: hope-models hope-lm --config=340m | hope-opt --nl-verify-levels -o /dev/null
// RUN: hope-models hope-lm --config=1.3b | FileCheck %s --check-prefix=LARGE
// LARGE: {nl.input = "tokens"}, %arg1: tensor<32000x2048xf32> {nl.weight = "embedding"}
// LARGE-SAME: {nl.weight = "layer23.cms2_out"}
// LARGE-SAME: %arg{{[0-9]+}}: tensor<32000x2048xf32> {nl.weight = "lm_head"}) -> (tensor<?x?x32000xf32> {nl.output = "logits"})
// LARGE: nl.embedding

// RUN: for c in linear-momentum linear-dgd mlp-momentum mlp-dgd chunk-aggregated gated-delta; do \
// RUN:   hope-models memory-level --config=$c | hope-opt --nl-verify-levels --nl-print-levels -o /dev/null; \
// RUN: done | FileCheck %s --check-prefix=LEVELS
// LEVELS-COUNT-6: level 1   every 4 tokens     M (nl.memory)

// The function of one memory level: inputs, initial state as weights, the
// read and the final state.
// RUN: hope-models memory-level --config=chunk-aggregated | FileCheck %s --check-prefix=AGG
// AGG:      func.func @memory_level(
// AGG-SAME:   %arg0: tensor<?x2x?x8xf32> {nl.input = "keys"}
// AGG-SAME:   %arg1: tensor<?x2x?x8xf32> {nl.input = "values"}
// AGG-SAME:   %arg2: tensor<?x2x?xf32> {nl.input = "lr"}
// AGG-SAME:   %arg3: tensor<?x2x?xf32> {nl.input = "retention"}
// AGG-SAME:   %arg4: tensor<?x2x?xf32> {nl.input = "momentum0"}
// AGG-SAME:   %arg5: tensor<?x2x?x8xf32> {nl.input = "queries"}
// AGG-SAME:   %arg6: tensor<2x16x8xf32> {nl.weight = "M.W_1"}
// AGG-SAME:   %arg7: tensor<2x8x16xf32> {nl.weight = "M.W_2"}
// AGG-SAME:   %arg8: tensor<2x8xf32> {nl.weight = "M.norm_scale"}
// AGG-SAME: -> (tensor<?x2x?x8xf32> {nl.output = "y"}, tensor<?x2x16x8xf32> {nl.state = "M.W_1"}, tensor<?x2x8x16xf32> {nl.state = "M.W_2"}, tensor<?x2x8xf32> {nl.state = "M.norm_scale"})
// AGG:      nl.memory "M"
// AGG-SAME: chunk_aggregated = #nl.chunk_aggregated<linearize = 8>
// AGG-SAME: every = #nl.every<4 tokens>
// AGG-SAME: model = #nl.mlp<hidden = 16, activation = gelu, norm = post>
// AGG-SAME: objective = #nl.l2<reduction = mean>
// AGG-SAME: rule = #nl.momentum_gd<retention = chunk, momentum = chunk>
// AGG:      nl.update
// AGG:      nl.read {{.*}} at after
// AGG:      nl.final_state

// Overrides.
// RUN: hope-models memory-level --config=mlp-dgd --chunk=16 --heads=3 --width=5 --hidden=7 --dtype=f64 --read-point=chunk_start | FileCheck %s --check-prefix=OVERRIDE
// OVERRIDE: %arg0: tensor<?x3x?x5xf64> {nl.input = "keys"}
// OVERRIDE: %arg5: tensor<3x7x5xf64> {nl.weight = "M.W_1"}
// OVERRIDE: every = #nl.every<16 tokens>
// OVERRIDE-SAME: model = #nl.mlp<hidden = 7>
// OVERRIDE-SAME: rule = #nl.dgd<>
// OVERRIDE: nl.read {{.*}} at chunk_start : !nl.memory<3 heads, 5 -> 5, f64>

// --chunk scales a finite linearisation period; --linearize sets it and
// makes a token-variant memory chunk-aggregated.
// RUN: hope-models memory-level --config=chunk-aggregated --chunk=2 | FileCheck %s --check-prefix=RESCALE
// RESCALE: chunk_aggregated = #nl.chunk_aggregated<linearize = 4>, every = #nl.every<2 tokens>
// RUN: hope-models memory-level --config=linear-momentum --linearize=sequence | FileCheck %s --check-prefix=SEQUENCE
// SEQUENCE: chunk_aggregated = #nl.chunk_aggregated<linearize = sequence>, every = #nl.every<4 tokens>
// RUN: hope-models hope-block --config=tiny --width=64 --heads=4 --hidden=8 | FileCheck %s --check-prefix=HOPEW
// HOPEW: %arg0: tensor<?x?x64xf32> {nl.input = "x"}
// HOPEW: tensor<4x8x16xf32> {nl.weight = "mk_w1"}
