// The Titans memory (titans-pytorch's NeuralMemory, chunk-aggregated) in
// its tiny, default and titans-pytorch configs: every kernel assembles for
// sm_80 and sm_90 with 0 spill bytes and shared memory within the limit;
// one launch per memory stage, none in a host loop (Inputs/check-model.sh).

// REQUIRES: ptxas
// RUN: check=%S/Inputs/check-model.sh
// RUN: ( bash $check hope-models hope-compile %t.tiny titans-memory --config=tiny && \
// RUN:   bash $check hope-models hope-compile %t.default titans-memory --config=default && \
// RUN:   bash $check hope-models hope-compile %t.pytorch titans-memory --config=titans-pytorch ) > %t.log 2>&1
// RUN: FileCheck %s < %t.log

// CHECK-NOT: FAIL
// CHECK: MODEL titans-memory --config=tiny
// CHECK: LAUNCHES memory_stages=1
// CHECK: KERNEL sm_80 memory_stage_0 registers={{[0-9]+}} spill_stores=0 spill_loads=0 stack=0
// CHECK: CHECKED {{[0-9]+}} kernels on sm_80,sm_90
// CHECK: MODEL titans-memory --config=default
// CHECK: LAUNCHES memory_stages=1
// CHECK: CHECKED {{[0-9]+}} kernels on sm_80,sm_90
// CHECK: MODEL titans-memory --config=titans-pytorch
// CHECK: LAUNCHES memory_stages=1
// CHECK: CHECKED {{[0-9]+}} kernels on sm_80,sm_90
// CHECK-NOT: FAIL
