// A memory stage becomes ONE kernel that walks every chunk: one launch at
// the function's top level (no host loop around it), grid batch x heads,
// 256 threads; the chunk loop and the barriers inside the gpu.func. Work
// outside the chunk loop: a fixed number of loop-nest kernels.

// RUN: hope-models memory-level --config=linear-momentum -o %t.mlir
// RUN: hope-compile %t.mlir --target=cuda --gpu=sm_90 --compile-to=outlined | FileCheck %s
// RUN: hope-models memory-level --config=mlp-dgd -o %t.dgd.mlir
// RUN: hope-compile %t.dgd.mlir --target=cuda --gpu=sm_90 --compile-to=outlined | FileCheck %s

// CHECK-LABEL: func.func @memory_level(
// CHECK-NOT: scf.for
// CHECK: gpu.launch_func @hope_kernels::@memory_stage_0 blocks in (%{{.*}}, %c2, %c1) threads in (%c256, %c1, %c1)
// CHECK-NOT: scf.for
// CHECK-NOT: @memory_stage_1
// CHECK: return
// CHECK: gpu.module @hope_kernels
// CHECK: gpu.func @memory_stage_0(
// CHECK-SAME: kernel
// CHECK-SAME: known_block_size = array<i32: 256, 1, 1>
// The initial state, this block's slice, before the chunk loop.
// CHECK: gpu.block_id x
// CHECK: gpu.block_id y
// CHECK: gpu.barrier
// The chunk loop (from 0, step 1) inside the kernel, each nest shared by
// the threads (from the thread id, step the block size), then a barrier.
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK: scf.for %{{.*}} = %thread_id_x to
// CHECK: gpu.barrier
// CHECK: gpu.return
