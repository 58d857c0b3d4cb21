// nl-cuda-check-races on views of dynamic shared memory (where
// nl-cuda-form-kernels keeps a memory stage's states and scratch): views at
// disjoint constant byte ranges are different buffers, overlapping views one
// buffer, and a use it cannot bound is refused; likewise for views of a
// global arena at the block's slot plus constants. Each kernel is one block
// of 128 threads.

// RUN: hope-opt %s --nl-cuda-check-races --split-input-file -verify-diagnostics

// Accepted: each thread stores its element of %a and reads its neighbour's
// element of %b, which no thread writes in this interval; %a is bytes
// [0, 512) and %b bytes [512, 1024), so the store never meets the load.
// %a2 views the same bytes as %a with the same type: one buffer to the
// indices, so thread t's store through %a and load through %a2 agree.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @disjoint(%out: memref<128xf32>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c127 = arith.constant 127 : index
      %c512 = arith.constant 512 : index
      %cst = arith.constant 1.0 : f32
      %smem = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
      %a = memref.view %smem[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<128xf32, #gpu.address_space<workgroup>>
      %b = memref.view %smem[%c512][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<128xf32, #gpu.address_space<workgroup>>
      %a2 = memref.view %smem[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<128xf32, #gpu.address_space<workgroup>>
      %t = gpu.thread_id x
      memref.store %cst, %b[%t] : memref<128xf32, #gpu.address_space<workgroup>>
      gpu.barrier
      memref.store %cst, %a[%t] : memref<128xf32, #gpu.address_space<workgroup>>
      %n = arith.addi %t, %c1 : index
      %m = arith.minui %n, %c127 : index
      %v = memref.load %b[%m] : memref<128xf32, #gpu.address_space<workgroup>>
      %w = memref.load %a2[%t] : memref<128xf32, #gpu.address_space<workgroup>>
      %x = arith.addf %v, %w : f32
      memref.store %x, %out[%t] : memref<128xf32>
      gpu.return
    }
  }
}

// -----

// A planted race: %b starts 256 bytes (64 floats) into %a, so thread t's
// load of %b[t] reads the element thread t + 64 stores through %a[t + 64]
// between the same two barriers.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @overlapping(%out: memref<128xf32>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      %c0 = arith.constant 0 : index
      %c256 = arith.constant 256 : index
      %cst = arith.constant 1.0 : f32
      %smem = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
      %a = memref.view %smem[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<128xf32, #gpu.address_space<workgroup>>
      %b = memref.view %smem[%c256][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<128xf32, #gpu.address_space<workgroup>>
      %t = gpu.thread_id x
      // expected-error @+1 {{possible race on dynamic shared memory bytes [0, 768): this access and another one between the same two barriers may touch the same element from two threads of a block, one of them writing}}
      memref.store %cst, %a[%t] : memref<128xf32, #gpu.address_space<workgroup>>
      // expected-note @+1 {{the other access}}
      %v = memref.load %b[%t] : memref<128xf32, #gpu.address_space<workgroup>>
      memref.store %v, %out[%t] : memref<128xf32>
      gpu.return
    }
  }
}

// -----

// Overlap through a chain: %c overlaps %b, %b overlaps %a, so %a and %c
// are one buffer although their own ranges are disjoint.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @chained(%out: memref<128xf32>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      %c0 = arith.constant 0 : index
      %c256 = arith.constant 256 : index
      %c512 = arith.constant 512 : index
      %c1 = arith.constant 1 : index
      %c127 = arith.constant 127 : index
      %cst = arith.constant 1.0 : f32
      %smem = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
      %a = memref.view %smem[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<128xf32, #gpu.address_space<workgroup>>
      %b = memref.view %smem[%c256][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<128xf32, #gpu.address_space<workgroup>>
      %c = memref.view %smem[%c512][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<128xf32, #gpu.address_space<workgroup>>
      %t = gpu.thread_id x
      %n = arith.addi %t, %c1 : index
      %m = arith.minui %n, %c127 : index
      // expected-error @+1 {{possible race on dynamic shared memory bytes [0, 1024)}}
      memref.store %cst, %a[%t] : memref<128xf32, #gpu.address_space<workgroup>>
      // expected-note @+1 {{the other access}}
      %v = memref.load %c[%m] : memref<128xf32, #gpu.address_space<workgroup>>
      memref.store %v, %out[%t] : memref<128xf32>
      %u = memref.load %b[%t] : memref<128xf32, #gpu.address_space<workgroup>>
      memref.store %u, %out[%t] : memref<128xf32>
      gpu.return
    }
  }
}

// -----

// A view at an offset the check cannot bound is refused.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @unbounded(%out: memref<128xf32>, %offset: index) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      %smem = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
      // expected-error @+1 {{cannot prove this kernel race-free: dynamic shared memory is used other than through a view of a static shape at a constant byte offset, so its buffers cannot be told apart}}
      %a = memref.view %smem[%offset][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<128xf32, #gpu.address_space<workgroup>>
      %t = gpu.thread_id x
      %v = memref.load %a[%t] : memref<128xf32, #gpu.address_space<workgroup>>
      memref.store %v, %out[%t] : memref<128xf32>
      gpu.return
    }
  }
}

// -----

// The same for a global arena viewed at the block's slot plus constants
// (scratch that does not fit in workgroup memory): disjoint views accepted.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @arena_disjoint(%arena: memref<?xi8>, %out: memref<128xf32>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      %c1 = arith.constant 1 : index
      %c127 = arith.constant 127 : index
      %c512 = arith.constant 512 : index
      %c1024 = arith.constant 1024 : index
      %cst = arith.constant 1.0 : f32
      %block = gpu.block_id x
      %slot = arith.muli %block, %c1024 : index
      %second = arith.addi %slot, %c512 : index
      %a = memref.view %arena[%slot][] : memref<?xi8> to memref<128xf32>
      %b = memref.view %arena[%second][] : memref<?xi8> to memref<128xf32>
      %t = gpu.thread_id x
      %n = arith.addi %t, %c1 : index
      %m = arith.minui %n, %c127 : index
      memref.store %cst, %a[%t] : memref<128xf32>
      %v = memref.load %b[%m] : memref<128xf32>
      memref.store %v, %out[%t] : memref<128xf32>
      gpu.return
    }
  }
}

// -----

// ... and overlapping ones one buffer: %b starts 64 floats into %a.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @arena_overlapping(%arena: memref<?xi8>, %out: memref<128xf32>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      %c256 = arith.constant 256 : index
      %c1024 = arith.constant 1024 : index
      %cst = arith.constant 1.0 : f32
      %block = gpu.block_id x
      %slot = arith.muli %block, %c1024 : index
      %second = arith.addi %slot, %c256 : index
      %a = memref.view %arena[%slot][] : memref<?xi8> to memref<128xf32>
      %b = memref.view %arena[%second][] : memref<?xi8> to memref<128xf32>
      %t = gpu.thread_id x
      // expected-error @+1 {{possible race on kernel argument #0 (memref<?xi8>), its views' bytes [0, 768)}}
      memref.store %cst, %a[%t] : memref<128xf32>
      // expected-note @+1 {{the other access}}
      %v = memref.load %b[%t] : memref<128xf32>
      memref.store %v, %out[%t] : memref<128xf32>
      gpu.return
    }
  }
}
