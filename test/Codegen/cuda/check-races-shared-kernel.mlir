// nl-cuda-check-races on a kernel that two sites launch with other sizes
// (the layers of a model share kernels after
// nl-cuda-merge-identical-kernels): the guard `thread < n` bounds the
// delinearised index only through each launch's n = 4 * d, so the kernel
// is proven race-free launch by launch.

// RUN: hope-opt %s --nl-cuda-check-races | FileCheck %s
// RUN: hope-opt %s --nl-cuda-check-races --nl-cuda-emulate-kernels -o /dev/null

// CHECK: gpu.func @copy
module attributes {gpu.container_module} {
  func.func @host(%a: memref<?x4xf32>, %b: memref<?x4xf32>,
                  %x: memref<?x4xf32>, %y: memref<?x4xf32>) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    %c256 = arith.constant 256 : index
    %d = memref.dim %a, %c0 : memref<?x4xf32>
    %n = arith.muli %d, %c4 : index
    %base_a, %oa, %sa:2, %ta:2 = memref.extract_strided_metadata %a : memref<?x4xf32> -> memref<f32>, index, index, index, index, index
    %base_b, %ob, %sb:2, %tb:2 = memref.extract_strided_metadata %b : memref<?x4xf32> -> memref<f32>, index, index, index, index, index
    gpu.launch_func @kernels::@copy blocks in (%c1, %c1, %c1) threads in (%c256, %c1, %c1) args(%n : index, %d : index, %base_a : memref<f32>, %base_b : memref<f32>)
    %e = memref.dim %x, %c0 : memref<?x4xf32>
    %m = arith.muli %e, %c4 : index
    %base_x, %ox, %sx:2, %tx:2 = memref.extract_strided_metadata %x : memref<?x4xf32> -> memref<f32>, index, index, index, index, index
    %base_y, %oy, %sy:2, %ty:2 = memref.extract_strided_metadata %y : memref<?x4xf32> -> memref<f32>, index, index, index, index, index
    gpu.launch_func @kernels::@copy blocks in (%c1, %c1, %c1) threads in (%c256, %c1, %c1) args(%m : index, %e : index, %base_x : memref<f32>, %base_y : memref<f32>)
    return
  }
  gpu.module @kernels {
    gpu.func @copy(%n: index, %d: index, %src: memref<f32>, %dst: memref<f32>) kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
      %c4 = arith.constant 4 : index
      %in = memref.reinterpret_cast %src to offset: [0], sizes: [%d, 4], strides: [4, 1] : memref<f32> to memref<?x4xf32>
      %out = memref.reinterpret_cast %dst to offset: [0], sizes: [%d, 4], strides: [4, 1] : memref<f32> to memref<?x4xf32>
      %thread = gpu.thread_id x
      %inside = arith.cmpi ult, %thread, %n : index
      scf.if %inside {
        %column = arith.remui %thread, %c4 : index
        %quotient = arith.divui %thread, %c4 : index
        %row = arith.remui %quotient, %d : index
        %value = memref.load %in[%row, %column] : memref<?x4xf32>
        memref.store %value, %out[%row, %column] : memref<?x4xf32>
      }
      gpu.return
    }
  }
}
