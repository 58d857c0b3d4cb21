// --frozen-memories: the memories never learn. The IR has the same weights
// (so the same seeded values) but no inner update, and the memories are
// still read: the baseline of test-time learning (README, "Training").

// RUN: hope-models hope-lm --config=tiny --frozen-memories | FileCheck %s
// CHECK: hope-models hope-lm --config=tiny --frozen-memories
// CHECK: nl.weight = "layer0.malpha_skip"
// CHECK-NOT: nl.update
// CHECK: nl.read
// CHECK-NOT: nl.update
// RUN: hope-models hope-lm --config=tiny | FileCheck %s --check-prefix=LEARNING
// LEARNING-COUNT-10: nl.update

// RUN: hope-models hope-lm --config=tiny --frozen-memories -o /dev/null --weights-out=%t.frozen.safetensors
// RUN: hope-models hope-lm --config=tiny -o /dev/null --weights-out=%t.learning.safetensors
// RUN: cmp %t.frozen.safetensors %t.learning.safetensors

// RUN: hope-models hope-block --config=tiny --frozen-memories | FileCheck %s --check-prefix=BLOCK
// BLOCK-NOT: nl.update
// RUN: hope-models self-modifying-titans --config=tiny --frozen-memories | FileCheck %s --check-prefix=BLOCK

// RUN: not hope-models hope-lm --config=tiny --frozen-memories --streaming 2>&1 | FileCheck %s --check-prefix=STREAM
// STREAM: hope-models: --frozen-memories: memories that never learn have no state to stream; drop --streaming
// RUN: not hope-models hope-block --frozen-memories --mixer=attention 2>&1 | FileCheck %s --check-prefix=ATTN
// ATTN: hope-models: --frozen-memories: --mixer=attention has no memories
// RUN: not hope-models titans-memory --frozen-memories 2>&1 | FileCheck %s --check-prefix=APPLY
// APPLY: hope-models: --frozen-memories does not apply to titans-memory (see --help)
