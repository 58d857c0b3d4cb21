// ptxas assembles every kernel of the six memory-level configs for sm_80 and
// sm_90 (the PTX images of the artifact, 256 threads per block) with 0
// spill bytes and shared memory within the chip's per-block limit
// (Inputs/check-kernels.py: one KERNEL line per kernel and chip, FAIL for a
// spill or too much shared memory); one launch per memory stage, none in a
// host loop.

// REQUIRES: ptxas
// RUN: for v in linear-momentum linear-dgd mlp-momentum mlp-dgd chunk-aggregated gated-delta; do \
// RUN:   hope-models memory-level --config=$v -o %t.$v.mlir && \
// RUN:   hope-compile %t.$v.mlir --target=cuda --gpu=sm_80,sm_90 --compile-to=outlined -o %t.$v.outlined.mlir && \
// RUN:   FileCheck %s --check-prefix=LAUNCH < %t.$v.outlined.mlir && \
// RUN:   hope-compile %t.$v.mlir --target=cuda --gpu=sm_80,sm_90 --compile-to=binaries -o %t.$v.bin.mlir && \
// RUN:   echo "MODEL $v" && python3 %S/Inputs/check-kernels.py < %t.$v.bin.mlir || exit 1; \
// RUN: done > %t.log 2>&1
// RUN: FileCheck %s < %t.log

// LAUNCH-LABEL: func.func @memory_level(
// LAUNCH-NOT: scf.for
// LAUNCH-NOT: scf.parallel
// LAUNCH: gpu.launch_func @hope_kernels::@memory_stage_0 blocks in (%{{.*}}, %c2, %c1) threads in (%c256, %c1, %c1) dynamic_shared_memory_size
// LAUNCH-NOT: scf.for
// LAUNCH-NOT: @memory_stage_1
// LAUNCH: gpu.module @hope_kernels

// CHECK-NOT: FAIL
// CHECK: MODEL linear-momentum
// CHECK: KERNEL sm_80 memory_stage_0 registers={{[0-9]+}} spill_stores=0 spill_loads=0 stack=0
// CHECK: KERNEL sm_90 memory_stage_0 registers={{[0-9]+}} spill_stores=0 spill_loads=0 stack=0
// CHECK: MODEL linear-dgd
// CHECK: MODEL mlp-momentum
// CHECK: MODEL mlp-dgd
// CHECK: MODEL chunk-aggregated
// CHECK: KERNEL sm_80 memory_stage_0 registers={{[0-9]+}} spill_stores=0 spill_loads=0 stack=0
// CHECK: MODEL gated-delta
// CHECK: CHECKED {{[0-9]+}} kernels on sm_80,sm_90
// CHECK-NOT: FAIL
