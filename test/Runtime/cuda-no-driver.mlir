// On a machine without an NVIDIA driver (every CI machine), a "cuda"
// artifact's session names what is missing.
// UNSUPPORTED: cuda-driver

// RUN: not %hope_obj_root/bin/hope-run \
// RUN:     --module=%hope_obj_root/test/unit/runtime/libhope-emulated-artifact-cuda.so \
// RUN:     --function=square --input=3xf32=1 2>&1 | FileCheck %s
// CHECK: hope-run: error: {{.*}}libhope-emulated-artifact-cuda.so: cannot run on the CUDA device: libcuda.so.1 not found: no NVIDIA driver on this machine (dlopen: libcuda.so.1: cannot open shared object file: No such file or directory)
