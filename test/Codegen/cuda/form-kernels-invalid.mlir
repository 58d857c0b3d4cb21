// nl-cuda-form-kernels refuses what it cannot run on the device or prove
// block-independent, with located errors.

// RUN: hope-opt %s --nl-cuda-form-kernels --split-input-file -verify-diagnostics

func.func @host_access(%a: memref<?x2xf32>) -> memref<?x2xf32> {
  %c0 = arith.constant 0 : index
  %b = memref.alloc() : memref<4x2xf32>
  // expected-error @+1 {{host code would access device memory here}}
  memref.copy %a, %b : memref<?x2xf32> to memref<4x2xf32>
  return %a : memref<?x2xf32>
}

// -----

// A scalar of an argument that decides a buffer's size on the host.
func.func @host_use(%n: memref<i64>) -> memref<?xf32> {
  // expected-note @+1 {{read here}}
  %v = memref.load %n[] : memref<i64>
  %s = arith.index_cast %v : i64 to index
  // expected-error @+1 {{host code would use a value read from device memory here}}
  %b = memref.alloc(%s) : memref<?xf32>
  return %b : memref<?xf32>
}

// -----

func.func @race(%init: memref<?x2x4xf32>, %n: index) -> memref<?x2x4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %b = memref.dim %init, %c0 : memref<?x2x4xf32>
  // The racing state cannot live in one block's workgroup memory either.
  // expected-remark @+1 {{value 0 the chunk loop carries ('memref<?x2x4xf32>') stays in global memory: 'memref.load'}}
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%s = %init) -> (memref<?x2x4xf32>) {
    %new = memref.alloc(%b) : memref<?x2x4xf32>
    scf.parallel (%x, %y, %z) = (%c0, %c0, %c0) to (%b, %c2, %c4) step (%c1, %c1, %c1) {
      // Every block reads batch 0: another block writes it.
      // expected-error @+1 {{not at the block's (batch, head): blocks could race}}
      %v = memref.load %s[%c0, %y, %z] : memref<?x2x4xf32>
      memref.store %v, %new[%x, %y, %z] : memref<?x2x4xf32>
      scf.reduce
    }
    scf.yield %new : memref<?x2x4xf32>
  }
  return %r : memref<?x2x4xf32>
}

// -----

// A scalar read on the host side of the order, then its buffer rewritten by
// a kernel before the kernel that uses it: moving the read into that kernel
// would read the new value.
func.func @read_then_rewritten(%n: memref<?xf32>, %a: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %d = memref.dim %a, %c0 : memref<?xf32>
  // expected-error @+1 {{a scalar read from device memory here is used by a kernel launched after its buffer is written again}}
  %v = memref.load %n[%c0] : memref<?xf32>
  // expected-note @+1 {{written here}}
  scf.parallel (%i) = (%c0) to (%d) step (%c1) {
    memref.store %zero, %n[%i] : memref<?xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%d) step (%c1) {
    memref.store %v, %a[%i] : memref<?xf32>
    scf.reduce
  }
  return
}
