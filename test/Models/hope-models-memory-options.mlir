// --memory-model=linear and --target-outer-gradient (docs/training.md, "The
// associative-recall example"): what each changes in the IR of
// self-modifying Titans, and the errors for bad uses.

// A linear M_mem: #nl.mlp of depth 1 (M(x) = x + W x), one weight [H, d, d];
// the other memories keep their 2-layer MLPs.
// RUN: hope-models self-modifying-titans --config=tiny --memory-model=linear | FileCheck %s --check-prefix=LINEAR
// LINEAR: hope-models self-modifying-titans --config=tiny --memory-model=linear
// LINEAR-NOT: "mmem_w2"
// LINEAR: tensor<2x16x16xf32> {nl.weight = "mmem_w1"}
// LINEAR-NOT: "mmem_w2"
// LINEAR: nl.memory "M_k"{{.*}}model = #nl.mlp<hidden = 16>
// LINEAR: nl.memory "M_mem"{{.*}}model = #nl.mlp<depth = 1, hidden = 16>
// LINEAR-COUNT-5: nl.stop_gradient

// The streaming form carries W alone for M_mem.
// RUN: hope-models hope-block --config=tiny --memory-model=linear --streaming | FileCheck %s --check-prefix=STREAM
// STREAM-NOT: "M_mem.w2"
// STREAM: tensor<?x2x16x16xf32> {nl.state = "M_mem.w1"}
// STREAM-NOT: "M_mem.w2"
// STREAM: tensor<?x2x16x16xf32> {nl.state = "M_mem.reference.w1"}
// STREAM-NOT: "M_mem.w2"

// RUN: hope-models hope-lm --config=tiny --memory-model=linear | FileCheck %s --check-prefix=LM
// LM-COUNT-2: model = #nl.mlp<depth = 1, hidden = 16>

// The targets keep their outer gradient: no stop-gradient at all.
// RUN: hope-models self-modifying-titans --config=tiny --target-outer-gradient | FileCheck %s --check-prefix=OUTER
// OUTER: hope-models self-modifying-titans --config=tiny --target-outer-gradient
// OUTER-NOT: nl.stop_gradient
// OUTER-COUNT-5: nl.update
// OUTER-NOT: nl.stop_gradient

// RUN: not hope-models hope-block --memory-model=attention 2>&1 | FileCheck %s --check-prefix=MODEL
// MODEL: hope-models: unknown --memory-model 'attention'; models: mlp, linear
// RUN: not hope-models titans-memory --memory-model=linear 2>&1 | FileCheck %s --check-prefix=APPLY
// APPLY: hope-models: --memory-model does not apply to titans-memory (see --help)
// RUN: not hope-models memory-level --target-outer-gradient 2>&1 | FileCheck %s --check-prefix=APPLY-OUTER
// APPLY-OUTER: hope-models: --target-outer-gradient does not apply to memory-level (see --help)
