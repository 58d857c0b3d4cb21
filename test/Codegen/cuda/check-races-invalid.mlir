// nl-cuda-check-races refuses what the emulator cannot prove it runs
// faithfully: a missing barrier, a race between threads of a block, and
// barriers that not every thread meets. Each kernel is one block of 128
// threads (known_block_size); %wg is its workgroup memory.

// RUN: hope-opt %s --nl-cuda-check-races --split-input-file -verify-diagnostics

// A planted missing barrier: each thread stores its element, then reads its
// neighbour's, which the neighbour stores between the same two barriers.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @missing_barrier(%out: memref<128xf32>) workgroup(%wg: memref<128xf32, #gpu.address_space<workgroup>>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      %c1 = arith.constant 1 : index
      %c127 = arith.constant 127 : index
      %cst = arith.constant 1.0 : f32
      %t = gpu.thread_id x
      // expected-error @+1 {{possible race on workgroup buffer #0 (memref<128xf32, #gpu.address_space<workgroup>>): this access and another one between the same two barriers may touch the same element from two threads of a block, one of them writing}}
      memref.store %cst, %wg[%t] : memref<128xf32, #gpu.address_space<workgroup>>
      // (gpu.barrier missing here)
      %n = arith.addi %t, %c1 : index
      %m = arith.minui %n, %c127 : index
      // expected-note @+1 {{the other access}}
      %v = memref.load %wg[%m] : memref<128xf32, #gpu.address_space<workgroup>>
      memref.store %v, %out[%t] : memref<128xf32>
      gpu.return
    }
  }
}

// -----

// A planted race: every thread adds into one element of workgroup memory.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @race(%in: memref<128xf32>, %out: memref<1xf32>) workgroup(%wg: memref<1xf32, #gpu.address_space<workgroup>>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      %c0 = arith.constant 0 : index
      %t = gpu.thread_id x
      %x = memref.load %in[%t] : memref<128xf32>
      // expected-note @+1 {{the other access}}
      %s = memref.load %wg[%c0] : memref<1xf32, #gpu.address_space<workgroup>>
      %sum = arith.addf %s, %x : f32
      // expected-error @+1 {{possible race on workgroup buffer #0}}
      memref.store %sum, %wg[%c0] : memref<1xf32, #gpu.address_space<workgroup>>
      gpu.barrier
      %r = memref.load %wg[%c0] : memref<1xf32, #gpu.address_space<workgroup>>
      memref.store %r, %out[%t] : memref<1xf32>
      gpu.return
    }
  }
}

// -----

// Two threads store one element of global memory: thread t and t + 64 of a
// loop whose step (64) is not the block size.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @global_race(%out: memref<256xf32>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      %c64 = arith.constant 64 : index
      %c256 = arith.constant 256 : index
      %cst = arith.constant 1.0 : f32
      %t = gpu.thread_id x
      scf.for %i = %t to %c256 step %c64 {
        // expected-error @+1 {{possible race on kernel argument #0 (memref<256xf32>): two threads of a block may store the same element here between two barriers}}
        memref.store %cst, %out[%i] : memref<256xf32>
      }
      gpu.return
    }
  }
}

// -----

// A barrier in a loop whose trip count depends on the thread: threads would
// wait at different barriers.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @divergent_barrier(%out: memref<128xf32>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %t = gpu.thread_id x
      // expected-note @+1 {{the bounds or condition of this op may differ between threads (they depend on the thread id or on memory)}}
      scf.for %i = %c0 to %t step %c1 {
        // expected-error @+1 {{this barrier cannot be emulated: a barrier must be at the kernel's top level or inside scf.for / scf.if ops that every thread of the block runs alike}}
        gpu.barrier
      }
      gpu.return
    }
  }
}

// -----

// A loop bound read from memory is not known to be the same in every thread.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @loaded_bound(%n: memref<1xindex>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %count = memref.load %n[%c0] : memref<1xindex>
      // expected-note @+1 {{the bounds or condition of this op may differ}}
      scf.for %i = %c0 to %count step %c1 {
        // expected-error @+1 {{this barrier cannot be emulated}}
        gpu.barrier
      }
      gpu.return
    }
  }
}

// -----

// A barrier under a branch on the thread id.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @branch_barrier(%out: memref<128xf32>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      %c0 = arith.constant 0 : index
      %t = gpu.thread_id x
      %first = arith.cmpi eq, %t, %c0 : index
      // expected-note @+1 {{the bounds or condition of this op may differ}}
      scf.if %first {
        // expected-error @+1 {{this barrier cannot be emulated}}
        gpu.barrier
      }
      gpu.return
    }
  }
}

// -----

// Blocks walk the chunks at their own pace: a buffer shared by the blocks
// (each its [batch, head] slice), viewed at the current chunk's size, lays
// out a block in a partial chunk over another block's slice.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @chunk_sized_view(%buffer: memref<?xi8>, %batch: index, %tokens: index) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c4 = arith.constant 4 : index
      %cst = arith.constant 1.0 : f32
      %b = gpu.block_id x
      %h = gpu.block_id y
      %t = gpu.thread_id x
      %chunks = arith.ceildivui %tokens, %c4 : index
      scf.for %chunk = %c0 to %chunks step %c1 {
        %start = arith.muli %chunk, %c4 : index
        %end = arith.addi %start, %c4 : index
        %stop = arith.minui %end, %tokens : index
        // expected-note @+1 {{the size}}
        %size = arith.subi %stop, %start : index
        // expected-error @+1 {{possible race on kernel argument #0 (memref<?xi8>): its blocks' slices are laid out by a size that differs between blocks (blocks run at their own pace), so the slices of two blocks may overlap}}
        %view = memref.view %buffer[%c0][%batch, %size] : memref<?xi8> to memref<?x2x?xf32>
        %inside = arith.cmpi ult, %t, %size : index
        scf.if %inside {
          memref.store %cst, %view[%b, %h, %t] : memref<?x2x?xf32>
        }
        gpu.barrier
      }
      gpu.return
    }
  }
}
