//===- Passes.td - code generation passes ------------------*- tablegen -*-===//
//
// The passes every target uses: the common phases down to linalg on tensors,
// helpers for backends after bufferization, and the artifact's ABI. Each
// backend declares its own passes beside it (CPU/Passes.td).
//
//===----------------------------------------------------------------------===//

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

    With `keep-stop-gradient`, `nl.stop_gradient` stays (for
    `nl-differentiate`, which must see the boundaries; running this pass
    again without the option lowers them to the identity).
  }];
  let options = [
    Option<"keepStopGradient", "keep-stop-gradient", "bool",
           /*default=*/"false",
           "Leave nl.stop_gradient in place (for nl-differentiate)">,
  ];
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

def NLLowerOptimizers : Pass<"nl-lower-optimizers"> {
  let summary = "Lower the optimizer levels to linalg and arith on tensors";
  let description = [{
    Rewrites the ops of the outer (training-step) levels exactly as the
    dialect reference defines them, so that they go through every target's
    pipeline like the rest of the model:
    - `nl.clip_grad_norm`: one float64 sum of squares per gradient, one
      norm (the op's `total_norm`, not computed when unused and not
      clipping), one scale factor `min(1, max_norm / (norm + 1e-6))` for
      all of them (none without `max_norm`);
    - `nl.lr_schedule`: scalar float64 arithmetic on the step count (linear
      warm-up, cosine decay), rounded once to the rate's type;
    - `nl.moment`: `S <- decay S + scale (g + wd W)^power`, element-wise; a
      moment updated every f > 1 steps adds to its pending sum every step
      and selects, at steps that are multiples of f, the update and a zero
      sum;
    - `nl.param_update`: SGD momentum `W + r m`; AdamW with its bias
      corrections from the step count and decoupled weight decay (as
      `torch.optim.AdamW`: `W (1 - r wd) - (r / bc1) m / (sqrt(v) /
      sqrt(bc2) + eps)`); Muon `W - r NS5(m)`; M3
      `W - r (NS5(M1) + alpha NS5(M2)) / (sqrt(V) + eps)`, with `r` the
      rule's lr times the `lr(...)` operand. NS5 is five quintic
      Newton-Schulz steps (3.4445, -4.7750, 2.0315) on `m / (||m||_F +
      1e-7)`, on the transpose when the matrix has more rows than columns,
      as three contractions per step. A group updated every f > 1 steps
      selects, element-wise, the rule's result at multiples of f and the
      parameter otherwise (the rule is computed every step).
    Scalars (bias corrections, rates, norms, the clipping factor) are
    one-element tensors computed in float64 by linalg.generic ops (one loop
    of one trip) and rounded once to the tensors' element type; they reach the element-wise
    updates as broadcast inputs, and the step count reaches the periodic
    selects the same way: no value is extracted from a tensor outside a
    linalg op. (The CUDA backend does not yet form kernels from one-trip
    loops and whole-tensor reductions, so optimizer levels compile for the
    CPU targets only today.)

    Muon and M3 need parameters of static shape (an error at the op
    otherwise). A training step (`hope-compile --train`, `hope-models
    optimizer-step`) emits these ops; the `linalg` phase runs this pass
    before `nl-lower-blocks-to-linalg`.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::linalg::LinalgDialect",
    "mlir::math::MathDialect", "mlir::scf::SCFDialect",
    "mlir::tensor::TensorDialect"];
}

//===----------------------------------------------------------------------===//
// Training (docs/training.md, "The training step")
//===----------------------------------------------------------------------===//

def NLBuildTrainStep : Pass<"nl-build-train-step", "mlir::ModuleOp"> {
  let summary = "Add the train_step entry point: loss, its VJP, the optimizer levels";
  let description = [{
    Adds the public function `train_step` of docs/artifact-abi.md
    ("Training entry point") for the entry point `forward`:
    1. a loss function: the forward, then the mean cross-entropy of its
       logits `[B, T, V]` against `targets` (i64 `[B, T]`, negative targets
       ignored; log-softmax with the row maximum behind `nl.stop_gradient`:
       the derivative of logsumexp in the maximum cancels exactly) when the
       forward takes i64 tokens, else the mean squared error of its output
       against `targets` of the output's shape;
    2. its VJP (`nl-differentiate`, run by this pass), seeded with 1.0 and
       inlined into `train_step`: the gradient of every weight;
    3. the optimizer levels (`nl.clip_grad_norm`, `nl.lr_schedule`,
       `nl.moment`, `nl.param_update`; dialect/include/nl/IR/
       OptimizerLevels.h), lowered later by `nl-lower-optimizers`; the
       output `grad_norm` (the gradients' global L2 norm before clipping)
       is `nl.clip_grad_norm`'s norm, emitted without `max_norm` when
       clipping is off: one computation either way;
    4. every updated parameter and optimizer state written into its
       argument's buffer (`bufferization.materialize_in_destination` into
       the argument's memref): train_step updates its weights in place.
    Arguments: the forward's inputs, `targets`, `lr` (0-D, the weights'
    element type), `step` (0-D i64, from 1), the forward's weights, then the
    optimizer states `<weight>.<optimizer>_<state>`; results `loss` and
    `grad_norm`. The manifest (`nl.manifest`, from
    `nl-prepare-entry-points`) gains the entry point, its weights and states
    marked `"updated": true`, and the options as `"train"`.

    Runs on tensors after `nl-lower-memories` and
    `nl-lower-blocks-to-linalg{keep-stop-gradient}` (`hope-compile
    --train`): every memory's inner update is then linalg, so the VJP
    includes the second-order terms.
  }];
  let options = [
    Option<"forward", "forward", "std::string", /*default=*/"\"\"",
           "The entry point to train (default: the module's only one)">,
    Option<"optimizer", "optimizer", "std::string", /*default=*/"\"adamw\"",
           "sgd, adamw, muon or m3">,
    Option<"weightDecay", "weight-decay", "double", /*default=*/"0.01",
           "Weight decay (decoupled for AdamW, Muon and M3; L2 for SGD)">,
    Option<"momentum", "momentum", "double", /*default=*/"0.9",
           "SGD's and Muon's momentum">,
    Option<"beta1", "beta1", "double", /*default=*/"0.9",
           "AdamW's first-moment decay (also the AdamW part of Muon and M3)">,
    Option<"beta2", "beta2", "double", /*default=*/"0.999",
           "AdamW's second-moment decay">,
    Option<"eps", "eps", "double", /*default=*/"1e-8",
           "AdamW's and M3's denominator epsilon">,
    Option<"m3Beta1", "m3-beta1", "double", /*default=*/"0.9",
           "M3: M1 <- M1 + m3-beta1 g">,
    Option<"m3Beta2", "m3-beta2", "double", /*default=*/"0.999",
           "M3: V <- V + m3-beta2 g^2">,
    Option<"m3Beta3", "m3-beta3", "double", /*default=*/"0.5",
           "M3: M2 <- M2 + m3-beta3 (sum of g), every m3-every steps">,
    Option<"m3Alpha", "m3-alpha", "double", /*default=*/"0.5",
           "M3: the weight of NS5(M2) in the step">,
    Option<"m3Every", "m3-every", "int64_t", /*default=*/"4",
           "M3: the slow moment's period, in steps">,
    Option<"clip", "clip", "double", /*default=*/"1.0",
           "Maximum global L2 norm of the gradients (0: no clipping)">,
    Option<"warmup", "warmup", "int64_t", /*default=*/"0",
           "Steps of linear learning-rate warm-up">,
    Option<"totalSteps", "total-steps", "int64_t", /*default=*/"0",
           "Step at which the cosine decay ends (0: constant rate after the "
           "warm-up)">,
    Option<"minLrRatio", "min-lr-ratio", "double", /*default=*/"0.1",
           "The rate at total-steps, as a fraction of the base rate">,
  ];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::bufferization::BufferizationDialect",
    "mlir::linalg::LinalgDialect", "mlir::math::MathDialect",
    "mlir::scf::SCFDialect", "mlir::tensor::TensorDialect",
    "mlir::func::FuncDialect"];
}

