//===- Passes.td - CUDA code generation passes -------------*- tablegen -*-===//
//
// The passes of the CUDA backend (codegen/lib/CUDA/): kernels formed from
// the buffers-and-loops form, their images, and the host side's calls
// through the runtime's service table.
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_CUDA_PASSES_TD
#define NL_CODEGEN_CUDA_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

def NLCUDADeviceDataPreconditions
    : Pass<"nl-cuda-device-data-preconditions", "mlir::ModuleOp"> {
  let summary = "Precondition checks that read input data run as a kernel";
  let description = [{
    On buffers, before `nl-cuda-form-kernels`. A device artifact's inputs
    are device tensors that its host code must not read, so the check an
    entry point `E` runs before its body (`E.preconditions`, from
    `nl-outline-preconditions`) can read only shapes on the host. A check
    that reads or writes memory (e.g. the HOPE LM's token ids within the
    vocabulary, a streamed position within its range) runs on the device
    instead: its body moves into a loop nest of one iteration, which
    `nl-cuda-form-kernels` makes a kernel of one block, and stores the
    verdict (0, or the 1-based number of the first broken precondition)
    into a `memref<i32>` status word; the check returns the word read by
    `nl.read_device_status`, which waits for the kernel. So the entry point
    returns the verdict before it launches anything that relies on the
    preconditions, exactly as on the CPU, and the runtime reports
    `E: input 'tokens' breaks a precondition: <message>`. The check's own
    buffers (its accumulator) become `memref.alloca`, private to the one
    thread that runs it; one of dynamic size is an error. Checks of shapes
    alone stay on the host.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::nl::NLDialect"];
}

def NLCUDAFormKernels : Pass<"nl-cuda-form-kernels", "mlir::ModuleOp"> {
  let summary = "One gpu.launch per memory stage and per loop nest outside them";
  let description = [{
    On buffers and loops (after `convert-linalg-to-parallel-loops`), for the
    body of every function:

    - A memory stage (a top-level `scf.for`: the chunk loop that
      `nl-lower-memories` builds) becomes ONE `gpu.launch` that walks every
      chunk: the grid is batch x heads (one thread block per (batch, head),
      from the dimensions 0 and 1 of its state), the chunk `scf.for` runs
      inside the kernel, and each `scf.parallel` nest of the chunk's work
      loses its batch and head dimensions (they become the block ids) and
      has its other dimensions shared by the block's `threads` threads
      (a block-stride loop over their linearised iteration space, which
      also covers the last, partial chunk), followed by a `gpu.barrier`.
      Reductions stay sequential per output element: results are
      deterministic and no atomics are used. Buffers the chunk's work
      allocates are allocated before the launch at their upper bound
      (batch-sized dimensions stay, token dimensions take their static
      bound) and reshaped inside. Buffers the loop carries (states,
      momenta, chunk-start references, accumulators) get one fixed buffer
      each: in workgroup memory (`#gpu.address_space<workgroup>`, one
      (batch, head) slice per block) when the block's share of all of them
      fits `shared-memory-bytes`, else in global memory with a remark; each
      iteration's new value is copied into it behind a barrier. The same
      holds for what inner loops of the chunk (DGD's token scan) carry.
      Workgroup memory is the launch's dynamic shared memory
      (`gpu.dynamic_shared_memory`, one 16-byte aligned slice per buffer),
      so it may exceed the 48 KiB of static shared memory; the final value
      of a buffer the host reads is copied back to global memory after the
      last chunk. The chunk's [batch, heads, ...] scratch follows the
      carried values into workgroup memory; what does not fit goes to the
      block's slot of one global arena, so that every scratch buffer is at a
      constant offset from one block base (register pressure: one live
      address instead of one per buffer).
    - Every other top-level `scf.parallel` nest (work outside the chunk
      loops) becomes a `gpu.launch` of `threads` threads per block over its
      linearised iteration space, so the number of launches of a call does
      not depend on the sequence length.

    The pass proves that blocks of a memory stage are independent: every
    access to a buffer the kernel writes must index dimensions 0 and 1 with
    the block's batch and head, else it fails naming the access. Host code
    never reads device memory: a scalar read at a function's top level from
    an argument's buffer (a streamed `position`, a weight's element hoisted
    out of its loops) and the pure scalar ops computed from it are cloned
    into every kernel that uses them, so a memory stage computes its chunk
    phase (`position mod C`) and its chunk count itself and neither its
    grid nor the host code depends on them; a scalar the host code stores
    (the next position) is stored by a kernel of one block. A value read
    from device memory that host code still uses (a grid, a buffer's size)
    is an error located at its use, as is any other top-level
    `memref.load`, `memref.store` or `memref.copy`. Top-level buffers that
    no result aliases are freed at the function's end.

    Kernels are named `memory_stage_<i>` and `loop_nest_<i>` in module
    `hope_kernels` (for `gpu-kernel-outlining`).
  }];
  let options = [
    Option<"threads", "threads", "int64_t", /*default=*/"256",
           "Threads per block (at least 128 for memory stages)">,
    Option<"sharedMemoryBytes", "shared-memory-bytes", "int64_t",
           /*default=*/"49152",
           "Workgroup memory a memory-stage block may use for its carried "
           "buffers (dynamic shared memory; the CUDA backend passes the "
           "smallest per-block limit of its chips)">,
  ];
  let dependentDialects = ["mlir::gpu::GPUDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::arith::ArithDialect"];
}

def NLCUDAPackKernelParams : Pass<"nl-cuda-pack-kernel-params",
                                  "mlir::ModuleOp"> {
  let summary = "Kernel memref arguments as a base pointer and their dynamic "
                "sizes";
  let description = [{
    After `gpu-kernel-outlining`. By default `gpu-to-llvm` passes a memref
    kernel argument as its whole descriptor (allocated and aligned
    pointers, offset, sizes and strides: 3 + 2 * rank words), which
    overflows CUDA's 4 KiB of kernel parameters in kernels that touch many
    buffers and costs registers. Every memref argument whose type the
    bare-pointer convention cannot pass (a dynamic shape or a non-identity
    layout) becomes its base buffer (a rank-0 memref: one pointer) and the
    index scalars its type leaves dynamic: sizes, and for non-identity
    layouts offset and strides. The kernel rebuilds the memref with
    `memref.reinterpret_cast` (identity strides from the sizes); the host
    passes `memref.extract_strided_metadata`'s base and `memref.dim`s.
    Scalars that every launch of a kernel passes identically (after CSE of
    the host code) become one argument, and constants every launch passes
    become constants of the kernel (so that ptxas folds block sizes,
    extents and strides).

    Both sides must then use the bare-pointer convention:
    `convert-gpu-to-nvvm{use-bare-ptr-memref-call-conv=true}` and
    `gpu-to-llvm{use-bare-pointers-for-kernels=true}`.
  }];
  let dependentDialects = ["mlir::gpu::GPUDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::arith::ArithDialect"];
}

def NLCUDARegisterBudget : Pass<"nl-cuda-register-budget", "mlir::ModuleOp"> {
  let summary = "Kernels may use every register their block size allows";
  let description = [{
    After `gpu-kernel-outlining`. Without an occupancy hint ptxas caps a
    kernel of 256 threads at 128 registers (two blocks per SM) and spills
    what does not fit: the memory stages need ~170. One block per SM is
    enough for a memory stage (its grid is batch x heads), so every kernel
    gets `nvvm.minctasm = 1` (PTX `.minnctapersm 1`; one already given is
    kept) and ptxas limits its registers by the block size alone (255 at
    256 threads).
  }];
  let dependentDialects = ["mlir::NVVM::NVVMDialect"];
}

//===----------------------------------------------------------------------===//
// Images and host side
//===----------------------------------------------------------------------===//

def NLCUDASerializeKernels : Pass<"nl-cuda-serialize-kernels",
                                  "mlir::ModuleOp"> {
  let summary = "Kernel modules to cubins per chip and PTX, as exported data";
  let description = [{
    After `nvvm-attach-target` (one `#nvvm.target` per chip) and the lowering
    of every `gpu.module` to NVVM: each `gpu.module` is compiled to one cubin
    per chip (ptxas, from `toolkit`) and to PTX for its first chip (the JIT
    fallback for newer GPUs), as upstream's `gpu-module-to-binary` does.
    Each image becomes an exported constant `hope_image_<i>`
    (`llvm.mlir.global external constant`) that the runtime reads from the
    artifact file; the `gpu.module` becomes an empty `gpu.binary` marker for
    the launches. The manifest's `images` (format, chip, symbol, bytes) and
    `kernels` (name, block, shared_bytes: the dynamic shared memory its
    launches request, a constant; static and dynamic shared memory together
    must fit `shared-memory-bytes` when it is set) are recorded in the module attribute `nl.manifest_fields`, which
    `nl-emit-entry-abi` merges into the manifest; a kernel's number is its
    index in `kernels`.
  }];
  let options = [
    Option<"toolkit", "toolkit", "std::string", /*default=*/"\"\"",
           "CUDA toolkit root (ptxas, libdevice; default $CUDA_ROOT, "
           "$CUDA_HOME or /usr/local/cuda)">,
    Option<"withPTX", "ptx", "bool", /*default=*/"true",
           "Also embed PTX for the first chip">,
    Option<"sharedLimit", "shared-memory-bytes", "int64_t", /*default=*/"0",
           "Shared memory per block the chips allow (0: not checked)">,
  ];
  let dependentDialects = ["mlir::LLVM::LLVMDialect",
                           "mlir::gpu::GPUDialect"];
}

def NLCUDALaunchThroughServices : Pass<"nl-cuda-launch-through-services",
                                       "mlir::ModuleOp"> {
  let summary = "Kernel launches and device buffers through the service table";
  let description = [{
    On the LLVM dialect after `gpu-to-llvm` and `nl-cuda-serialize-kernels`:
    every `gpu.launch_func` becomes a call of the service table's `launch`
    (version 2, runtime/include/hope/artifact.h) with the kernel's number in
    the manifest, grid and block as `uint32_t[3]`, the launch's dynamic
    shared memory (0 without one) and `params`, one pointer per kernel
    parameter as `gpu-to-llvm` marshalled them (bare pointers for memrefs
    after `nl-cuda-pack-kernel-params`). The
    table is the enclosing function's last argument, which
    `nl-route-allocations{device=true}` adds (it also routes the buffers to
    `device_alloc` / `device_free`); a function without one is an error. Launch statuses are ignored: errors are sticky
    in the call's context (the contract). Every `nl.read_device_status`
    becomes a call of the table's `read_status` (version 3) on its address.
    The manifest's `services` is 3 when the module reads a status word,
    else 2, so that runtimes of version 2 still run artifacts that need no
    more. The `gpu.binary` markers are removed.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

#endif // NL_CODEGEN_CUDA_PASSES_TD
