// The HOPE block's memory states live in workgroup memory between chunks:
// one 16-byte aligned slice of the launch's dynamic shared memory per value
// the chunk loop carries, every access of the kernel at the block's slice.
// The default block (five memories of 64x64) does not fit whole: what the
// chips' per-block limit leaves out stays in global memory, with a remark.

// RUN: hope-models hope-block --config=tiny -o %t.tiny.mlir
// RUN: hope-compile %t.tiny.mlir --target=cuda --gpu=sm_90 --compile-to=outlined | FileCheck %s --check-prefix=TINY
// RUN: hope-models hope-block --config=default -o %t.default.mlir
// RUN: hope-compile %t.default.mlir --target=cuda --gpu=sm_80,sm_90 --compile-to=kernels -o %t.both.mlir 2> %t.both.remarks
// RUN: FileCheck %s --check-prefix=BOTH < %t.both.mlir
// RUN: FileCheck %s --check-prefix=REMARK < %t.both.remarks
// RUN: hope-compile %t.default.mlir --target=cuda --gpu=sm_90 --compile-to=kernels -o %t.sm90.mlir 2> /dev/null
// RUN: FileCheck %s --check-prefix=SM90 < %t.sm90.mlir

// TINY: gpu.launch_func @hope_kernels::@memory_stage_0 blocks in (%{{.*}}, %c2, %c1) threads in (%c256, %c1, %c1) dynamic_shared_memory_size %c{{[0-9]+}}_i32
// TINY: gpu.func @memory_stage_0(
// TINY: %[[SMEM:.*]] = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// Nine 16x16 matrices of the memories' states, one (batch, head) slice each.
// TINY-COUNT-9: memref.view %[[SMEM]][%{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<1x1x16x16xf32, #gpu.address_space<workgroup>>
// TINY: scf.for
// TINY: memref.load %{{.*}}[%c0, %c0, %{{.*}}, %{{.*}}] : memref<1x1x16x16xf32, #gpu.address_space<workgroup>>
// TINY: gpu.return

// Both chips: sm_80's 163 KiB per block, all of it.
// BOTH: gpu.launch {{.*}} threads({{.*}}) in ({{.*}} = %c256, {{.*}}) dynamic_shared_memory_size %c166896_i32
// BOTH-COUNT-10: to memref<1x1x64x64xf32, #gpu.address_space<workgroup>>
// BOTH-NOT: to memref<1x1x64x64xf32, #gpu.address_space<workgroup>>
// REMARK: remark: kernel memory_stage_0: value {{[0-9]+}} the chunk loop carries ('memref<?x8x64x64xf32>') stays in global memory: its 16384 bytes per block do not fit: {{[0-9]+}} of the 166896 bytes of workgroup memory per block are taken

// sm_90 alone: 227 KiB, four more matrices.
// SM90: dynamic_shared_memory_size %c232432_i32
// SM90-COUNT-14: to memref<1x1x64x64xf32, #gpu.address_space<workgroup>>
// SM90-NOT: to memref<1x1x64x64xf32, #gpu.address_space<workgroup>>
