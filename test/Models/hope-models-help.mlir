// --help lists every model with its configs and the overrides that apply.

// RUN: hope-models --help | FileCheck %s
// CHECK: OVERVIEW: hope-models
// CHECK: hope-models NAME --streaming ... --initial-state-out=s0.safetensors   (hope-run --state-in)
// CHECK-DAG: hope-block: a HOPE block
// CHECK-DAG:   default {{.*}}models/hope_block.mlir
// CHECK-DAG:   tiny {{.*}}width 32, 2 heads
// CHECK-DAG:   small {{.*}}hope-lm small's block: width 64, 4 heads
// CHECK-DAG:   small {{.*}}2 layers, width 64, 4 heads, vocabulary 256, C_other 4, C_mem 16, CMS 1/4/16
// CHECK-DAG:   small {{.*}}hope-lm small's: width 64, 4 heads
// CHECK-DAG:   small {{.*}}titans-pytorch's options at width 64, 4 heads
// CHECK-DAG:   overrides: --width --heads --chunk --hidden --dtype --chunk-memory --eta-scale --cms --mixer --streaming
// CHECK-DAG: hope-lm: a HOPE language model
// CHECK-DAG:   340m {{.*}}24 layers, width 1024
// CHECK-DAG:   1.3b {{.*}}width 2048
// CHECK-DAG:   overrides: --dtype --eta-scale --layers --cms --mixer --streaming
// CHECK-DAG: self-modifying-titans: self-modifying Titans alone
// CHECK-DAG:   nested-learning {{.*}}SelfModifyingTitans
// CHECK-DAG:   overrides: --width --heads --chunk --hidden --dtype --chunk-memory --eta-scale
// CHECK-DAG: titans-memory: titans-pytorch's NeuralMemory
// CHECK-DAG:   default {{.*}}models/titans_memory.mlir
// CHECK-DAG:   titans-pytorch {{.*}}biases b_lr/b_momentum/b_retention
// CHECK-DAG:   overrides: --width --heads --chunk --dtype --linearize --max-lr
// CHECK-DAG: memory-level: one memory level
// CHECK-DAG:   linear-momentum
// CHECK-DAG:   linear-dgd
// CHECK-DAG:   mlp-momentum
// CHECK-DAG:   mlp-dgd
// CHECK-DAG:   chunk-aggregated
// CHECK-DAG:   gated-delta
// CHECK-DAG:   overrides: --width --heads --chunk --hidden --dtype --read-point --linearize
// CHECK-DAG: --config=<name>
// CHECK-DAG: --weights-out=<file>
// CHECK-DAG: --seed=<N>
// CHECK-DAG: --max-lr=<x>
// CHECK-DAG: --chunk-memory=<N>
// CHECK-DAG: --eta-scale=<x>
// CHECK-DAG: --conv-init=<seeded|token-shift>
// CHECK-DAG: --kv-branch-scale=<x>
// CHECK-DAG: nl.init = "token_shift"
// CHECK-DAG: --list-weights
// CHECK-DAG: Philox4x32-10
// Only hope-models' own options, not LLVM's.
// CHECK-NOT: --print-after
