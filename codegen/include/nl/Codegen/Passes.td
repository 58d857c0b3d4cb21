//===- Passes.td - code generation passes ------------------*- tablegen -*-===//

#ifndef NL_CODEGEN_PASSES_TD
#define NL_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// nl -> linalg on tensors
//===----------------------------------------------------------------------===//

def NLLowerBlocksToLinalg : Pass<"nl-lower-blocks-to-linalg"> {
  let summary = "Lower the nl building-block ops to linalg on tensors";
  let description = [{
    Rewrites the ops around the memories (`nl.linear`, `nl.split_heads`,
    `nl.merge_heads`, `nl.rms_norm`, `nl.l2_normalize`, `nl.activation`,
    `nl.rate`, `nl.causal_conv`, `nl.chunk_pool`, `nl.stop_gradient`) into
    `linalg.generic`, `linalg.transpose` and `tensor` reshapes, exactly as the
    dialect reference defines them, as well as `nl.embedding`, `nl.gate`,
    `nl.sequence_tail`, `nl.causal_attention` and frozen `nl.cms` chains.
    Dynamic sizes are carried with `tensor.dim`.

    The nl dialect is illegal after it: any nl op left but
    `nl.precondition` (which `nl-outline-preconditions` moves out) is an
    error at its location, one for the first such op.
  }];
  let dependentDialects = [
    "mlir::affine::AffineDialect", "mlir::arith::ArithDialect",
    "mlir::linalg::LinalgDialect", "mlir::math::MathDialect",
    "mlir::tensor::TensorDialect"];
}

def NLLowerMemories : Pass<"nl-lower-memories"> {
  let summary = "Lower the memories of each function to their chunk-parallel form";
  let description = [{
    Replaces the `nl.memory` ops of a function with their `nl.update`,
    `nl.read` and `nl.final_state` ops by `scf.for` loops over blocks of G
    tokens. Memories share a loop unless one learns from another's reads
    through an op that mixes tokens (a convolution, a CMS, a chunk mean: the
    next block of a model); then it goes to a later loop, which sees the
    earlier one's whole-sequence results. G is the gcd of the loop's
    memories' chunk sizes (for a lone memory, its chunk: ceil(T/C) trips).
    The loop carries every memory's
    state, momentum, the state at its last chunk boundary (the reference of
    its gradients and its reads) and, for the chunk-aggregated variant, the
    gradient sum of its current chunk. Per block and memory, the model's
    forward and backward at the reference state are batched over all the
    block's tokens (contractions over batch, heads and tokens); momentum GD
    applies the block's updates in closed form (coefficients from one reverse
    scan over the rates, then one contraction over tokens per parameter), DGD
    applies its rank-1 term (and its momentum) token by token inside the
    block, and the
    chunk-aggregated variant updates once per complete chunk.

    Ops computed from memory reads that feed an update (self-modifying
    Titans: keys, values and rates read from other memories at the chunk
    start, self-generated targets) are cloned into the loop and evaluated per
    block, on demand: a memory is updated for the block before any `after`
    read of it, which the level order makes possible. Values the rest of the
    function uses are assembled into whole-sequence tensors. The result
    equals the token-by-token recurrence of the semantics up to rounding
    (test/parity).

    Not yet compiled (each is a clear error at the op): momentum of order
    above 1, the Newton-Schulz output, MLP memories with
    `norm = pre`, ops that mix tokens (convolutions, chunk means) between a
    memory read and an update.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::linalg::LinalgDialect",
    "mlir::math::MathDialect", "mlir::scf::SCFDialect",
    "mlir::tensor::TensorDialect"];
}

def NLMemrefCopyToLinalg : Pass<"nl-memref-copy-to-linalg"> {
  let summary = "Rewrite memref.copy as linalg.copy";
  let description = [{
    Copies between strided buffers (slices of the chunk loop's state and
    outputs) would otherwise become calls to MLIR's `memrefCopy` runtime
    function, which an artifact must not depend on; as `linalg.copy` they
    lower to loops like every other linalg op.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

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
       a time. The block op carries the unit attribute `nl.register_tile`
       for `nl-vectorize-register-tiles`, which keeps its output block in
       registers across the `k` loop. Partial row and column blocks are
       peeled off (`scf::peelForLoopAndSimplifyBounds`) so that full blocks
       have static shapes; the partial ones stay scalar loops.

    The reduction loop is innermost at every level, so each element still
    sums over `k` in increasing order: results are bitwise those of the
    untiled loops.

    A `linalg.transpose` that moves the input's contiguous dimension (the
    weights and memory states `nl-vector-friendly-loop-order` transposes)
    would read or write with a stride in its inner loop. When both
    dimensions it swaps into and out of last place are static multiples of
    one vector (`vector-bytes` / element size), it is tiled into squares of
    that side, in an `scf.forall`, each marked `nl.register_tile`: whole
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
                           "mlir::affine::AffineDialect"];
}

