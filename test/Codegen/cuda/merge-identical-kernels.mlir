// nl-cuda-merge-identical-kernels: kernels equal up to their names (and
// locations) become the first of them, every launch names it, and the
// kernel costs count its launches; a kernel that differs by a constant, an
// attribute, which values an op uses, or its costs stays apart.

// RUN: hope-opt %s --nl-cuda-merge-identical-kernels | FileCheck %s
// RUN: hope-opt %s --nl-cuda-merge-identical-kernels --nl-cuda-merge-identical-kernels | FileCheck %s

// The costs: the merged kernels' entries are gone, every entry counts its
// launches (dictionaries print sorted).
// CHECK-LABEL: module attributes
// CHECK-SAME: kernel_costs = {
// CHECK-SAME: loop_nest_0 = {entry_point = "f", flops = 4 : i64, launches = 3 : i64}
// CHECK-SAME: loop_nest_3 = {entry_point = "f", flops = 4 : i64, launches = 1 : i64}
// CHECK-SAME: loop_nest_4 = {entry_point = "f", flops = 4 : i64, launches = 1 : i64}
// CHECK-SAME: loop_nest_5 = {entry_point = "f", flops = 4 : i64, launches = 1 : i64}
// CHECK-SAME: memory_stage_0 = {entry_point = "f", flops = 8 : i64, launches = 1 : i64}
// CHECK-SAME: memory_stage_1 = {entry_point = "g", flops = 8 : i64, launches = 1 : i64}
// CHECK-NOT: loop_nest_1 =
// CHECK-NOT: loop_nest_2 =

