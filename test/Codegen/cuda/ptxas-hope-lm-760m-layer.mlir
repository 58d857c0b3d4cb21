// One layer of the 760m HOPE LM (the 24-layer model's layers share the same
// kernels): its memory stage (heads of width 96, 254 registers) spilled 8
// bytes on sm_90 while kernels went through NVPTX at -O3; at -O2 every
// kernel assembles with 0 spill bytes on both chips (docs/cuda-models.md).

// REQUIRES: ptxas
// RUN: bash %S/Inputs/check-model.sh hope-models hope-compile %t hope-lm --config=760m --layers=1 > %t.log 2>&1
// RUN: FileCheck %s --implicit-check-not=warning: < %t.log

// CHECK-NOT: FAIL
// CHECK: MODEL hope-lm --config=760m --layers=1
// CHECK: CHECKED {{[0-9]+}} kernels on sm_80,sm_90
// CHECK-NOT: FAIL
