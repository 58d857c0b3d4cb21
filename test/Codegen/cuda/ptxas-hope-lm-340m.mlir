// The 340m HOPE LM (24 layers): its layers share their kernels
// (nl-cuda-merge-identical-kernels), so it compiles for sm_80 and sm_90 in
// about a minute (docs/cuda-models.md); every kernel assembles with 0
// spill bytes and shared memory within the limit, and its 1,544 launches
// per call are sites of 30 kernels, none in a host loop (1,975 of 32 before
// nl-cuda-tile-contractions fused epilogues into the contractions, 1,617 of
// 31 before it fused the norms before the CMS layers and the LM head).

// REQUIRES: ptxas
// RUN: bash %S/Inputs/check-model.sh hope-models hope-compile %t hope-lm --config=340m > %t.log 2>&1
// RUN: FileCheck %s --implicit-check-not=warning: < %t.log

// CHECK-NOT: FAIL
// CHECK: MODEL hope-lm --config=340m
// CHECK: LAUNCHES memory_stages=24 loop_nests=1520 total=1544 kernels=[[#K:]]
// CHECK: CHECKED [[#mul(K,2)]] kernels on sm_80,sm_90
// CHECK-NOT: FAIL
