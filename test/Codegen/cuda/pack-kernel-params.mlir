// nl-cuda-pack-kernel-params: a memref kernel argument becomes its base (a
// rank-0 memref: one pointer under the bare-pointer convention) and the
// sizes its type leaves dynamic; the kernel rebuilds it. Equal scalars of
// every launch become one argument; static identity memrefs stay.

// RUN: hope-opt %s --nl-cuda-pack-kernel-params | FileCheck %s

module attributes {gpu.container_module} {
  // CHECK-LABEL: func.func @host(
  // CHECK-SAME: %[[A:.*]]: memref<?x2x?xf32>, %[[B:.*]]: memref<?x2x?xf32>, %[[W:.*]]: memref<4x4xf32>, %[[S:.*]]: memref<?x8xf32, strided<[?, 1], offset: ?>>
  func.func @host(%a: memref<?x2x?xf32>, %b: memref<?x2x?xf32>,
                  %w: memref<4x4xf32>, %s: memref<?x8xf32, strided<[?, 1], offset: ?>>) {
    %c1 = arith.constant 1 : index
    // CHECK-DAG: %[[BASE_A:.*]], %{{.*}}, %{{.*}}:3, %{{.*}}:3 = memref.extract_strided_metadata %[[A]]
    // CHECK-DAG: %[[A0:.*]] = memref.dim %[[A]], %c0
    // CHECK-DAG: %[[A2:.*]] = memref.dim %[[A]], %c2
    // CHECK-DAG: %[[BASE_B:.*]], %{{.*}}, %{{.*}}:3, %{{.*}}:3 = memref.extract_strided_metadata %[[B]]
    // CHECK-DAG: %[[BASE_S:.*]], %[[OFF_S:.*]], %{{.*}}:2, %[[STRIDES_S:.*]]:2 = memref.extract_strided_metadata %[[S]]
    // CHECK-DAG: %[[S0:.*]] = memref.dim %[[S]], %c0
    // The sizes of %a and %b are read once each (%b's are distinct values).
    // CHECK: gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%[[W]] : memref<4x4xf32>, %[[BASE_A]] : memref<f32>, %[[A0]] : index, %[[A2]] : index, %[[BASE_B]] : memref<f32>, %{{.*}} : index, %{{.*}} : index, %[[BASE_S]] : memref<f32>, %[[S0]] : index, %[[OFF_S]] : index, %[[STRIDES_S]]#0 : index)
    gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
        args(%a : memref<?x2x?xf32>, %w : memref<4x4xf32>, %b : memref<?x2x?xf32>,
             %s : memref<?x8xf32, strided<[?, 1], offset: ?>>)
    // A second launch passing %a twice: its two bases and sizes merge.
    // CHECK: gpu.launch_func @kernels::@twice {{.*}} args(%[[BASE_A]] : memref<f32>, %[[A0]] : index, %[[A2]] : index)
    gpu.launch_func @kernels::@twice blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
        args(%a : memref<?x2x?xf32>, %a : memref<?x2x?xf32>)
    return
  }
  gpu.module @kernels {
    // CHECK: gpu.func @k(%[[KW:.*]]: memref<4x4xf32>, %[[KA:.*]]: memref<f32>, %[[KA0:.*]]: index, %[[KA2:.*]]: index, %[[KB:.*]]: memref<f32>, %[[KB0:.*]]: index, %[[KB2:.*]]: index, %[[KS:.*]]: memref<f32>, %[[KS0:.*]]: index, %[[KSO:.*]]: index, %[[KSS:.*]]: index) kernel
    // CHECK: %[[STRIDE:.*]] = arith.muli %[[KA2]], %c2
    // CHECK: %[[RA:.*]] = memref.reinterpret_cast %[[KA]] to offset: [0], sizes: [%[[KA0]], 2, %[[KA2]]], strides: [%[[STRIDE]], %[[KA2]], 1] : memref<f32> to memref<?x2x?xf32>
    // CHECK: memref.reinterpret_cast %[[KS]] to offset: [%[[KSO]]], sizes: [%[[KS0]], 8], strides: [%[[KSS]], 1] : memref<f32> to memref<?x8xf32, strided<[?, 1], offset: ?>>
    // CHECK: memref.load %[[RA]]
    gpu.func @k(%a: memref<?x2x?xf32>, %w: memref<4x4xf32>, %b: memref<?x2x?xf32>,
                %s: memref<?x8xf32, strided<[?, 1], offset: ?>>) kernel {
      %c0 = arith.constant 0 : index
      %x = memref.load %a[%c0, %c0, %c0] : memref<?x2x?xf32>
      memref.store %x, %b[%c0, %c0, %c0] : memref<?x2x?xf32>
      memref.store %x, %w[%c0, %c0] : memref<4x4xf32>
      memref.store %x, %s[%c0, %c0] : memref<?x8xf32, strided<[?, 1], offset: ?>>
      gpu.return
    }
    // CHECK: gpu.func @twice(%{{.*}}: memref<f32>, %{{.*}}: index, %{{.*}}: index) kernel
    gpu.func @twice(%a: memref<?x2x?xf32>, %b: memref<?x2x?xf32>) kernel {
      %c0 = arith.constant 0 : index
      %x = memref.load %a[%c0, %c0, %c0] : memref<?x2x?xf32>
      memref.store %x, %b[%c0, %c0, %c0] : memref<?x2x?xf32>
      gpu.return
    }
  }
}
