// hope-compile --target=cuda-emulated: the cuda target's kernels compiled
// for this CPU and run by the runtime's CUDA backend over its CPU stand-in
// for the driver (hope-run --device=cuda, the artifact's default device).
// The launches per call do not depend on the sequence length (one kernel
// per memory stage with the chunk loop inside, one per loop nest outside).

// RUN: hope-compile --target=cuda-emulated --list-phases | FileCheck %s --check-prefix=PHASES
// PHASES: {{^}}outlined {{.*}}kernels outlined
// PHASES-NEXT: {{^}}emulated {{.*}}race-free
// PHASES-NEXT: {{^}}llvm {{.*}}hope_kernel_<name>

// RUN: hope-models memory-level --config=mlp-dgd -o %t.mlir --weights-out=%t.safetensors
// RUN: hope-compile %t.mlir --target=cuda-emulated -o %t.so
// RUN: %hope_obj_root/bin/hope-run --module=%t.so --list | FileCheck %s --check-prefix=LIST
// LIST: target cuda-emulated, kernels:
// LIST: memory_stage_0: block 256x1x1
// RUN: llvm-nm -D --defined-only %t.so | FileCheck %s --check-prefix=SYMBOLS
// SYMBOLS-DAG: T hope_entry_memory_level
// SYMBOLS-DAG: R hope_image_0
// SYMBOLS-DAG: T hope_kernel_memory_stage_0
// SYMBOLS-DAG: T hope_kernel_loop_nest_0
// SYMBOLS-NOT: hope_emulated_
// RUN: llvm-nm -D --undefined-only %t.so | FileCheck %s --check-prefix=IMPORTS
// IMPORTS-NOT: {{ (malloc|free|aligned_alloc|hope_.*)$}}

// RUN: %hope_obj_root/bin/hope-run --module=%t.so --function=memory_level \
// RUN:     --weights=%t.safetensors --profile --input=3x2x64x8xf32=0.5 \
// RUN:     --input=3x2x64x8xf32=0.25 --input=3x2x64xf32=0.1 --input=3x2x64xf32=0.9 \
// RUN:     --input=3x2x64x8xf32=1 --output=@%t.64.npy 2>&1 | FileCheck %s --check-prefix=PROFILE
// RUN: %hope_obj_root/bin/hope-run --module=%t.so --function=memory_level \
// RUN:     --weights=%t.safetensors --profile --input=3x2x4096x8xf32=0.5 \
// RUN:     --input=3x2x4096x8xf32=0.25 --input=3x2x4096xf32=0.1 --input=3x2x4096xf32=0.9 \
// RUN:     --input=3x2x4096x8xf32=1 --output=@%t.4096.npy 2>&1 | FileCheck %s --check-prefix=PROFILE
// PROFILE: memory_level on CPU stand-in (cuda-emulated), image emulated: 1 calls, 7 kernel launches per call
// PROFILE: memory_stage_0 1
