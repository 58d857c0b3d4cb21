// A value loaded from a buffer that nothing writes while the kernel runs,
// at indices every thread has alike, is the same in every thread: a loop
// whose trip count is such a load may hold barriers (e.g. a chunk count
// passed in memory), and the emulator loads it once per block. The same
// loop over a count the kernel itself writes is refused.

// RUN: hope-opt %s --split-input-file --nl-cuda-check-races --nl-cuda-emulate-kernels -verify-diagnostics | FileCheck %s

module attributes {gpu.container_module} {
  func.func @host(%count: memref<1xindex>, %data: memref<3x128xf32>, %blocks: index) {
    %c1 = arith.constant 1 : index
    %c128 = arith.constant 128 : index
    gpu.launch_func @kernels::@steps blocks in (%blocks, %c1, %c1) threads in (%c128, %c1, %c1) args(%count : memref<1xindex>, %data : memref<3x128xf32>)
    return
  }
  gpu.module @kernels {
    gpu.func @steps(%count: memref<1xindex>, %data: memref<3x128xf32>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %b = gpu.block_id x
      %t = gpu.thread_id x
      %n = memref.load %count[%c0] : memref<1xindex>
      scf.for %i = %c0 to %n step %c1 {
        %v = memref.load %data[%b, %t] : memref<3x128xf32>
        %w = arith.addf %v, %v : f32
        memref.store %w, %data[%b, %t] : memref<3x128xf32>
        gpu.barrier
      }
      gpu.return
    }
  }
}

// CHECK-LABEL: func.func private @hope_emulated_steps(
// CHECK-SAME: %[[COUNT:[^:]*]]: memref<1xindex>
// CHECK: scf.parallel
// CHECK: %[[N:.*]] = memref.load %[[COUNT]]
// CHECK-NOT: scf.for
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[N]]
// CHECK: scf.for
// CHECK: memref.store
// CHECK: scf.reduce

// -----

module attributes {gpu.container_module} {
  func.func @host(%count: memref<1xindex>, %blocks: index) {
    %c1 = arith.constant 1 : index
    %c128 = arith.constant 128 : index
    gpu.launch_func @kernels::@written_count blocks in (%blocks, %c1, %c1) threads in (%c128, %c1, %c1) args(%count : memref<1xindex>)
    return
  }
  gpu.module @kernels {
    gpu.func @written_count(%count: memref<1xindex>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %t = gpu.thread_id x
      %first = arith.cmpi eq, %t, %c0 : index
      scf.if %first {
        memref.store %c1, %count[%c0] : memref<1xindex>
      }
      gpu.barrier
      %n = memref.load %count[%c0] : memref<1xindex>
      // expected-note @+1 {{the bounds or condition of this op may differ}}
      scf.for %i = %c0 to %n step %c1 {
        // expected-error @+1 {{this barrier cannot be emulated}}
        gpu.barrier
      }
      gpu.return
    }
  }
}
