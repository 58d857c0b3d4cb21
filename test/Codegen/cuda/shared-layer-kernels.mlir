// The layers of the HOPE LM share their kernels
// (nl-cuda-merge-identical-kernels): a deeper LM launches more but has
// no more kernels. Two layers have one kernel more than one layer: the
// second layer's zero-filled buffer is the first's (CSE of the two fills
// before bufferization), so one-shot bufferization copies it for the
// first layer, a copy kernel one layer alone does not need (the 24-layer
// LMs have as many kernels as two layers: docs/cuda-models.md). Up to the
// `outlined` phase only (no ptxas).

// RUN: check=%S/Inputs/check-kernels.py
// RUN: hope-models hope-lm --config=tiny --layers=1 -o %t.1.mlir
// RUN: hope-models hope-lm --config=tiny --layers=2 -o %t.2.mlir
// RUN: hope-compile %t.1.mlir --target=cuda --gpu=sm_90 --compile-to=outlined -o %t.1.out.mlir
// RUN: hope-compile %t.2.mlir --target=cuda --gpu=sm_90 --compile-to=outlined -o %t.2.out.mlir
// RUN: ( python3 $check --launches %t.1.out.mlir && \
// RUN:   python3 $check --launches %t.2.out.mlir ) | FileCheck %s

// CHECK-NOT: FAIL
// CHECK: LAUNCHES memory_stages=1 loop_nests={{[0-9]+}} total=[[#T1:]] kernels=[[#K1:]]
// CHECK: LAUNCHES memory_stages=2 loop_nests={{[0-9]+}} total=[[#T2:]] kernels=[[#K1+1]]
// CHECK-NOT: FAIL
