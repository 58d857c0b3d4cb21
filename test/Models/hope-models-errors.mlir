// Every mistake is one line on stderr, nothing on stdout, and exit 1.

// RUN: not hope-models nope 2>&1 | FileCheck %s --check-prefix=MODEL
// MODEL: hope-models: unknown model 'nope'; models: hope-block, hope-lm, self-modifying-titans, titans-memory, memory-level
// RUN: not hope-models nope 2>&1 | count 1
// RUN: not hope-models nope 2>/dev/null | count 0

// RUN: not hope-models hope-block --config=huge 2>&1 | FileCheck %s --check-prefix=CONFIG
// CONFIG: hope-models: unknown config 'huge' of hope-block; configs: default, tiny
// RUN: not hope-models memory-level --config=default 2>&1 | FileCheck %s --check-prefix=LEVEL-CONFIG
// LEVEL-CONFIG: hope-models: unknown config 'default' of memory-level; configs: linear-momentum, linear-dgd, mlp-momentum, mlp-dgd, chunk-aggregated, gated-delta
// RUN: not hope-models memory-level --config=default 2>&1 | count 1

// RUN: not hope-models 2>&1 | FileCheck %s --check-prefix=NONE
// NONE: hope-models: give a model: hope-block, hope-lm, self-modifying-titans, titans-memory, memory-level (see --help)

// RUN: not hope-models hope-block --layers=3 2>&1 | FileCheck %s --check-prefix=APPLY
// APPLY: hope-models: --layers does not apply to hope-block (see --help)
// RUN: not hope-models hope-block --streaming --mixer=attention 2>&1 | FileCheck %s --check-prefix=STREAM-ATTN
// STREAM-ATTN: hope-models: --streaming needs a key/value cache with --mixer=attention, which is not written yet
// RUN: not hope-models titans-memory --read-point=after 2>&1 | FileCheck %s --check-prefix=APPLY2
// APPLY2: hope-models: --read-point does not apply to titans-memory (see --help)

// RUN: not hope-models memory-level --config=linear-dgd --dtype=bf16 2>&1 | FileCheck %s --check-prefix=DTYPE
// DTYPE: hope-models: unknown --dtype 'bf16'; dtypes: f32, f64
// RUN: not hope-models memory-level --config=linear-dgd --read-point=before 2>&1 | FileCheck %s --check-prefix=POINT
// POINT: hope-models: unknown --read-point 'before'; read points: after, chunk_start
// RUN: not hope-models memory-level --config=linear-dgd --heads=0 2>&1 | FileCheck %s --check-prefix=POSITIVE
// POSITIVE: hope-models: --heads must be positive, got 0
// RUN: not hope-models titans-memory --linearize=-4 2>&1 | FileCheck %s --check-prefix=LINEARIZE
// LINEARIZE: hope-models: --linearize must be a positive number of tokens or 'sequence', got '-4'
// RUN: not hope-models hope-lm --layers=0 2>&1 | FileCheck %s --check-prefix=LAYERS
// LAYERS: hope-models: --layers must be positive, got 0
// RUN: not hope-models hope-block --cms=bogus 2>&1 | FileCheck %s --check-prefix=CMS
// CMS: hope-models: unknown --cms 'bogus'; variants: sequential, independent, nested
// RUN: not hope-models hope-block --mixer=bogus 2>&1 | FileCheck %s --check-prefix=MIXER
// MIXER: hope-models: unknown --mixer 'bogus'; mixers: titans, attention
// RUN: not hope-models hope-block --mixer=bogus 2>&1 | count 1
// RUN: not hope-models hope-block --mixer=bogus 2>/dev/null | count 0
// RUN: not hope-models hope-block --width=100 2>&1 | FileCheck %s --check-prefix=HEADS
// HEADS: hope-models: the width 100 must be a positive multiple of the number of heads 8

// Configurations the dialect rejects report the verifier's message.
// RUN: not hope-models memory-level --config=mlp-dgd --linearize=8 2>&1 | FileCheck %s --check-prefix=VERIFY
// VERIFY: hope-models: memory-level --config=mlp-dgd does not verify: 'nl.memory' op DGD is not defined for the chunk-aggregated variant (use #nl.momentum_gd)
// RUN: not hope-models memory-level --config=chunk-aggregated --linearize=6 2>&1 | FileCheck %s --check-prefix=PERIOD
// PERIOD: hope-models: memory-level --config=chunk-aggregated does not verify: 'nl.memory' op linearisation period 6 is not a multiple of the chunk size 4
// RUN: not hope-models memory-level --config=chunk-aggregated --linearize=6 2>&1 | count 1

// RUN: not hope-models memory-level --config=linear-dgd -o %t.missing/dir/m.mlir 2>&1 | FileCheck %s --check-prefix=OUTPUT
// OUTPUT: hope-models: cannot write '{{.*}}m.mlir':
// RUN: not hope-models memory-level --config=linear-dgd -o /dev/null --weights-out=%t.missing/dir/w.safetensors 2>&1 | FileCheck %s --check-prefix=WEIGHTS
// WEIGHTS: hope-models: cannot write '{{.*}}w.safetensors':
