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
      not depend on the sequence length. Top-level `gpu.launch` ops formed
      before (`nl-cuda-tile-contractions`' tiled contractions) stay as they
      are.
    - A top-level `scf.for` that carries nothing is a reduction's loop nest
      (a training step's gradients summed over the batch, its loss): where
      it is `for r { parallel p { ... } }` and every p owns the elements it
      writes, it becomes `parallel p { for r { ... } }` (each element summed
      by one thread, in the host's order; the same inside memory stages and
      loop nests, merged into the enclosing nest); any other (a full
      reduction into a scalar) runs on one thread of one block.

    The pass proves that blocks of a memory stage are independent: every
    access to a buffer the kernel writes must index dimensions 0 and 1 with
    the block's batch and head, else it fails naming the access. Host code
    never reads device memory: a scalar read at a function's top level
    (a streamed `position`, a weight's element hoisted out of its loops, a
    training step's loss count or clipping factor) and the pure scalar ops
    computed from it are cloned into every kernel that uses them, at the
    innermost block holding the uses, so a memory stage computes its chunk
    phase (`position mod C`) and its chunk count itself and neither its
    grid nor the host code depends on them; a scalar the host code stores
    (the next position) is stored by a kernel of one block. A value read
    from device memory that host code still uses (a grid, a buffer's size)
    is an error located at its use, as is a read whose buffer something
    writes between it and a kernel using it, and any other top-level
    `memref.store` or `memref.copy`. Top-level buffers that
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

def NLCUDATileContractions
    : Pass<"nl-cuda-tile-contractions", "mlir::ModuleOp"> {
  let summary = "Contractions outside the memory stages as tiled kernels with "
                "workgroup-memory tiles";
  let description = [{
    On buffers, before `convert-linalg-to-parallel-loops` and
    `nl-cuda-form-kernels`. Without it a contraction outside the chunk loops
    (x @ W, the CMS MLPs' layers, the LM head) becomes a loop nest of one
    output element per thread that reads a row of A and a column of B from
    global memory per element. Each `linalg.generic` at a function's top
    level with two input buffers, one output buffer, exactly one reduction
    dimension k indexed by both inputs, projected-permutation maps, a
    payload that reads no indices or memory, an output dimension m indexed
    by one input only (A) and one n by the other only (B), and static n and
    k extents of at least `min-extent`, and tiles within the 48 KiB of
    static shared memory (32-bit elements; a float64 contraction keeps its
    loop nest) becomes ONE `gpu.launch`
    (`contraction_<i>` in module `hope_kernels`) with:

    - a grid of 64 x 64 output tiles over the output's innermost m and n
      dimensions (x: n tiles, y: m tiles) times the other parallel
      dimensions (z, delinearised), 256 threads per block, each thread a
      4 x 4 register tile at rows `ty + 16 i`, columns `tx + 16 j`;
    - workgroup memory (`#gpu.address_space<workgroup>` attributions): a
      64 x 16 tile of A and a 16 x 64 tile of B per step of k, each laid
      out with the operand's contiguous dimension fastest (so the
      thread-strided loads that stage it are coalesced; a k-fastest tile has
      one padding column against bank conflicts), and the threads'
      accumulators (16 x 256, each thread its own column);
    - the k loop: stage both tiles (indices clamped into bounds, so a
      partial tile reads no memory out of range), `gpu.barrier`, each
      thread runs the generic's own payload over the step's k for its 16
      accumulators (held in registers for the step), `gpu.barrier`; then
      the tile is written back, consecutive threads on consecutive columns,
      where in bounds.

    Every access is either keyed by the thread (the thread id, or a
    thread-strided loop's variable delinearised) or separated from the
    writes of other threads by a barrier, so `nl-cuda-check-races` proves
    the kernel race-free and the emulator runs it. Results equal the loop
    nest's up to the order of the k sum (it is the same order: k ascending
    per output element).

    Fused around it, where no value is computed twice: an output whose last
    writer before the contraction is a `linalg.fill` with a constant, or a
    `linalg.copy` from a buffer so filled (what bufferization leaves for an
    accumulator that starts at zero), starts from that constant without
    reading memory; the copy is erased, and a fill that nothing reads any
    more too. An elementwise `linalg.generic` right after the contraction
    (identity maps, the contraction's output one of its inputs and used by
    nothing else: an activation, a residual add) runs in the epilogue on
    each element of the tile, its other inputs read at the same indices,
    and the kernel stores its result instead of the contraction's.

    Fused before it (the prologue): an input of the contraction (an
    allocation) whose last writer before it in the same block is an
    elementwise `linalg.generic` (every loop parallel, one output: that
    buffer, written whole through a permutation map and read, if at all,
    only at the element written, as an in-place norm does; inputs read
    through projected permutations, so a per-row scale or a per-column gain
    broadcast along the other dimension; a payload that reads no indices or
    memory) is computed while its tiles are staged: each staged element is
    the producer's payload on the producer's inputs read at that element's
    indices, and the producer is erased (its buffer too when nothing else
    uses it). An RMSNorm's scaling `x * r * g` before a projection or a CMS
    layer, the LM's final norm before its head, an activation before a layer
    no longer write and read back a buffer the size of the input. Only when
    the value is dead after the contraction: the next op to touch the buffer
    overwrites it whole (bufferization reuses one buffer for the CMS levels'
    norms) or none does; and not when a buffer the producer reads may be
    written between it and the contraction, or is one the kernel writes.
    Unlike the epilogue, the producer's payload runs once per element and
    per block column of tiles (ceil(N / 64) times for A; ceil(M / 64) for
    B): elementwise FLOPs traded for a round trip through memory. The part
    of it that reads no input indexed by k (a norm's rsqrt of the row's mean
    square) runs once per row of the block's tile instead: before the k
    loop the threads compute it for the tile's 64 rows (columns, for B)
    into workgroup memory (`memref<64xT>`, one per value the rest of the
    payload uses), then a `gpu.barrier`; staging reads it there.
  }];
  let options = [
    Option<"minExtent", "min-extent", "int64_t", /*default=*/"64",
           "The smallest static n and k extents tiled (below it a tile "
           "would be mostly idle; the CUDA pipeline passes 16)">,
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

def NLCUDAMergeIdenticalKernels
    : Pass<"nl-cuda-merge-identical-kernels", "mlir::ModuleOp"> {
  let summary = "One kernel for each set of kernels equal up to their names";
  let description = [{
    After `gpu-kernel-outlining` (the CUDA pipeline runs it after
    `nl-cuda-pack-kernel-params` and `nl-cuda-register-budget`, so that each
    kernel is packed for its own launch and a merged kernel is the very
    kernel each of its launches had: the same parameters, baked constants,
    registers and spills; packed after merging, the 760m LM's memory stage
    kept two more parameters, values that differ between layers). The
    layers of a deep model are the same computation on other buffers, so
    `nl-cuda-form-kernels` outlines each layer's kernels again: the 24
    layers of the 340m HOPE LM give ~2,100 kernels, each compiled twice by
    NVPTX and ptxas. Two kernels (`gpu.func`s with `kernel` in one
    `gpu.module`) merge when they are equal up to their symbol name: the
    same attributes (all of them but the name: function type, argument
    attributes, workgroup attributions, hints) and the same body, op by op
    with the same attributes, types and use-def structure (locations do not
    count). A structural hash groups the candidates; each pair is then
    compared in full. The first kernel of each set in the module's order
    keeps its name, the others are erased and every reference to them
    (`gpu.launch_func`) names the kept one, so the names left are a
    deterministic subset of the outlined ones.

    When `nl.manifest_fields` holds `kernel_costs` (from
    `nl-cuda-kernel-costs`), two kernels merge only when their entries are
    equal too (same entry point, grid and counts), so that a kernel's
    costs are those of each of its launches; the merged entries go, and
    every entry gets `launches`: the number of `gpu.launch_func` of the
    kernel in the host code, which runs each once per call (a launch inside
    a host loop would count once; a warning says so, and
    `nl-cuda-form-kernels` makes none).
  }];
  let dependentDialects = ["mlir::gpu::GPUDialect"];
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
    of every `gpu.module` to NVVM: each `gpu.module` is compiled to PTX per
    chip (upstream's `gpu-module-to-binary` with `format=isa`: NVPTX once
    per chip) and each PTX to that chip's cubin by `ptxas -v -O3` (from
    `toolkit`); the PTX is also kept as the JIT fallback for newer GPUs.
    ptxas's reports go to the manifest fields' `ptxas_reports` (chip ->
    text), which `nl-cuda-kernel-resources` reads instead of running ptxas
    again. (Upstream's `format=bin` would run NVPTX a second time.)
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
           "Also embed the PTX of every chip">,
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


//===----------------------------------------------------------------------===//
// Emulation on the CPU (--target=cuda-emulated)
//===----------------------------------------------------------------------===//

def NLCUDACheckRaces : Pass<"nl-cuda-check-races", "mlir::ModuleOp"> {
  let summary = "Prove every kernel's barriers uniform and its threads race-free";
  let description = [{
    On the outlined kernels (`gpu.func` in a `gpu.module`, after
    `gpu-kernel-outlining`): what the emulator (`nl-cuda-emulate-kernels`)
    needs to run a kernel's threads one after another, and what it rejects
    otherwise, with an error located at the ops involved:

    - Every `gpu.barrier` is at the kernel's top level or inside `scf.for`
      / `scf.if` ops whose operands are uniform (the same in every thread of
      a block: built from the kernel's arguments, block ids and sizes,
      constants and uniform loops' induction variables by ops without
      memory effects; a loaded value or the thread id is not uniform).
    - Between two barriers (the barrier intervals: the code between two
      barriers on some path, around a loop's back edge and past an `scf.if`
      too), no two threads of a block touch the same element of a buffer
      when one of them writes it. An access is proven private to its thread
      when its indices determine a thread-distinct value: the thread id of a
      one-dimensional block, or the induction variable of a loop from the
      thread id stepping by the block size, possibly offset by uniform
      values and delinearised by `remui` / `divui` (the last digit bounded
      by the loop's upper bound or an enclosing `scf.if`'s `ult` guard);
      two accesses of one buffer are disjoint across threads when they index
      the same positions with the same such expression. Accesses guarded by
      `thread_id == 0` (or `thread_id < 1`, `thread_id <= 0`: how
      `nl-cuda-form-kernels` guards a loop nest of one iteration) run in one
      thread. Anything else that writes a buffer
      another thread may touch in the interval is rejected, naming the
      buffer and both accesses.

    Blocks do not wait for each other: a `memref.view` of a buffer the
    blocks share (not at an offset that depends on the block id) whose
    sizes may differ between blocks (they change with a loop's iterations or
    come from memory) would lay the blocks' slices out differently at once,
    and is rejected.

    Buffers are told apart by their root (through views); two kernel
    arguments that a launch passes views of one buffer count as one buffer.
    Dynamic shared memory (`gpu.dynamic_shared_memory`) is told apart by
    its views (`memref.view` at a constant byte offset, of a static shape,
    as `nl-cuda-form-kernels` places states and scratch there): views whose
    byte ranges are disjoint are different buffers, views whose ranges
    overlap, directly or through a chain of overlapping views, one buffer
    (two accesses through different views of one buffer are not proven
    apart; views of the same offset and type count as one). Any other use
    of dynamic shared memory is refused. Another buffer whose every view is
    of a static shape at one uniform base computed at the kernel's top
    level plus a constant (the block's slot of a global scratch arena) is
    told apart the same way; an access to it not through those views counts
    as an access of every class.
    Blocks are independent by construction (`nl-cuda-form-kernels` proves
    it for memory stages; a loop nest's kernel indexes by its global
    thread number), so only threads of one block are compared.
  }];
  let dependentDialects = ["mlir::gpu::GPUDialect"];
}

def NLCUDAEmulateKernels : Pass<"nl-cuda-emulate-kernels", "mlir::ModuleOp"> {
  let summary = "Outlined kernels as host functions that run every block and thread";
  let description = [{
    After `nl-cuda-check-races`: each kernel `gpu.func @K` of a `gpu.module`
    becomes a host function

      func.func private @hope_emulated_K(<K's arguments>,
          %grid_x, %grid_y, %grid_z, %block_x, %block_y, %block_z,
          %shared_bytes : index) -> i32 attributes {llvm.bareptr}

    which returns 1 without running anything when `%shared_bytes` is less
    than the kernel's views of dynamic shared memory reach (each a
    `memref.view` at a constant byte offset, of a static shape; any other
    use is an error), else 0. Its body is an `scf.parallel` over the grid (OpenMP threads once
    lowered) in which one block runs: workgroup memory (workgroup
    attributions, `#gpu.address_space<workgroup>` allocations and
    `gpu.dynamic_shared_memory`, of the launch's `shared_bytes`) is a
    buffer of the block (`memref.alloca`), and the kernel body is split at
    each `gpu.barrier` into segments, each an `scf.for` over the block's
    threads. Uniform `scf.for` / `scf.if` ops holding barriers run once per
    block around their segments; uniform ops without memory effects run once
    per block; a value computed by a thread in one segment and used in a
    later one is kept per thread (an array indexed by the thread). Memory
    spaces are dropped. Memref arguments are bare pointers (`llvm.bareptr`),
    as `gpu-to-llvm{use-bare-pointers-for-kernels}` passes a launch's
    operands, so the lowered function takes exactly the launch's
    `kernelParams` (`nl-cuda-export-emulated-kernels` builds the exported
    entry from it); a memref argument that is not one pointer under that
    convention (dynamic shape or layout: run `nl-cuda-pack-kernel-params`
    first) is an error.

    Each `gpu.func` becomes an `llvm.func` declaration marked `gpu.kernel`
    in its `gpu.module`: the launches keep naming it (a launch's operands are
    not checked against a declaration, so `gpu-to-llvm` can expand them),
    until `nl-cuda-export-emulated-kernels` removes the module. The manifest's
    `kernels` (name, block: the kernel's known block size, shared_bytes: the
    dynamic shared memory its launches request, each a constant at least
    what its views reach, else an error at the launch) and `images` (one `emulated` image,
    `hope_image_0`, whose bytes are not used) are recorded in
    `nl.manifest_fields`, as `nl-cuda-serialize-kernels` does for cubins.
  }];
  let dependentDialects = ["mlir::func::FuncDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::LLVM::LLVMDialect"];
}

def NLCUDAExportEmulatedKernels : Pass<"nl-cuda-export-emulated-kernels",
                                       "mlir::ModuleOp"> {
  let summary = "Export each emulated kernel with the runtime's launch signature";
  let description = [{
    On the LLVM dialect, after `nl-route-allocations` and
    `nl-cuda-launch-through-services`: for each lowered
    `hope_emulated_<name>` emits the function the runtime's CPU stand-in for
    the driver calls at a launch (runtime/lib/cuda/EmulatedDriver.h):

      int32_t hope_kernel_<name>(void **params, const uint32_t grid[3],
                                 const uint32_t block[3],
                                 uint32_t shared_bytes);

    which loads each parameter from `params` (one pointer per parameter,
    memrefs as bare pointers, as the host code's launch passes them),
    widens grid, block and shared bytes, calls `hope_emulated_<name>` (made
    private) and returns its status. Emulated kernels allocate on the
    stack only: one that uses its service table argument is an error. The
    empty `gpu.module`s are removed.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

#endif // NL_CODEGEN_CUDA_PASSES_TD
