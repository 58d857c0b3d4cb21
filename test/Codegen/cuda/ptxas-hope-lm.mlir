// The tiny HOPE LM (two blocks), plain and streaming: every kernel
// assembles for sm_80 and sm_90 with 0 spill bytes and shared memory within
// the limit; one launch per memory stage, none in a host loop. Its
// token-range precondition reads input data: it runs as a kernel whose
// status word the host code reads through the runtime (services version 3),
// so nothing warns that it is not checked. (ptxas-hope-lm-340m.mlir checks
// the 340m LM; 760m and 1.3b compile too: docs/cuda-models.md.)

// REQUIRES: ptxas
// RUN: check=%S/Inputs/check-model.sh
// RUN: ( bash $check hope-models hope-compile %t.tiny hope-lm --config=tiny && \
// RUN:   bash $check hope-models hope-compile %t.stream hope-lm --config=tiny --streaming ) > %t.log 2>&1
// RUN: FileCheck %s --implicit-check-not=warning: < %t.log
// RUN: FileCheck %s --check-prefix=HOST < %t.tiny/binaries.mlir

// CHECK-NOT: FAIL
// CHECK: MODEL hope-lm --config=tiny
// CHECK: LAUNCHES memory_stages=2
// CHECK: CHECKED {{[0-9]+}} kernels on sm_80,sm_90
// CHECK: MODEL hope-lm --config=tiny --streaming
// CHECK: LAUNCHES memory_stages=2
// CHECK: CHECKED {{[0-9]+}} kernels on sm_80,sm_90
// CHECK-NOT: FAIL

// The check: a kernel, then the status word read through the runtime.
// HOST-LABEL: func.func @hope_lm.preconditions(
// HOST: gpu.launch_func @hope_kernels::@loop_nest_{{[0-9]+}}
// HOST: nl.read_device_status
// HOST: return
