// --weights-out writes one tensor per `nl.weight` argument, named and shaped
// as the function declares it, from the seeded generator.

// RUN: hope-models memory-level --config=chunk-aggregated -o %t.mlir --weights-out=%t.w.safetensors --seed=5 2>&1 | FileCheck %s --check-prefix=WROTE
// WROTE:      hope-models: wrote memory-level (chunk-aggregated) to {{.*}}.mlir
// WROTE-NEXT: hope-models: wrote 3 tensors (528 parameters, seed 5) to {{.*}}.w.safetensors

// The safetensors header (after its 8-byte length) names every tensor with
// its dtype and shape; llvm::json writes the keys sorted.
// RUN: head -c 400 %t.w.safetensors | tail -c +9 | FileCheck %s --check-prefix=HEADER
// HEADER: {"M.W_1":{"data_offsets":[0,1024],"dtype":"F32","shape":[2,16,8]},"M.W_2":{"data_offsets":[1024,2048],"dtype":"F32","shape":[2,8,16]},"M.norm_scale":{"data_offsets":[2048,2112],"dtype":"F32","shape":[2,8]}}

// f64 models get f64 weights.
// RUN: hope-models memory-level --config=linear-dgd --dtype=f64 -o /dev/null --weights-out=%t.f64.safetensors
// RUN: head -c 200 %t.f64.safetensors | tail -c +9 | FileCheck %s --check-prefix=F64
// F64: {"M.W":{"data_offsets":[0,1024],"dtype":"F64","shape":[2,8,8]}}

// --list-weights prints the same list with each tensor's initialisation,
// instead of the IR.
// RUN: hope-models memory-level --config=chunk-aggregated --list-weights | FileCheck %s --check-prefix=LIST
// LIST:      M.W_1         f32  [2, 16, 8]  matrix      N(0, 1/8)
// LIST-NEXT: M.W_2         f32  [2, 8, 16]  matrix      N(0, 1/16)
// LIST-NEXT: M.norm_scale  f32  [2, 8]      norm scale  ones
// LIST-NOT:  {{.}}

// The HOPE block has 25 weights: every argument but x.
// RUN: hope-models hope-block --config=tiny --list-weights | count 25
// RUN: hope-models hope-block --config=tiny --list-weights | FileCheck %s --check-prefix=HOPE
// HOPE:      titans_norm  f32  [32]          norm scale  ones
// HOPE-NEXT: conv         f32  [32, 4]       conv        N(0, 1/16)
// HOPE-NEXT: w_q          f32  [32, 32]      matrix      N(0, 1/32)
// HOPE:      cms2_out     f32  [32, 64]      matrix      N(0, 1/64)
// RUN: hope-models hope-block --config=tiny -o /dev/null --weights-out=%t.hope.safetensors 2>&1 | FileCheck %s --check-prefix=HOPE-WROTE
// HOPE-WROTE: hope-models: wrote 25 tensors (18816 parameters, seed 0) to

// Same seed, same bytes; another seed, other bytes.
// RUN: hope-models memory-level --config=chunk-aggregated -o /dev/null --weights-out=%t.again.safetensors --seed=5
// RUN: cmp %t.w.safetensors %t.again.safetensors
// RUN: hope-models memory-level --config=chunk-aggregated -o /dev/null --weights-out=%t.other.safetensors --seed=6
// RUN: not cmp -s %t.w.safetensors %t.other.safetensors
