// hope-run on CUDA artifacts, without a GPU: the hand-written artifacts that
// the runtime's unit tests build (test/unit/runtime/Inputs/
// emulated_artifact.c). The "cuda-emulated" one runs through the runtime's
// CUDA backend over its CPU stand-in for the driver; the "cuda" one needs
// the driver, which HOPE_CUDA_DRIVER points elsewhere here.

// RUN: %hope_obj_root/bin/hope-run \
// RUN:     --module=%hope_obj_root/test/unit/runtime/libhope-emulated-artifact-good.so \
// RUN:     --function=square --input=3xf32=1,2,3 --repeat=2 --profile \
// RUN:     --timings-json=%t.json 2> %t.err | FileCheck %s --check-prefix=SQUARE
// SQUARE: y: 3xf32=1 4 9
// RUN: FileCheck %s --check-prefix=PROFILE < %t.err
// PROFILE: hope-run: square on CPU stand-in (cuda-emulated), image emulated: 2 calls, 1 kernel launches per call
// PROFILE-NEXT: kernel launches total ms ms/launch
// PROFILE-NEXT: scale 2
// PROFILE-NEXT: accumulate 0 0.000 0.0000
// PROFILE-NEXT: check_positive 0 0.000 0.0000
// PROFILE-NEXT: hope-run: device memory: 512 B in use, 768 B peak, 768 B reserved
// RUN: FileCheck %s --check-prefix=JSON < %t.json
// JSON: "device": {
// JSON: "launches_per_call": 1

// The artifact's device is the default; --device=host is refused.
// RUN: not %hope_obj_root/bin/hope-run --device=host \
// RUN:     --module=%hope_obj_root/test/unit/runtime/libhope-emulated-artifact-good.so \
// RUN:     --function=square --input=3xf32=1 2>&1 | FileCheck %s --check-prefix=HOST
// HOST: hope-run: error: hope_session_create: {{.*}}libhope-emulated-artifact-good.so is compiled for target 'cuda-emulated', which runs on the CUDA device, not on the host (hope-run --device=cuda)

// A failed launch is reported after the call, naming the kernel.
// RUN: not %hope_obj_root/bin/hope-run --device=cuda \
// RUN:     --module=%hope_obj_root/test/unit/runtime/libhope-emulated-artifact-good.so \
// RUN:     --function=broken --input=3xf32=1 2>&1 | FileCheck %s --check-prefix=BROKEN
// BROKEN: hope-run: error: broken: kernel scale: CUDA_ERROR_INVALID_VALUE (invalid argument)

// A CPU artifact does not run on cuda.
// RUN: not %hope_obj_root/bin/hope-run --device=cuda \
// RUN:     --module=%hope_obj_root/test/unit/runtime/libhope-fake-artifact-good.so \
// RUN:     --function=echo --input=2xf32=1 2>&1 | FileCheck %s --check-prefix=CPU
// CPU: hope-run: error: hope_session_create: {{.*}} is compiled for target 'cpu', which runs on the host, not on the CUDA device

// A "cuda" artifact where the driver cannot be loaded, or cannot start.
// RUN: not env HOPE_CUDA_DRIVER=%t.missing/libcuda.so.1 %hope_obj_root/bin/hope-run \
// RUN:     --module=%hope_obj_root/test/unit/runtime/libhope-emulated-artifact-cuda.so \
// RUN:     --function=square --input=3xf32=1 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: hope-run: error: {{.*}}libhope-emulated-artifact-cuda.so: cannot run on the CUDA device: cannot load the CUDA driver '{{.*}}.missing/libcuda.so.1' (from HOPE_CUDA_DRIVER): {{.*}}No such file or directory
// RUN: %if cuda-stub %{ not env HOPE_CUDA_DRIVER=%cuda_stub %hope_obj_root/bin/hope-run \
// RUN:     --module=%hope_obj_root/test/unit/runtime/libhope-emulated-artifact-cuda.so \
// RUN:     --function=square --input=3xf32=1 2>&1 | FileCheck %s --check-prefix=STUB %}
// STUB: hope-run: error: {{.*}}: cannot run on the CUDA device: cannot initialise the CUDA driver (cuInit): CUDA_ERROR_STUB_LIBRARY (CUDA driver is a stub library)

// --list shows the target and the kernels, without a driver.
// RUN: %hope_obj_root/bin/hope-run --list \
// RUN:     --module=%hope_obj_root/test/unit/runtime/libhope-emulated-artifact-cuda.so \
// RUN:     | FileCheck %s --check-prefix=LIST
// LIST: target cuda (sm_80, sm_90), kernels:
// LIST-NEXT: scale: block 64x1x1, 0 bytes of shared memory
// LIST-NEXT: accumulate: block 32x1x1, 65536 bytes of shared memory