def NLVectorizeRegisterTiles : Pass<"nl-vectorize-register-tiles"> {
  let summary = "Vectorise register blocks of contractions, accumulators in registers";
  let description = [{
    For the CPU, on linalg on tensors after `nl-tile-contractions` and
    canonicalization: every `linalg.generic` marked `nl.register_tile` whose
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
                           "mlir::tensor::TensorDialect"];
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
    from vectorising the loops around them. MLIR's polynomial
    approximations (`populateMathPolynomialApproximationPatterns`) write
    them as arithmetic instead (exp within a few ulp of libm's, erf within
    about 1e-7 absolute), which LLVM vectorises with the rest of the loop.
    Float64 keeps the libm calls.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::vector::VectorDialect"];
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
  }];
  let dependentDialects = ["mlir::scf::SCFDialect"];
}

def NLContractFloatOps : Pass<"nl-contract-float-ops"> {
  let summary = "Allow a * b + c to become one fused multiply-add";
  let description = [{
    Adds the `contract` fast-math flag to every floating-point arith op and
    rewrites `a * b + c`, whose product has no other use, as
    `llvm.intr.fmuladd`, as C compilers do within an expression
    (-ffp-contract=on): LLVM makes it one FMA where the target has one (a
    multiply and an add elsewhere) and vectorises it like other arithmetic.
    One-dimensional `vector.fma` (the register blocks, after
    `nl-lower-vector-ops`) becomes `llvm.intr.fmuladd` too: the same
    fused operation where the CPU has FMA, and a multiply and an add rather
    than a libm call per element where it does not.
    No other fast-math assumption is made (no reassociation, no finite-math),
    so results stay within rounding of the unfused ones.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

//===----------------------------------------------------------------------===//
// The artifact's ABI
//===----------------------------------------------------------------------===//

def NLPrepareEntryPoints : Pass<"nl-prepare-entry-points", "mlir::ModuleOp"> {
  let summary = "Mark entry points and record the artifact manifest";
  let description = [{
    Every public function of the module becomes an entry point of the
    artifact: it gets `llvm.emit_c_interface`, and the manifest
    (docs/artifact-abi.md) describing every entry point's inputs and outputs
    (names from the `nl.input`, `nl.weight`, `nl.state` and `nl.output`
    argument and result attributes, dtypes, shapes with dynamic sizes named
    after the first input that has them) is stored as the module attribute
    `nl.manifest`. Run it on nl IR, before any lowering, so that names and
    roles are still those of the model. The target is not part of it yet:
    `nl-emit-entry-abi` adds the module's `nl.target` facts.
  }];
  let options = [
    Option<"modelName", "model", "std::string", /*default=*/"\"model\"",
           "Model name recorded in the manifest">,
  ];
}

def NLOutlinePreconditions : Pass<"nl-outline-preconditions",
                                  "mlir::ModuleOp"> {
  let summary = "Move each entry point's preconditions into a check it runs first";
  let description = [{
    For every entry point `E` with `nl.precondition` ops: clones each
    condition, with the side-effect-free computation from the arguments it
    depends on (`tensor.dim`, `tensor.extract`, `arith`, a reduction over an
    argument), into a new function
    `E.preconditions` that takes `E`'s arguments and returns an `i32`: 0 when
    every condition holds, else the 1-based number of the first that fails.
    The preconditions are erased from `E`, and the manifest's entry point
    lists them (`preconditions`, each a message and the inputs
    the condition reads) so that the runtime can report a
    failed check by its message. `nl-emit-entry-abi` makes `hope_entry_E` run
    the check before the body (docs/artifact-abi.md).

    Run it on tensors after the ops around the memories are lowered and
    shapes canonicalised, so that conditions read the arguments directly; a
    condition that depends on an op with side effects is an error.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::func::FuncDialect"];
}

def NLEmitEntryABI : Pass<"nl-emit-entry-abi", "mlir::ModuleOp"> {
  let summary = "Emit the artifact's exported symbols in the LLVM dialect";
  let description = [{
    After lowering to the LLVM dialect: for each entry point `E` (a function
    with a `_mlir_ciface_E` interface) emits `int32_t hope_entry_E(void
    **args)` (inputs, then outputs, as pointers to memref descriptors), which
    first runs `E.preconditions` when `nl-outline-preconditions` made one and
    returns the number of the failed precondition (0: success), the
    `hope_manifest` string: the `nl.manifest` module attribute with the
    `target` object made from the `nl.target` module attribute (the facts
    the target backend recorded), and `hope_free`. See docs/artifact-abi.md.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

#endif // NL_CODEGEN_PASSES_TD
