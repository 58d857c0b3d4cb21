// The emulated target runs kernels as the cuda target builds them: packed
// parameters (nl-cuda-pack-kernel-params: a buffer of dynamic shape is its
// rank-0 base and its dynamic sizes, rebuilt in the kernel by
// memref.reinterpret_cast) and states in views of dynamic shared memory.
// The emulating function takes memrefs as bare pointers (llvm.bareptr), as
// gpu-to-llvm{use-bare-pointers-for-kernels} passes the launch's operands,
// and refuses a launch with less dynamic shared memory than the views reach.

// RUN: hope-opt %s --nl-cuda-pack-kernel-params --nl-cuda-check-races --nl-cuda-emulate-kernels | FileCheck %s

module attributes {gpu.container_module} {
  func.func @host(%in: memref<?x256xf32>, %blocks: index) {
    %c1 = arith.constant 1 : index
    %c128 = arith.constant 128 : index
    %bytes = arith.constant 1024 : i32
    gpu.launch_func @kernels::@stage blocks in (%blocks, %c1, %c1) threads in (%c128, %c1, %c1) dynamic_shared_memory_size %bytes args(%in : memref<?x256xf32>)
    return
  }
  gpu.module @kernels {
    gpu.func @stage(%in: memref<?x256xf32>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      %c0 = arith.constant 0 : index
      %c512 = arith.constant 512 : index
      %b = gpu.block_id x
      %t = gpu.thread_id x
      %shared = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
      %first = memref.view %shared[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<128xf32, #gpu.address_space<workgroup>>
      %second = memref.view %shared[%c512][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<128xf32, #gpu.address_space<workgroup>>
      %v = memref.load %in[%b, %t] : memref<?x256xf32>
      memref.store %v, %first[%t] : memref<128xf32, #gpu.address_space<workgroup>>
      memref.store %v, %second[%t] : memref<128xf32, #gpu.address_space<workgroup>>
      gpu.barrier
      %w = memref.load %first[%t] : memref<128xf32, #gpu.address_space<workgroup>>
      %x = memref.load %second[%t] : memref<128xf32, #gpu.address_space<workgroup>>
      %y = arith.addf %w, %x : f32
      memref.store %y, %in[%b, %t] : memref<?x256xf32>
      gpu.return
    }
  }
}

// CHECK: name = "stage", shared_bytes = 1024 : i64
// The host passes the buffer's base and its one dynamic size.
// CHECK-LABEL: func.func @host(
// CHECK: %[[BASE:.*]], %{{.*}}, %{{.*}}:2, %{{.*}}:2 = memref.extract_strided_metadata
// CHECK: gpu.launch_func @kernels::@stage {{.*}} dynamic_shared_memory_size %{{.*}} args(%[[BASE]] : memref<f32>, %{{.*}} : index)
// CHECK-LABEL: func.func private @hope_emulated_stage(
// CHECK-SAME: %[[ARG:[^:]*]]: memref<f32>, %[[ROWS:[^:]*]]: index,
// CHECK-SAME: %[[BYTES:[^:]*]]: index) -> i32 attributes {hope_emulated_kernel = "stage", llvm.bareptr}
// CHECK: %[[NEED:.*]] = arith.constant 1024 : index
// CHECK: %[[ENOUGH:.*]] = arith.cmpi uge, %[[BYTES]], %[[NEED]]
// CHECK: scf.if %[[ENOUGH]]
// CHECK: scf.parallel
// CHECK-DAG: %[[SHARED:.*]] = memref.alloca(%[[BYTES]]) : memref<?xi8>
// CHECK-DAG: memref.reinterpret_cast %[[ARG]] to offset: [0], sizes: [%[[ROWS]], 256], strides: [256, 1]
// CHECK-DAG: memref.view %[[SHARED]][%{{.*}}][] : memref<?xi8> to memref<128xf32>
