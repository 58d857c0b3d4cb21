// The HOPE block, tiny with both mixers, every CMS variant and streaming,
// and default with both mixers: every kernel assembles for sm_80 and sm_90
// with 0 spill bytes and shared memory within the limit; one launch per memory stage,
// none in a host loop (Inputs/check-model.sh).

// REQUIRES: ptxas
// RUN: check=%S/Inputs/check-model.sh
// RUN: ( bash $check hope-models hope-compile %t.seq hope-block --config=tiny && \
// RUN:   bash $check hope-models hope-compile %t.ind hope-block --config=tiny --cms=independent && \
// RUN:   bash $check hope-models hope-compile %t.nest hope-block --config=tiny --cms=nested && \
// RUN:   bash $check hope-models hope-compile %t.attn hope-block --config=tiny --mixer=attention && \
// RUN:   bash $check hope-models hope-compile %t.default hope-block --config=default && \
// RUN:   bash $check hope-models hope-compile %t.default-attn hope-block --config=default --mixer=attention && \
// RUN:   bash $check hope-models hope-compile %t.stream hope-block --config=tiny --streaming ) > %t.log 2>&1
// RUN: FileCheck %s < %t.log

// CHECK-NOT: FAIL
// CHECK: MODEL hope-block --config=tiny
// CHECK: LAUNCHES memory_stages=1
// CHECK: KERNEL sm_80 memory_stage_0 registers={{[0-9]+}} spill_stores=0 spill_loads=0 stack=0
// CHECK: CHECKED {{[0-9]+}} kernels on sm_80,sm_90
// CHECK: MODEL hope-block --config=tiny --cms=independent
// CHECK: CHECKED
// CHECK: MODEL hope-block --config=tiny --cms=nested
// CHECK: CHECKED
// CHECK: MODEL hope-block --config=tiny --mixer=attention
// CHECK: LAUNCHES memory_stages=0
// CHECK: CHECKED
// CHECK: MODEL hope-block --config=default
// CHECK: LAUNCHES memory_stages=1
// CHECK: CHECKED
// CHECK: MODEL hope-block --config=default --mixer=attention
// CHECK: CHECKED {{[0-9]+}} kernels on sm_80,sm_90
// The position is read by the kernels: one memory stage still.
// CHECK: MODEL hope-block --config=tiny --streaming
// CHECK: LAUNCHES memory_stages=1
// CHECK: CHECKED {{[0-9]+}} kernels on sm_80,sm_90
// CHECK-NOT: FAIL
