// The tiny HOPE LM (two blocks): every kernel assembles for sm_80 and sm_90
// with 0 spill bytes and shared memory within the limit; one launch per
// memory stage, none in a host loop. Its token-range precondition reads
// input data, which host code of a device artifact cannot: a warning says
// it is not checked.

// REQUIRES: ptxas
// RUN: bash %S/Inputs/check-model.sh hope-models hope-compile %t.tiny hope-lm --config=tiny > %t.log 2>&1
// RUN: FileCheck %s < %t.log

// CHECK-NOT: FAIL
// CHECK: MODEL hope-lm --config=tiny
// CHECK: warning: the preconditions of 'hope_lm' read input data, which the host code of a device artifact cannot: they are not checked
// CHECK: note: not checked: token ids must be in [0, 256)
// CHECK: LAUNCHES memory_stages=2
// CHECK: CHECKED {{[0-9]+}} kernels on sm_80,sm_90
// CHECK-NOT: FAIL
