// Self-modifying Titans in its tiny, default and nested-learning (one head)
// configs: every kernel assembles for sm_80 and sm_90 with 0 spill bytes
// and shared memory within the limit; one launch per memory stage, none in
// a host loop (Inputs/check-model.sh).

// REQUIRES: ptxas
// RUN: check=%S/Inputs/check-model.sh
// RUN: ( bash $check hope-models hope-compile %t.tiny self-modifying-titans --config=tiny && \
// RUN:   bash $check hope-models hope-compile %t.default self-modifying-titans --config=default && \
// RUN:   bash $check hope-models hope-compile %t.nl self-modifying-titans --config=nested-learning ) > %t.log 2>&1
// RUN: FileCheck %s < %t.log

// CHECK-NOT: FAIL
// CHECK: MODEL self-modifying-titans --config=tiny
// CHECK: LAUNCHES memory_stages=1
// CHECK: KERNEL sm_80 memory_stage_0 registers={{[0-9]+}} spill_stores=0 spill_loads=0 stack=0
// CHECK: CHECKED {{[0-9]+}} kernels on sm_80,sm_90
// CHECK: MODEL self-modifying-titans --config=default
// CHECK: CHECKED {{[0-9]+}} kernels on sm_80,sm_90
// CHECK: MODEL self-modifying-titans --config=nested-learning
// CHECK: CHECKED {{[0-9]+}} kernels on sm_80,sm_90
// CHECK-NOT: FAIL
