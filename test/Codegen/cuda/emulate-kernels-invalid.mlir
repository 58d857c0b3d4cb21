// nl-cuda-emulate-kernels refuses, at the op, what it cannot run as the
// launches call it: a memref argument that is not one bare pointer (not
// packed), a launch with less dynamic shared memory than the kernel's views
// reach, and dynamic shared memory used other than through such views.

// RUN: hope-opt %s --nl-cuda-emulate-kernels --split-input-file -verify-diagnostics

module attributes {gpu.container_module} {
  gpu.module @kernels {
    // expected-error @+1 {{kernel argument #0 ('memref<?x256xf32>') is not one pointer under the bare-pointer convention of the launches: pack it first (nl-cuda-pack-kernel-params)}}
    gpu.func @unpacked(%in: memref<?x256xf32>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  func.func @host(%out: memref<128xf32>) {
    %c1 = arith.constant 1 : index
    %c128 = arith.constant 128 : index
    %bytes = arith.constant 256 : i32
    // expected-error @+1 {{launches kernel 'short' with 256 bytes of dynamic shared memory; its views reach 512}}
    gpu.launch_func @kernels::@short blocks in (%c1, %c1, %c1) threads in (%c128, %c1, %c1) dynamic_shared_memory_size %bytes args(%out : memref<128xf32>)
    return
  }
  gpu.module @kernels {
    gpu.func @short(%out: memref<128xf32>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      %c0 = arith.constant 0 : index
      %t = gpu.thread_id x
      %shared = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
      %floats = memref.view %shared[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<128xf32, #gpu.address_space<workgroup>>
      %v = memref.load %floats[%t] : memref<128xf32, #gpu.address_space<workgroup>>
      memref.store %v, %out[%t] : memref<128xf32>
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @raw(%out: memref<128xi8>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      %t = gpu.thread_id x
      %shared = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
      // expected-error @+1 {{cannot emulate this use of dynamic shared memory: only views of a static shape at a constant byte offset are bounded}}
      %v = memref.load %shared[%t] : memref<?xi8, #gpu.address_space<workgroup>>
      memref.store %v, %out[%t] : memref<128xi8>
      gpu.return
    }
  }
}
