//===- Passes.td - CPU code generation passes --------------*- tablegen -*-===//
//
// The passes of the CPU backend (codegen/lib/CPU/): tiling and vectorisation
// on tensors, function splitting, parallel loops and vector lowering.
//
//===----------------------------------------------------------------------===//

#ifndef NL_CODEGEN_CPU_PASSES_TD
#define NL_CODEGEN_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def NLSplitLargeFunctions : Pass<"nl-split-large-functions",
                                  "mlir::ModuleOp"> {
  let summary = "Outline runs of a large function's operations into functions";
  let description = [{
    On buffers, before lowering to loops: a function with more than
    `max-ops` operations (nested ones included) is cut into consecutive runs
    of its top-level operations, each ending after a top-level loop (a
    memory stage's chunk loop, the tile loops of a contraction) or when it
    reaches `max-ops` operations; identical runs (a model's repeated blocks)
    become one function. Each run becomes a private function
    `@<name>.part<k>`, never inlined, that the original calls in order. Buffers a run allocates and later runs use
    are its results; everything else it uses comes in as arguments, except
    constants, which each run re-creates so that LLVM still folds them.

    Why: a whole language model lowered into one function (24 HOPE blocks are
    ~55k operations) takes LLVM's function passes far longer than the sum of
    its parts (the 340m model did not finish in 20 minutes at -O3); in parts,
    optimisation time grows linearly with the model. Results are unchanged:
    the operations and their order are the same.
  }];
  let options = [
    Option<"maxOps", "max-ops", "unsigned", /*default=*/"2000",
           "Split functions with more operations than this into runs of "
           "about this many (0: never split)">,
  ];
  let dependentDialects = ["mlir::func::FuncDialect",
                           "mlir::scf::SCFDialect"];
}

def NLVectorFriendlyLoopOrder : Pass<"nl-vector-friendly-loop-order"> {
  let summary = "Order each linalg.generic's loops so the innermost one is contiguous";
  let description = [{
    For the CPU: `convert-linalg-to-loops` nests loops in iterator order, so
    a contraction `C[i, j] += A[i, k] B[k, j]` has its reduction `k`
    innermost, a serial chain LLVM cannot vectorise. This pass interchanges
    the iterators of every `linalg.generic` so that the innermost loop runs
    over the parallel dimension that indexes the output's last, contiguous
    dimension, where it is also the last dimension (or absent, a broadcast)
    of every operand: `for i, for k, for j: C[i, j] += A[i, k] B[k, j]`, a
    loop of independent multiply-adds over unit-stride rows that LLVM's
    vectoriser turns into FMAs as wide as the target's vectors. Other
    iterators keep their order. In a contraction on tensors, an input that
    has this dimension elsewhere than last (the weight of `y[o] = W[o, i]
    x[i]`) is first transposed into a new tensor (one pass over it, against
    one read per other iteration in the contraction). Ops without such a
    dimension are left alone. The result is the same: only the order of
    independent iterations changes, never the order of a reduction.

    Run it on linalg on tensors (the end of the `linalg` phase).
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

def NLTileContractions : Pass<"nl-tile-contractions"> {
  let summary = "Tile contractions for threads, caches and registers";
  let description = [{
    For the CPU, on linalg on tensors after `nl-vector-friendly-loop-order`,
    a `linalg.generic` with one reduction loop `k`, a parallel innermost
    loop `j` of static extent (the output's contiguous dimension) and a
    parallel `row` loop just outside (the tokens of a projection
    `y[t, j] += x[t, k] W[k, j]`, any other parallel loops being batch or
    heads) is tiled at three levels with MLIR's TilingInterface:

    1. Threads: an `scf.forall` over blocks of `row-tile` rows and
       `inner-tile` columns, one per batch and head: the iterations that
       threads share (columns too, so that a short sequence still gives
       every thread work).
    2. Caches, when `k` is static and the operand indexed by `(k, j)` is
       larger than `cache-bytes` (the CMS and LM-head weights): an
       `scf.for` loop over `reduction-tile` reduction steps, so that a
       block of the weight is reused by every row of a block while it is
       in cache.
    3. Registers, when `j` has at least `register-vectors` vectors of
       `vector-bytes`: `scf.for` loops over blocks of `register-rows` rows
       and `register-vectors` vectors of columns, then over `k` one step at
       a time. The block op carries the unit attribute `nlcpu.register_tile`
       for `nl-vectorize-register-tiles`, which keeps its output block in
       registers across the `k` loop. Partial row and column blocks are
       peeled off (`scf::peelForLoopAndSimplifyBounds`) so that full blocks
       have static shapes; the partial ones stay scalar loops.

    The reduction loop is innermost at every level, so each element still
    sums over `k` in increasing order: results are bitwise those of the
    untiled loops.

    A generic with several adjacent reduction loops that is such a
    contraction once they are one loop (a weight's gradient from
    `nl-differentiate`, `dW[j, k] += dY[b, t, j] X[b, t, k]` over batch and
    tokens) has them collapsed first (MLIR's `collapseOpIterationDims`,
    operands reshaped with `tensor.collapse_shape`), when it is then tiled;
    each element still sums in the same order.

    A `linalg.transpose` that moves the input's contiguous dimension (the
    weights and memory states `nl-vector-friendly-loop-order` transposes)
    would read or write with a stride in its inner loop. When both
    dimensions it swaps into and out of last place are static multiples of
    one vector (`vector-bytes` / element size), it is tiled into squares of
    that side, in an `scf.forall`, each marked `nlcpu.register_tile`: whole
    vectors are read and written, and the square is transposed in
    registers.
  }];
  let options = [
    Option<"rowTile", "row-tile", "int64_t", /*default=*/"64",
           "Rows of the output per thread block">,
    Option<"innerTile", "inner-tile", "int64_t", /*default=*/"256",
           "Elements of the innermost (vector) dimension per thread block">,
    Option<"reductionTile", "reduction-tile", "int64_t", /*default=*/"256",
           "Reduction steps per cache tile">,
    Option<"cacheBytes", "cache-bytes", "int64_t", /*default=*/"1048576",
           "Cache-tile only contractions whose (reduction, innermost) "
           "operand is larger than this (default: a typical L2 cache)">,
    Option<"registerRows", "register-rows", "int64_t", /*default=*/"8",
           "Rows of an output block kept in registers (0: no register "
           "tiling, of contractions or of transposes)">,
    Option<"registerVectors", "register-vectors", "int64_t", /*default=*/"2",
           "Vectors per row of an output block kept in registers">,
    Option<"vectorBytes", "vector-bytes", "int64_t", /*default=*/"32",
           "Bytes of the target's vector registers (hope-compile sets it "
           "from the target: 64 with AVX-512, 32 with AVX, 16 otherwise)">,
  ];
  let dependentDialects = ["mlir::scf::SCFDialect",
                           "mlir::tensor::TensorDialect",
                           "mlir::affine::AffineDialect",
                           "mlir::nl::NLCPUDialect"];
}

def NLVectorizeRegisterTiles : Pass<"nl-vectorize-register-tiles"> {
  let summary = "Vectorise register blocks of contractions, accumulators in registers";
  let description = [{
    For the CPU, on linalg on tensors after `nl-tile-contractions` and
    canonicalization: every `linalg.generic` marked `nlcpu.register_tile` whose
    shapes are static (a full block, not a peeled partial one) has its unit
    parallel dimensions dropped (`linalg::dropUnitDims`) and is vectorised
    (`linalg::vectorize`): a contraction becomes one `vector.contract` of a
    `rows x 1` by `1 x columns` block into a `rows x columns` accumulator.
    The accumulator's read and write are then hoisted out of the loop over
    `k` (`hoistLoopInvariantSubsets`), so it stays in registers for the
    whole reduction. `nl-contract-float-ops` later lowers the contraction
    to outer products, one fused multiply-add per row and step of `k`: the
    micro-kernel of a BLAS sgemm, with each element's sum still in
    increasing `k`. Marks on ops that are not vectorised are removed.
  }];
  let dependentDialects = ["mlir::vector::VectorDialect",
                           "mlir::tensor::TensorDialect",
                           "mlir::nl::NLCPUDialect"];
}

def NLLowerVectorOps : Pass<"nl-lower-vector-ops"> {
  let summary = "Lower the register blocks' vector ops to FMAs and shuffles";
  let description = [{
    For the CPU, on buffers (the `loops` phase), with upstream patterns:
    the `vector.contract` of each register block
    (`nl-vectorize-register-tiles`) becomes outer products, then one
    `vector.fma` per row (`nl-contract-float-ops` makes those
    `llvm.intr.fmuladd`); `vector.transpose` (a tile of a transpose)
    becomes shuffles as `transpose-lowering` says. Not earlier:
    canonicalization would turn an accumulator's rows into lists of
    elements.
  }];
  let options = [
    Option<"transposeLowering", "transpose-lowering",
           "mlir::vector::VectorTransposeLowering",
           /*default=*/"mlir::vector::VectorTransposeLowering::Shuffle1D",
           "How tiles of transposes are lowered", [{::llvm::cl::values(
             clEnumValN(::mlir::vector::VectorTransposeLowering::EltWise,
                        "eltwise", "element by element"),
             clEnumValN(::mlir::vector::VectorTransposeLowering::Shuffle1D,
                        "shuffle1d", "one shuffle of the flattened tile"),
             clEnumValN(::mlir::vector::VectorTransposeLowering::Shuffle16x16,
                        "shuffle16x16",
                        "AVX-512 unpack/shuffle sequence for 16x16 floats "
                        "(other tiles element by element)"))}]>,
  ];
  let dependentDialects = ["mlir::vector::VectorDialect"];
}

def NLApproximateMath : Pass<"nl-approximate-math"> {
  let summary = "Inline polynomial approximations of float32 exp and erf";
  let description = [{
    For the CPU: `math.exp` and `math.erf` on float32 (sigmoids, SiLU,
    softmax, GELU) would become a libm call per element, which stops LLVM
    from vectorising the loops around them. This pass writes them as
    arithmetic instead, which LLVM vectorises with the rest of the loop:
    exp with MLIR's polynomial approximation
    (`populateMathPolynomialApproximationPatterns`, within 4e-7 relative of
    libm's), its results below FLT_MIN rescaled into the denormals as libm
    returns them; erf with piecewise polynomials evaluated in float64 and
    rounded once (within 2e-7 absolute; MLIR's float32 erf misses that), with
    libm's values at 0, -0, +-inf and NaN. Float64 keeps the libm calls.
    Accuracy over the float32 range: test/parity/test_approximate_math.py.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::math::MathDialect",
                           "mlir::vector::VectorDialect"];
}

def NLHeadParallelChunkLoops : Pass<"nl-head-parallel-chunk-loops"> {
  let summary = "Run a memory's chunk loop once per (batch, head), in parallel";
  let description = [{
    For the CPU, after `convert-linalg-to-parallel-loops` and before
    `nl-outer-parallel-loops`: a memory's chunk loop (an `scf.for` carrying
    `[batch, heads, ...]` buffers and the ownership flags of buffer
    deallocation) runs hundreds of small loop nests per chunk, each over
    (batch, head, ...). Every (batch, head) of them is independent, so the
    loop becomes one `scf.parallel` over (batch, head) with the whole chunk
    loop inside it: each nest keeps only its iterations at that (batch,
    head) (a guard, then its other dimensions), and each thread walks the
    chunks of its own heads with their states in its cache. One OpenMP
    region per loop instead of one per nest and chunk. The CUDA target
    forms its memory stages on the same independence (one thread block per
    (batch, head), `nl-cuda-form-kernels`).

    Each (batch, head) runs its own copy of the loop's scalar code and
    allocations (buffers of the full size, of which it touches its slice);
    at the end it copies its slice of each result into a buffer allocated
    before the parallel loop, which replaces the loop's result (owned: the
    loop's ownership flags become true), and frees its own result unless
    it is an initial state.

    The loop is rewritten only when this is exact (otherwise it is left as
    it is; `remarks` says why): every buffer that a nest writes, or whose
    contents flow between iterations (carried, yielded, the initial
    states), is touched only inside nests and there only at its (batch,
    head) dimensions equal to two of the nest's induction variables (from
    0, step 1; the same two for all buffers of a nest), through subviews,
    reshapes and casts that keep those dimensions: dimensions 0 and 1 for
    buffers of the caller and carried ones, any two (the same for all its
    accesses) for a temporary of the iteration; buffers written outside
    the nests are scratch allocated in the iteration; no nest has
    reductions; the only call is MLIR's `dealloc_helper`; every ownership
    flag starts false and every carried buffer the loop yields is one its
    iterations allocated (so no thread frees a buffer of the caller).
    Results are bitwise those of the serial loop: each element is computed
    by the same operations in the same order.
  }];
  let options = [
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "Report each chunk loop as a remark: rewritten, or why not">,
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect"];
}

def NLOuterParallelLoops : Pass<"nl-outer-parallel-loops"> {
  let summary = "Keep one level of parallel loops per loop nest, outside the vector loop";
  let description = [{
    For the CPU, after `convert-linalg-to-parallel-loops`: the outermost
    `scf.parallel` of each nest (batch, heads, tokens: the iterations that
    `convert-scf-to-openmp` shares among threads) stays parallel; parallel
    loops nested in it become `scf.for`, and so does the last dimension of a
    parallel loop with no loop inside, so that the innermost loop remains a
    plain unit-stride loop for LLVM's vectoriser (see
    `nl-vector-friendly-loop-order`). A one-dimensional innermost loop is
    serial: threads would split its vector.

    A parallel loop is worth its OpenMP region only when its work outweighs
    the region's fork, work sharing and join barrier (microseconds, more
    with more threads): a nest whose estimated work is below
    `min-parallel-work` becomes serial `scf.for` loops. The estimate is the
    number of operations the nest executes: each operation counts one, a
    loop its static trip count times its body (`scf.if`: its larger
    branch). A nest with a trip count not known at compile time (one over
    the tokens of a call) is assumed large and stays parallel. Why: the
    memories' chunk loops run hundreds of per-head loop nests of a few
    thousand operations per block of tokens; as OpenMP regions, each cost
    more than its work at one thread and more again at two.
  }];
  let options = [
    Option<"minParallelWork", "min-parallel-work", "int64_t",
           /*default=*/"65536",
           "Keep a loop nest parallel only if it executes at least this many "
           "operations (estimated from static trip counts; 0: every nest "
           "parallel)">,
  ];
  let dependentDialects = ["mlir::scf::SCFDialect"];
}

def NLParallelLoopsToOpenMP : Pass<"nl-parallel-loops-to-openmp",
                                   "mlir::ModuleOp"> {
  let summary = "Parallel loops as OpenMP regions that share out their own iterations";
  let description = [{
    For the CPU, at the end (before `convert-scf-to-openmp`, which then only
    sees the others): each outermost `scf.parallel` without reductions and
    without `memref.alloca` in its body becomes an `omp.parallel` whose
    threads each run one contiguous share of the iterations, every
    dimension collapsed into one range, in an `scf.for` (OpenMP's static
    schedule). A thread finds its share from `omp_get_thread_num()` and
    `omp_get_num_threads()`. (A body's allocas need a scope per iteration,
    which `omp.wsloop` gives and a lowered `scf.for` cannot hold.)

    Why not `omp.wsloop`: its static schedule calls the runtime's
    `__kmpc_for_static_init`, whose build in Debian's libomp (every
    `libomp5-N` of Debian 12, 14 to 19) has `KMP_DEBUG` on and formats two
    trace strings per call and thread whatever the trace level, and it ends
    in a barrier that the region's own join makes redundant. Here a region
    costs one fork and one join. Which thread runs which iterations does not
    change results: iterations write disjoint outputs.

    A nest whose trip counts are known only at run time (the batch of a
    memory's per-head step in a chunk loop) and whose iterations do less
    than `min-parallel-work` operations each (as `nl-outer-parallel-loops`
    estimates them) gets a `num_threads` clause: all threads
    (`omp_get_max_threads()`, asked once per call of the function, at its
    entry) when the iterations times that estimate reach
    `min-parallel-work`, else one, which runs the region without waking or
    waiting for the others.
  }];
  let options = [
    Option<"minParallelWork", "min-parallel-work", "int64_t",
           /*default=*/"65536",
           "Run a nest on one thread when it executes fewer operations than "
           "this (estimated at run time from its trip counts; 0: never)">,
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::func::FuncDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::omp::OpenMPDialect",
                           "mlir::scf::SCFDialect"];
}

#endif // NL_CODEGEN_CPU_PASSES_TD
