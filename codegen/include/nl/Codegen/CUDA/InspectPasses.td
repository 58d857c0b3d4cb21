//===- InspectPasses.td - what a CUDA kernel costs ---------*- tablegen -*-===//
//
// Facts about the CUDA backend's kernels that `hope-inspect` reads from the
// manifest: FLOPs, bytes and grids from the IR, and registers, spills,
// shared memory and barriers from ptxas (docs/artifact-abi.md, "Kernel
// costs").
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_CUDA_INSPECTPASSES_TD
#define NL_CODEGEN_CUDA_INSPECTPASSES_TD

include "mlir/Pass/PassBase.td"

def NLCUDAKernelCosts : Pass<"nl-cuda-kernel-costs", "mlir::ModuleOp"> {
  let summary = "Each kernel's grid, FLOPs and bytes as formulas of the "
                "entry point's dynamic sizes";
  let description = [{
    After `nl-cuda-form-kernels` (each `gpu.launch` still in its host
    function), for every launch: its grid, its floating-point operations and
    the bytes of global memory it reads and writes, as formulas of the
    dynamic sizes the manifest names (`"x[0]"`; `nl.manifest` must be on the
    module, from `nl-prepare-entry-points`). The result goes to the module's
    `nl.manifest_fields` as `kernel_costs` (kernel name -> facts), which
    `nl-cuda-kernel-resources` moves into the manifest's `kernels`.

    - FLOPs: every arith op on floats counts 1 per element (`math.fma` 2;
      each `math` function 1; casts, selects and constants 0), times the
      number of times the block's threads run it: a loop from the thread id
      stepping by the block size shares its iterations among the threads;
      `scf.if` on thread 0 runs once per block; the guard `block * threads +
      thread < N` of a loop-nest kernel passes N threads; other loops
      multiply by their trip count, `ceildiv(ub - lb, step)`; both branches
      of other `scf.if`s count (an upper bound).
    - Loop bounds that depend on an enclosing loop's variable are averaged
      over its iterations (exact when the dependence is affine), and
      `min(start + C, T)` is taken to be `start + C`: every chunk counts as
      full, which overcounts the last, partial chunk only; an integer scalar
      a kernel reads (a streamed `position`) counts as 0, a call that starts
      at a chunk boundary.
    - Bytes: the distinct global buffers the kernel loads from (read) and
      stores to (written), each counted once at its full size, through views
      to the buffer they view; workgroup memory is not counted. So a kernel
      reading part of a buffer counts all of it, and scratch buffers a
      memory stage rereads every chunk count once (they stay in L2 when
      they fit).

    A launch whose counts cannot be expressed (a bound the analysis does not
    know) gets a warning naming the value, and no costs.
  }];
  let dependentDialects = ["mlir::gpu::GPUDialect"];
}

def NLCUDAKernelResources : Pass<"nl-cuda-kernel-resources",
                                 "mlir::ModuleOp"> {
  let summary = "Each kernel's registers, spills, shared memory and barriers "
                "per chip, from ptxas";
  let description = [{
    After `nl-cuda-serialize-kernels`: runs `ptxas -v` (from `toolkit`) on
    the artifact's PTX image of each chip, with the optimisation level the
    cubins were compiled with (`-O3`), and records per kernel and chip
    `registers`, `spill_stores`, `spill_loads` (bytes), `shared_bytes`
    (static shared memory), `barriers` and `stack_bytes` in the manifest's
    `kernels` entries under `resources` (`{"sm_90": {...}}`). Also moves
    each kernel's `kernel_costs` (from `nl-cuda-kernel-costs`) into its
    entry. ptxas reports the spills; the cubin's attributes hold the
    registers and shared memory but not them, so ptxas is run on the very
    PTX the cubin was assembled from; when `nl-cuda-serialize-kernels`
    recorded the report of that very run (`ptxas_reports` in the manifest
    fields, removed here), ptxas does not run again. A chip without a PTX
    image has no resources.
  }];
  let options = [
    Option<"toolkit", "toolkit", "std::string", /*default=*/"\"\"",
           "CUDA toolkit root (ptxas; default $CUDA_ROOT, $CUDA_HOME or "
           "/usr/local/cuda)">,
  ];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

#endif // NL_CODEGEN_CUDA_INSPECTPASSES_TD