module attributes {gpu.container_module, nl.manifest_fields = {kernel_costs = {
    loop_nest_0 = {entry_point = "f", flops = 4 : i64},
    loop_nest_1 = {entry_point = "f", flops = 4 : i64},
    loop_nest_2 = {entry_point = "f", flops = 4 : i64},
    loop_nest_3 = {entry_point = "f", flops = 4 : i64},
    loop_nest_4 = {entry_point = "f", flops = 4 : i64},
    loop_nest_5 = {entry_point = "f", flops = 4 : i64},
    memory_stage_0 = {entry_point = "f", flops = 8 : i64},
    memory_stage_1 = {entry_point = "g", flops = 8 : i64}}}} {
  // CHECK-LABEL: func.func @f(
  // CHECK: gpu.launch_func @hope_kernels::@loop_nest_0 {{.*}} args(%arg0 : memref<?xf32>, %arg1 : memref<?xf32>)
  // CHECK: gpu.launch_func @hope_kernels::@loop_nest_0 {{.*}} args(%arg1 : memref<?xf32>, %arg0 : memref<?xf32>)
  // CHECK: gpu.launch_func @hope_kernels::@loop_nest_0 {{.*}} args(%arg0 : memref<?xf32>, %arg0 : memref<?xf32>)
  // CHECK: gpu.launch_func @hope_kernels::@loop_nest_3
  // CHECK: gpu.launch_func @hope_kernels::@loop_nest_4
  // CHECK: gpu.launch_func @hope_kernels::@loop_nest_5
  // CHECK: gpu.launch_func @hope_kernels::@memory_stage_0
  func.func @f(%a: memref<?xf32>, %b: memref<?xf32>, %n: index) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @hope_kernels::@loop_nest_0 blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<?xf32>, %b : memref<?xf32>)
    gpu.launch_func @hope_kernels::@loop_nest_1 blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%b : memref<?xf32>, %a : memref<?xf32>)
    gpu.launch_func @hope_kernels::@loop_nest_2 blocks in (%n, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<?xf32>, %a : memref<?xf32>)
    gpu.launch_func @hope_kernels::@loop_nest_3 blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<?xf32>, %b : memref<?xf32>)
    gpu.launch_func @hope_kernels::@loop_nest_4 blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<?xf32>, %b : memref<?xf32>)
    gpu.launch_func @hope_kernels::@loop_nest_5 blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<?xf32>, %b : memref<?xf32>)
    gpu.launch_func @hope_kernels::@memory_stage_0 blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<?xf32>)
    return
  }
  // Same body as memory_stage_0, other costs (another entry point).
  // CHECK-LABEL: func.func @g(
  // CHECK: gpu.launch_func @hope_kernels::@memory_stage_1
  func.func @g(%a: memref<?xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @hope_kernels::@memory_stage_1 blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<?xf32>)
    return
  }

  // CHECK-LABEL: gpu.module @hope_kernels
  gpu.module @hope_kernels {
    // CHECK: gpu.func @loop_nest_0(
    // CHECK: arith.mulf %{{.*}}, %cst
    gpu.func @loop_nest_0(%x: memref<?xf32>, %y: memref<?xf32>) kernel attributes {known_block_size = array<i32: 1, 1, 1>} {
      %c0 = arith.constant 0 : index
      %two = arith.constant 2.0 : f32
      %v = memref.load %x[%c0] : memref<?xf32>
      %w = arith.mulf %v, %two : f32
      memref.store %w, %y[%c0] : memref<?xf32>
      gpu.return
    }
    // Equal to loop_nest_0 but for its names and locations: merged.
    // CHECK-NOT: gpu.func @loop_nest_1(
    gpu.func @loop_nest_1(%in: memref<?xf32>, %out: memref<?xf32>) kernel attributes {known_block_size = array<i32: 1, 1, 1>} {
      %zero = arith.constant 0 : index loc("layer1")
      %c = arith.constant 2.0 : f32 loc("layer1")
      %loaded = memref.load %in[%zero] : memref<?xf32> loc("layer1")
      %product = arith.mulf %loaded, %c : f32 loc("layer1")
      memref.store %product, %out[%zero] : memref<?xf32> loc("layer1")
      gpu.return
    }
    // Equal again (its launch's grid differs, which is the host's): merged.
    // CHECK-NOT: gpu.func @loop_nest_2(
    gpu.func @loop_nest_2(%x: memref<?xf32>, %y: memref<?xf32>) kernel attributes {known_block_size = array<i32: 1, 1, 1>} {
      %c0 = arith.constant 0 : index
      %two = arith.constant 2.0 : f32
      %v = memref.load %x[%c0] : memref<?xf32>
      %w = arith.mulf %v, %two : f32
      memref.store %w, %y[%c0] : memref<?xf32>
      gpu.return
    }
    // Another constant (a layer's baked scale): kept.
    // CHECK: gpu.func @loop_nest_3(
    // CHECK: arith.constant 3.000000e+00
    gpu.func @loop_nest_3(%x: memref<?xf32>, %y: memref<?xf32>) kernel attributes {known_block_size = array<i32: 1, 1, 1>} {
      %c0 = arith.constant 0 : index
      %three = arith.constant 3.0 : f32
      %v = memref.load %x[%c0] : memref<?xf32>
      %w = arith.mulf %v, %three : f32
      memref.store %w, %y[%c0] : memref<?xf32>
      gpu.return
    }
    // Another attribute (the block size it is compiled for): kept.
    // CHECK: gpu.func @loop_nest_4(
    gpu.func @loop_nest_4(%x: memref<?xf32>, %y: memref<?xf32>) kernel attributes {known_block_size = array<i32: 2, 1, 1>} {
      %c0 = arith.constant 0 : index
      %two = arith.constant 2.0 : f32
      %v = memref.load %x[%c0] : memref<?xf32>
      %w = arith.mulf %v, %two : f32
      memref.store %w, %y[%c0] : memref<?xf32>
      gpu.return
    }
    // The same ops, with the operands of the store's address swapped
    // (use-def structure differs): kept.
    // CHECK: gpu.func @loop_nest_5(
    gpu.func @loop_nest_5(%x: memref<?xf32>, %y: memref<?xf32>) kernel attributes {known_block_size = array<i32: 1, 1, 1>} {
      %c0 = arith.constant 0 : index
      %two = arith.constant 2.0 : f32
      %v = memref.load %y[%c0] : memref<?xf32>
      %w = arith.mulf %v, %two : f32
      memref.store %w, %x[%c0] : memref<?xf32>
      gpu.return
    }
    // CHECK: gpu.func @memory_stage_0(
    gpu.func @memory_stage_0(%x: memref<?xf32>) kernel {
      %c0 = arith.constant 0 : index
      %v = memref.load %x[%c0] : memref<?xf32>
      %w = arith.addf %v, %v : f32
      memref.store %w, %x[%c0] : memref<?xf32>
      gpu.return
    }
    // CHECK: gpu.func @memory_stage_1(
    gpu.func @memory_stage_1(%x: memref<?xf32>) kernel {
      %c0 = arith.constant 0 : index
      %v = memref.load %x[%c0] : memref<?xf32>
      %w = arith.addf %v, %v : f32
      memref.store %w, %x[%c0] : memref<?xf32>
      gpu.return
    }
  }
}
