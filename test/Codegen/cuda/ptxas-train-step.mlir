// train_step (hope-compile --train: the loss, its gradients through the inner
// updates, AdamW with clipping, the in-place writes of the parameters and
// moments) of three memory levels for sm_80 and sm_90: the host code has no
// loop (the reverse sweep's chunk loop is a memory stage like the forward's,
// gradients summed over the batch and the loss are loop nests), and every
// kernel assembles with ptxas without spills and within the shared memory
// limit. About 5 s per model. The HOPE block's train_step: docs/cuda-models.md.
// linear-dgd: its reversed chunk loop carries a buffer whose layout
// bufferization cannot tell (an identity one since the CUDA pipeline's
// bufferization gives unknown layouts one; it was refused before).

// REQUIRES: ptxas
// RUN: for v in linear-momentum mlp-momentum linear-dgd; do \
// RUN:   rm -rf %t.$v && mkdir -p %t.$v && \
// RUN:   hope-models memory-level --config=$v -o %t.$v/model.mlir && \
// RUN:   hope-compile %t.$v/model.mlir --train --optimizer=adamw --clip=1.0 \
// RUN:     --target=cuda --gpu=sm_80,sm_90 --compile-to=binaries \
// RUN:     --dump-phases-to=%t.$v -o %t.$v/binaries.mlir && \
// RUN:   echo "MODEL $v" && \
// RUN:   python3 %S/Inputs/check-kernels.py --launches %t.$v/08-outlined.mlir && \
// RUN:   python3 %S/Inputs/check-kernels.py < %t.$v/binaries.mlir || exit 1; \
// RUN: done > %t.log 2>&1
// RUN: FileCheck %s < %t.log

// The forward's memory stage, then train_step's recording forward and its
// reverse sweep.
// CHECK-NOT: FAIL
// CHECK: MODEL linear-momentum
// CHECK: LAUNCHES memory_stages=3
// CHECK: KERNEL sm_80 memory_stage_2 registers={{[0-9]+}} spill_stores=0 spill_loads=0 stack=0
// CHECK: KERNEL sm_90 memory_stage_2 registers={{[0-9]+}} spill_stores=0 spill_loads=0 stack=0
// CHECK: CHECKED {{[0-9]+}} kernels on sm_80,sm_90
// CHECK: MODEL mlp-momentum
// CHECK: LAUNCHES memory_stages=3
// CHECK: CHECKED {{[0-9]+}} kernels on sm_80,sm_90
// CHECK: MODEL linear-dgd
// CHECK: LAUNCHES memory_stages=3
// CHECK: KERNEL sm_90 memory_stage_2 registers={{[0-9]+}} spill_stores=0 spill_loads=0 stack=0
// CHECK: CHECKED {{[0-9]+}} kernels on sm_80,sm_90
// CHECK-NOT: FAIL