def NLBuildTestTimeLearning : Pass<"nl-build-test-time-learning",
                                   "mlir::ModuleOp"> {
  let summary = "CMS test-time learning: a token loop with each CMS block's "
                "task-loss update";
  let description = [{
    For every function with a CMS op whose blocks learn (semantics section 3;
    docs/training.md, "CMS test-time learning"): the function (a streaming
    entry point from i64 tokens `[B, T]` to logits `[B, T, V]`, after
    `nl-lower-memories`) becomes a loop over its tokens. Each iteration runs
    the function on one token with the blocks frozen at their current
    parameters, and the VJP (`nl-differentiate`, run by this pass) of that
    token's loss with respect to the blocks' parameters: every other state
    is an input of the per-token function, so it is held fixed. The loss is
    the next-token cross-entropy (`signal = task`) or the sum of the blocks'
    `local_objective` (`signal = local`): block l's MLP branch
    `W_out s(W_in RMSNorm(x_l))` regressed on its own input `x_l`, the input
    a stop-gradient. The learning ops of a function share one signal. The
    gradients are summed in the state `<param>.grad_sum`; when position
    t + 1 is a multiple of a block's chunk C and the loss of t is known,
    `param -= lr * sum` and the sum restarts.

    The cross-entropy of a piece's last token needs the next piece's first
    token: with `signal = task` the states a piece returns are those before
    its last token (`cms_last_token`, -1 before the first piece), which the
    next piece recomputes; a local objective needs no later token, and the
    states advance past every token. Splitting a sequence anywhere gives the
    one-shot result.

    The nested CMS (each block's chunk a multiple of the previous block's,
    larger): block l < K - 1 also has its meta-learnt initial state
    `<param>.initial` and `<param>.initial_grad_sum`, the sum of its
    gradients since block l + 1's last boundary. At each boundary of block
    l + 1, `initial -= lr[l + 1] * initial_grad_sum` (the first-order
    meta-gradient), then block l restarts from it: `param = initial`, both
    sums zero.

    The blocks' parameters must be state arguments, with `<param>.grad_sum`,
    `position` and (task) `cms_last_token` (i64 [B, 1]), each returned under
    its name (`hope-models hope-lm --streaming --cms-learning=LR
    [--cms-signal=local]`). Reads the names from the manifest
    (`nl-prepare-entry-points`). The independent CMS's mixing weights are
    not learnt at test time.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::linalg::LinalgDialect",
    "mlir::math::MathDialect", "mlir::scf::SCFDialect",
    "mlir::tensor::TensorDialect", "mlir::func::FuncDialect"];
}

//===----------------------------------------------------------------------===//
// Helpers for the backends' phases
//===----------------------------------------------------------------------===//

def NLFuseElementwise : Pass<"nl-fuse-elementwise"> {
  let summary = "Fuse elementwise producers into their consumers, without "
                "recomputation";
  let description = [{
    On tensors, a `linalg` op whose loops are all parallel and whose result
    has one use is fused into the op that uses it (upstream's elementwise
    fusion patterns), so a chain of elementwise ops, and the elementwise
    producers and consumers of a contraction, become one loop nest: one
    kernel and one pass over memory on a GPU instead of one per op, with no
    intermediate buffer.

    Only where nothing is computed twice: the consumer must read the
    producer's result through a permutation of all its loops (every element
    read by exactly one iteration). A producer read through a broadcast or
    by a contraction's operand (e.g. `silu(x)` feeding a matmul, read once
    per output column) stays a separate op, as fusing it would repeat its
    work for every element that reads it.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
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

def NLRouteAllocations : Pass<"nl-route-allocations", "mlir::ModuleOp"> {
  let summary = "Allocate every buffer through the runtime's service table";
  let description = [{
    After lowering to the LLVM dialect with
    `finalize-memref-to-llvm{use-generic-functions=true}`: appends a
    `!llvm.ptr` argument marked `nl.services` (the `hope_services` table of
    runtime/include/hope/artifact.h) to every function defined in the module,
    passes it on at every call of such a function, and replaces each call of
    MLIR's generic allocation functions (`_mlir_memref_to_llvm_alloc`,
    `_mlir_memref_to_llvm_aligned_alloc`, `_mlir_memref_to_llvm_free`) by a
    call through the table: `services->alloc(services->context, bytes,
    alignment)` and `services->free(services->context, pointer)`.

    So the artifact calls no symbol of the runtime, every byte it allocates
    (outputs too) comes from the allocator of the session that called it, and
    concurrent calls share no state: the table reaches the parallel loops'
    bodies as a value of their function. A call of `malloc`, `free` or
    `aligned_alloc` left in a function is an error: it would bypass the
    table. See docs/artifact-abi.md.

    With `device=true` (the host code of GPU targets, whose buffers all live
    on the device) the generic functions become the table's `device_alloc`
    and `device_free` (version 2) instead.
  }];
  let options = [
    Option<"device", "device", "bool", /*default=*/"false",
           "Allocate device memory (device_alloc, device_free) instead of "
           "host memory (alloc, free)">,
  ];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

def NLEmitEntryABI : Pass<"nl-emit-entry-abi", "mlir::ModuleOp"> {
  let summary = "Emit the artifact's exported symbols in the LLVM dialect";
  let description = [{
    After `nl-route-allocations`: for each entry point `E` (a function with a
    `_mlir_ciface_E` interface) emits `int32_t hope_entry_E(void **args,
    const hope_services *services)` (inputs, then outputs, as pointers to
    memref descriptors; the runtime's service table), which first runs
    `E.preconditions` when `nl-outline-preconditions` made one and returns
    the number of the failed precondition (0: success), and the
    `hope_manifest` string: the `nl.manifest` module attribute with the
    `target` object made from the `nl.target` module attribute (the facts
    the target backend recorded) and the service table version the artifact
    needs. See docs/artifact-abi.md.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

#endif // NL_CODEGEN_PASSES_TD
