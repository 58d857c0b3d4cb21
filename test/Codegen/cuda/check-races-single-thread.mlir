// nl-cuda-check-races: a store that only thread 0 runs is no race, whatever
// the guard's form: `thread_id < 1` is how nl-cuda-form-kernels guards a loop
// nest of one iteration (the device-data precondition check of a model with
// token ids stores its status word so), as `thread_id == 0` is. A guard that
// lets two threads through is still refused.

// RUN: hope-opt %s --nl-cuda-check-races --split-input-file -verify-diagnostics

// expected-no-diagnostics
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @status_below_one(%status: memref<i32>) kernel attributes {known_block_size = array<i32: 256, 1, 1>, known_grid_size = array<i32: 1, 1, 1>} {
      %c1 = arith.constant 1 : index
      %c7 = arith.constant 7 : i32
      %t = gpu.thread_id x
      %first = arith.cmpi ult, %t, %c1 : index
      scf.if %first {
        memref.store %c7, %status[] : memref<i32>
      }
      gpu.return
    }
    gpu.func @status_one_above(%status: memref<i32>) kernel attributes {known_block_size = array<i32: 256, 1, 1>, known_grid_size = array<i32: 1, 1, 1>} {
      %c1 = arith.constant 1 : index
      %c7 = arith.constant 7 : i32
      %t = gpu.thread_id x
      %first = arith.cmpi ugt, %c1, %t : index
      scf.if %first {
        memref.store %c7, %status[] : memref<i32>
      }
      gpu.return
    }
    gpu.func @status_at_most_zero(%status: memref<i32>) kernel attributes {known_block_size = array<i32: 256, 1, 1>, known_grid_size = array<i32: 1, 1, 1>} {
      %c0 = arith.constant 0 : index
      %c7 = arith.constant 7 : i32
      %t = gpu.thread_id x
      %first = arith.cmpi ule, %t, %c0 : index
      scf.if %first {
        memref.store %c7, %status[] : memref<i32>
      }
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @status_below_two(%status: memref<i32>) kernel attributes {known_block_size = array<i32: 256, 1, 1>, known_grid_size = array<i32: 1, 1, 1>} {
      %c2 = arith.constant 2 : index
      %c7 = arith.constant 7 : i32
      %t = gpu.thread_id x
      %two = arith.cmpi ult, %t, %c2 : index
      scf.if %two {
        // expected-error @+1 {{possible race on kernel argument #0 (memref<i32>): two threads of a block may store the same element here between two barriers}}
        memref.store %c7, %status[] : memref<i32>
      }
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @status_else_branch(%status: memref<i32>) kernel attributes {known_block_size = array<i32: 256, 1, 1>, known_grid_size = array<i32: 1, 1, 1>} {
      %c1 = arith.constant 1 : index
      %c7 = arith.constant 7 : i32
      %t = gpu.thread_id x
      %first = arith.cmpi ult, %t, %c1 : index
      scf.if %first {
      } else {
        // expected-error @+1 {{possible race on kernel argument #0 (memref<i32>): two threads of a block may store the same element here between two barriers}}
        memref.store %c7, %status[] : memref<i32>
      }
      gpu.return
    }
  }
}
