// nl-cuda-emulate-kernels: a kernel becomes a host function running every
// block (scf.parallel) and, between barriers, every thread (scf.for);
// workgroup memory is a buffer of the block; a value loaded before a
// barrier and used after it is kept per thread. nl-cuda-check-races proves
// this kernel race-free first: each thread stages its own element
// (thread-strided over a 4x64 tile, delinearised), then after the barrier
// reads the mirrored element that another thread staged.

// RUN: hope-opt %s --nl-cuda-check-races --nl-cuda-emulate-kernels | FileCheck %s

module attributes {gpu.container_module} {
  func.func @host(%in: memref<3x256xf32>, %out: memref<3x256xf32>, %blocks: index) {
    %c1 = arith.constant 1 : index
    %c128 = arith.constant 128 : index
    %c256 = arith.constant 256 : index
    %c64 = arith.constant 64 : index
    gpu.launch_func @kernels::@mirror blocks in (%blocks, %c1, %c1) threads in (%c128, %c1, %c1) args(%in : memref<3x256xf32>, %out : memref<3x256xf32>, %c256 : index, %c64 : index, %c128 : index)
    %bytes = arith.constant 512 : i32
    gpu.launch_func @kernels::@stage blocks in (%blocks, %c1, %c1) threads in (%c128, %c1, %c1) dynamic_shared_memory_size %bytes args(%in : memref<3x256xf32>)
    return
  }
  gpu.module @kernels {
    gpu.func @mirror(%in: memref<3x256xf32>, %out: memref<3x256xf32>, %count: index, %width: index, %step: index) workgroup(%tile: memref<4x64xf32, #gpu.address_space<workgroup>>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      %c63 = arith.constant 63 : index
      %c4 = arith.constant 4 : index
      %b = gpu.block_id x
      %t = gpu.thread_id x
      %first = memref.load %in[%b, %t] : memref<3x256xf32>
      scf.for %i = %t to %count step %step {
        %col = arith.remui %i, %width : index
        %q = arith.divui %i, %width : index
        %row = arith.remui %q, %c4 : index
        %v = memref.load %in[%b, %i] : memref<3x256xf32>
        memref.store %v, %tile[%row, %col] : memref<4x64xf32, #gpu.address_space<workgroup>>
      }
      gpu.barrier
      scf.for %i = %t to %count step %step {
        %col = arith.remui %i, %width : index
        %q = arith.divui %i, %width : index
        %row = arith.remui %q, %c4 : index
        %mirror = arith.subi %c63, %col : index
        %v = memref.load %tile[%row, %mirror] : memref<4x64xf32, #gpu.address_space<workgroup>>
        %w = arith.addf %v, %first : f32
        memref.store %w, %out[%b, %i] : memref<3x256xf32>
      }
      gpu.return
    }
    gpu.func @stage(%in: memref<3x256xf32>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      %c0 = arith.constant 0 : index
      %b = gpu.block_id x
      %t = gpu.thread_id x
      %shared = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
      %floats = memref.view %shared[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<128xf32, #gpu.address_space<workgroup>>
      %v = memref.load %in[%b, %t] : memref<3x256xf32>
      memref.store %v, %floats[%t] : memref<128xf32, #gpu.address_space<workgroup>>
      gpu.barrier
      %w = memref.load %floats[%t] : memref<128xf32, #gpu.address_space<workgroup>>
      memref.store %w, %in[%b, %t] : memref<3x256xf32>
      gpu.return
    }
  }
}

// The manifest's shared_bytes: what the launches request.
// CHECK: name = "mirror", shared_bytes = 0 : i64}, {{.*}}name = "stage", shared_bytes = 512 : i64
// CHECK-LABEL: func.func private @hope_emulated_mirror(
// CHECK-SAME: %[[IN:[^:]*]]: memref<3x256xf32>, %[[OUT:[^:]*]]: memref<3x256xf32>, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index, %[[GX:[^:]*]]: index, %[[GY:[^:]*]]: index, %[[GZ:[^:]*]]: index, %[[BX:[^:]*]]: index, %[[BY:[^:]*]]: index, %[[BZ:[^:]*]]: index, %{{.*}}: index)
// CHECK-SAME: -> i32 attributes {hope_emulated_kernel = "mirror", llvm.bareptr}
// No dynamic shared memory: every launch has enough.
// CHECK: %[[ENOUGH:.*]] = arith.cmpi uge, %{{.*}}, %c0
// CHECK: scf.if %[[ENOUGH]]
// CHECK: %[[XY:.*]] = arith.muli %[[BX]], %[[BY]]
// CHECK: %[[THREADS:.*]] = arith.muli %[[XY]], %[[BZ]]
// CHECK: scf.parallel (%[[BLOCK:.*]], %{{.*}}, %{{.*}}) = {{.*}} to (%[[GX]], %[[GY]], %[[GZ]])
// The workgroup tile and the per-thread slot of %first, per block.
// CHECK-DAG: memref.alloca() : memref<4x64xf32>
// CHECK-DAG: %[[SLOT:.*]] = memref.alloca(%[[THREADS]]) : memref<?xf32>
// First segment: every thread loads %first (kept in its slot) and stages.
// CHECK: scf.for %[[T:.*]] = %{{.*}} to %[[THREADS]]
// CHECK: %[[FIRST:.*]] = memref.load %[[IN]][%[[BLOCK]], %{{.*}}]
// CHECK: memref.store %[[FIRST]], %[[SLOT]][%[[T]]]
// CHECK: scf.for
// CHECK: memref.store %{{.*}} : memref<4x64xf32>
// Second segment, after the barrier: %first from the slot.
// CHECK: scf.for %[[T2:.*]] = %{{.*}} to %[[THREADS]]
// CHECK: memref.load %[[SLOT]][%[[T2]]]
// CHECK: memref.store %{{.*}}, %[[OUT]]
// CHECK-NOT: gpu.barrier
// CHECK: scf.reduce
// Dynamic shared memory: the launch's bytes (the last argument), per block;
// fewer bytes than the view of 128 floats reaches: status 1, nothing runs.
// CHECK-LABEL: func.func private @hope_emulated_stage(
// CHECK-SAME: %[[BYTES:[^:]*]]: index) -> i32 attributes
// CHECK: %[[NEED:.*]] = arith.constant 512 : index
// CHECK: %[[ENOUGH:.*]] = arith.cmpi uge, %[[BYTES]], %[[NEED]]
// CHECK: %[[STATUS:.*]] = arith.select %[[ENOUGH]], %c0_i32, %c1_i32
// CHECK: scf.if %[[ENOUGH]]
// CHECK: scf.parallel
// CHECK: %[[SHARED:.*]] = memref.alloca(%[[BYTES]]) : memref<?xi8>
// CHECK: memref.view %[[SHARED]]
// CHECK: return %[[STATUS]] : i32
// The launches still name the kernels, now declarations.
// CHECK: gpu.module @kernels
// CHECK-NEXT: llvm.func @mirror() attributes {gpu.kernel}
// CHECK-NEXT: llvm.func @stage() attributes {gpu.kernel}
// CHECK: llvm.mlir.global external constant @hope_image_0
