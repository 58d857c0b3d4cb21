// Barriers inside uniform control flow: an scf.if on a kernel argument (with
// an else) inside an scf.for over the chunks; each holds its own segments,
// run once per block around the loops over the threads.

// RUN: hope-opt %s --nl-cuda-check-races --nl-cuda-emulate-kernels | FileCheck %s

module attributes {gpu.container_module} {
  func.func @host(%data: memref<3x128xf32>, %flag: i1, %chunks: index, %blocks: index) {
    %c1 = arith.constant 1 : index
    %c128 = arith.constant 128 : index
    gpu.launch_func @kernels::@branches blocks in (%blocks, %c1, %c1) threads in (%c128, %c1, %c1) args(%data : memref<3x128xf32>, %flag : i1, %chunks : index)
    return
  }
  gpu.module @kernels {
    gpu.func @branches(%data: memref<3x128xf32>, %flag: i1, %chunks: index) workgroup(%wg: memref<128xf32, #gpu.address_space<workgroup>>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c127 = arith.constant 127 : index
      %b = gpu.block_id x
      %t = gpu.thread_id x
      scf.for %i = %c0 to %chunks step %c1 {
        scf.if %flag {
          %v = memref.load %data[%b, %t] : memref<3x128xf32>
          memref.store %v, %wg[%t] : memref<128xf32, #gpu.address_space<workgroup>>
          gpu.barrier
          %r = arith.subi %c127, %t : index
          %w = memref.load %wg[%r] : memref<128xf32, #gpu.address_space<workgroup>>
          gpu.barrier
          memref.store %w, %data[%b, %t] : memref<3x128xf32>
        } else {
          %v = memref.load %data[%b, %t] : memref<3x128xf32>
          %w = arith.addf %v, %v : f32
          memref.store %w, %data[%b, %t] : memref<3x128xf32>
          gpu.barrier
        }
        gpu.barrier
      }
      gpu.return
    }
  }
}

// CHECK-LABEL: func.func private @hope_emulated_branches(
// CHECK-SAME: %[[DATA:[^:]*]]: memref<3x128xf32>, %[[FLAG:[^:]*]]: i1, %[[CHUNKS:[^:]*]]: index
// CHECK: scf.parallel
// CHECK: %[[WG:.*]] = memref.alloca() : memref<128xf32>
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[CHUNKS]]
// CHECK-NEXT: scf.if %[[FLAG]] {
// The then branch: stage, mirror (kept per thread across the barrier), store.
// CHECK: scf.for
// CHECK: memref.store %{{.*}}, %[[WG]]
// CHECK: scf.for
// CHECK: memref.load %[[WG]]
// CHECK: memref.store
// CHECK: scf.for
// CHECK: memref.load
// CHECK: memref.store %{{.*}}, %[[DATA]]
// CHECK: } else {
// CHECK: scf.for
// CHECK: arith.addf
// CHECK: }
// CHECK: scf.reduce
