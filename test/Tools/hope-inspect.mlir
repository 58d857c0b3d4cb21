// hope-inspect on a compiled memory-level artifact: each kernel's grid,
// block, ptxas figures and costs, the launches per call (the same at two
// lengths), JSON, and its errors.

// REQUIRES: ptxas
// RUN: hope-models memory-level --config=linear-dgd -o %t.mlir
// RUN: hope-compile %t.mlir --target=cuda --gpu=sm_80,sm_90 -o %t.so 2> /dev/null
// RUN: hope-inspect %t.so --dims=keys[0]=2,keys[2]=64 --formulas | FileCheck %s --check-prefix=TABLE
// RUN: hope-inspect %t.so --dims=keys[0]=2,keys[2]=64 | grep "launches per call" > %t.short
// RUN: hope-inspect %t.so --dims=keys[0]=2,keys[2]=4096 | grep "launches per call" > %t.long
// RUN: diff %t.short %t.long
// RUN: hope-inspect %t.so --dims=keys[0]=2,keys[2]=64 --json | FileCheck %s --check-prefix=JSON
// RUN: hope-inspect %t.so --dims=keys[0]=2,keys[2]=64 --chip=sm_80 | FileCheck %s --check-prefix=SM80

// TABLE: target cuda (sm_80, sm_90)
// TABLE: chip sm_90, peaks of the NVIDIA H100 SXM5 80GB: 66.9 TFLOP/s FP32, 3.35 TB/s DRAM, 132 SMs
// TABLE: sizes keys[0]=2 keys[2]=64
// Two of its loop nests are the same kernel: more launches than kernels.
// TABLE: entry point memory_level: 4 launches per call of 3 kernels (each row: one launch)
// TABLE-NEXT: kernel launches grid block regs spill st/ld smem bar FLOPs read B written B bound us by
// The memory stage: launched once, one block per (batch, head), ptxas'
// figures, no spills.
// TABLE: memory_stage_0 1 2x2x1 256 {{[0-9]+}} 0/0 {{[0-9]+}} {{[1-9][0-9]*}}
// TABLE-NEXT: grid = [keys[0], 2, 1]
// TABLE-NEXT: flops = {{.*}}ceildiv(keys[2], {{[0-9]+}})*keys[0]
// TABLE: total (4 launches)

// JSON: "card": {
// JSON: "name": "h100-sxm"
// JSON: "chip": "sm_90"
// Per kernel and per entry point (keys sorted).
// JSON: "kernel_count": 3,
// JSON: "launches_per_call": 2,
// JSON: "launches_per_call": 4,
// JSON-NEXT: "name": "memory_level"
// JSON: "sizes": {
// JSON-NEXT: "keys[0]": 2,
// JSON-NEXT: "keys[2]": 64

// SM80: chip sm_80, peaks of the NVIDIA A100 SXM4 80GB: 19.5 TFLOP/s FP32, 2.04 TB/s DRAM, 108 SMs

// Errors, each one line naming what is wrong.
// RUN: not hope-inspect %t.so 2>&1 >/dev/null | FileCheck %s --check-prefix=NODIMS
// NODIMS: hope-inspect: missing --dims value for keys[0], keys[2] (the artifact's dynamic sizes: keys[0], keys[2]), e.g. --dims=keys[0]=8
// RUN: not hope-inspect %t.so --dims=keys[0]=2 2>&1 >/dev/null | FileCheck %s --check-prefix=ONEDIM
// ONEDIM: hope-inspect: missing --dims value for keys[2]
// RUN: not hope-inspect %t.so --dims=T=2 2>&1 >/dev/null | FileCheck %s --check-prefix=BADDIM
// BADDIM: hope-inspect: --dims: 'T' is not a dynamic size of {{.*}} (its sizes: keys[0], keys[2])
// RUN: not hope-inspect %t.so --dims=keys[0]=2,keys[2]=64 --chip=sm_75 2>&1 >/dev/null | FileCheck %s --check-prefix=CHIP
// CHIP: hope-inspect: --chip: no card is known for 'sm_75' (chips with documented peaks: sm_80, sm_90; docs/gpu-peaks.md)
// RUN: not hope-inspect %t.so --dims=keys[0]=2,keys[2]=64 --card=v100 2>&1 >/dev/null | FileCheck %s --check-prefix=CARD
// CARD: hope-inspect: --card: unknown card 'v100' (known: h100-sxm, h100-pcie, h200-sxm, a100-sxm-80gb, a100-pcie-40gb)

// A CPU artifact: its entry points, then the error.
// RUN: hope-compile %t.mlir -o %t.cpu.so 2> /dev/null
// RUN: not hope-inspect %t.cpu.so > %t.cpu.out 2> %t.cpu.err
// RUN: FileCheck %s --check-prefix=CPU < %t.cpu.out
// RUN: FileCheck %s --check-prefix=CPUERR < %t.cpu.err
// CPU: target cpu
// CPU-NEXT: entry point memory_level(keys: [keys[0], 2, keys[2], 8],
// CPUERR: hope-inspect: {{.*}}: a 'cpu' artifact has no GPU kernels (compile it with --target=cuda)

// The cards (docs/gpu-peaks.md).
// RUN: hope-inspect %t.so --list-cards | FileCheck %s --check-prefix=CARDS
// CARDS: h100-sxm NVIDIA H100 SXM5 80GB sm_90 66.9 3.350 132 227 yes
// CARDS: h200-sxm NVIDIA H200 SXM 141GB sm_90 66.9 4.800 132 227
// CARDS: a100-sxm-80gb NVIDIA A100 SXM4 80GB sm_80 19.5 2.039 108 163 yes
