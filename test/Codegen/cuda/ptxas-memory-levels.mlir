// ptxas assembles the memory-level models' kernels for sm_80 and sm_90 (the
// PTX images of the artifact, 256 threads per block) without spilling.

// REQUIRES: ptxas
// RUN: extract=%S/Inputs/extract-image.py
// RUN: for v in linear-dgd mlp-momentum gated-delta; do \
// RUN:   hope-models memory-level --config=$v -o %t.$v.mlir && \
// RUN:   hope-compile %t.$v.mlir --target=cuda --gpu=sm_80,sm_90 --compile-to=binaries -o %t.$v.bin.mlir && \
// RUN:   python3 $extract hope_image_2 < %t.$v.bin.mlir > %t.$v.sm_80.ptx && \
// RUN:   python3 $extract hope_image_3 < %t.$v.bin.mlir > %t.$v.sm_90.ptx && \
// RUN:   ptxas -v -arch=sm_80 %t.$v.sm_80.ptx -o %t.$v.sm_80.cubin && \
// RUN:   ptxas -v -arch=sm_90 %t.$v.sm_90.ptx -o %t.$v.sm_90.cubin || exit 1; \
// RUN: done > %t.log 2>&1
// RUN: FileCheck %s < %t.log
// RUN: FileCheck %s --check-prefix=NOSPILL < %t.log

// Three models, two chips each.
// CHECK-COUNT-6: Compiling entry function 'memory_stage_0' for 'sm_{{80|90}}'
// NOSPILL-NOT: {{(^|[^0-9])[1-9][0-9]*}} bytes spill
// NOSPILL-NOT: error
