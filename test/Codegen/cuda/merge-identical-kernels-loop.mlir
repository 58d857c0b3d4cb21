// nl-cuda-merge-identical-kernels counts launch sites: a launch inside a
// host loop (nl-cuda-form-kernels makes none) counts once, with a warning.

// RUN: hope-opt %s --nl-cuda-merge-identical-kernels --verify-diagnostics | FileCheck %s

// CHECK: kernel_costs = {k = {entry_point = "f", launches = 1 : i64}}
module attributes {gpu.container_module, nl.manifest_fields = {kernel_costs = {
    k = {entry_point = "f"}}}} {
  func.func @f(%n: index) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    scf.for %i = %c0 to %n step %c1 {
      // expected-warning @below {{a launch inside a host loop counts as one launch per call in the manifest's `launches`}}
      gpu.launch_func @hope_kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    }
    return
  }
  gpu.module @hope_kernels {
    gpu.func @k() kernel {
      gpu.return
    }
  }
}
