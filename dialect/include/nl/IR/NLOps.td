//===- NLOps.td - operations of the nl dialect -------------*- tablegen -*-===//

#ifndef NL_OPS_TD
#define NL_OPS_TD

include "nl/IR/NLDialect.td"
include "nl/IR/NLAttrs.td"
include "nl/IR/NLEnums.td"
include "nl/IR/NLInterfaces.td"
include "nl/IR/NLTypes.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def NL_ModelAttr : AnyAttrOf<[NL_LinearModelAttr, NL_MLPModelAttr]>;
def NL_ObjectiveAttr : AnyAttrOf<[NL_L2ObjectiveAttr, NL_DotObjectiveAttr]>;
def NL_RuleAttr : AnyAttrOf<[NL_MomentumGDAttr, NL_DGDAttr]>;
def NL_OptimizerRuleAttr : AnyAttrOf<[NL_SGDMomentumRuleAttr, NL_AdamWRuleAttr,
                                      NL_MuonRuleAttr, NL_M3RuleAttr]>;
def NL_FloatTensor : RankedTensorOf<[AnyFloat]>;

// Computes each token's result from that token's operands alone (the
// per-token dataflow of section 1 of the semantics). A chunk loop may then
// evaluate the op on a block of tokens, and a path through such ops does not
// make one memory wait for another's whole sequence (nl-lower-memories'
// stages). A read is token-local: its result at token t is the memory's state
// applied to the query at t. Elementwise ops are token-local too
// (nl::isTokenLocal).
def NL_TokenLocal : NativeOpTrait<"TokenLocal"> {
  let cppNamespace = "::mlir::OpTrait::nl";
}
def NL_StepCount : 0DTensorOf<[I64]>;

//===----------------------------------------------------------------------===//
// Associative memories
//===----------------------------------------------------------------------===//

def NL_MemoryOp : NL_Op<"memory", [AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<NL_ComponentOpInterface>]> {
  let summary = "declare an associative memory level";
  let description = [{
    Creates a memory: a model `M_theta` (`#nl.linear` or `#nl.mlp<...>`) whose
    state `theta` learns while the sequence is read, by the learning `rule`
    (`#nl.momentum_gd<...>` or `#nl.dgd<...>`) on the inner `objective`
    (`#nl.l2<...>` or `#nl.dot`), once every `every` tokens (the chunk size
    `C`). Every gradient of a chunk is taken at the state of the chunk's
    start. With `chunk_aggregated`, the memory makes one update per chunk
    instead (titans-pytorch's form); DGD is not defined for that variant.

    `init` gives the initial state, one tensor per state parameter in the
    order the model defines (see `#nl.mlp`), each either per head
    (`[H, ...]`, shared by the batch) or per sequence (`[B, H, ...]`, e.g. a
    state carried over from an earlier call). After the parameters may come
    the initial momentum buffers, one per parameter and per momentum order
    (absent: zero).

    The memory learns from at most one `nl.update`; without one it is a
    fixed model.

    **Streaming.** A sequence may arrive in pieces. `position` is the number
    of its tokens earlier calls processed (default 0): chunk boundaries stay
    at multiples of C counted from the sequence's start. A piece that starts
    inside a chunk also needs `reference`, the state at the memory's last
    chunk boundary (per sequence, one tensor per state parameter; for the
    chunk-aggregated variant the linearisation reference), and, for the
    chunk-aggregated variant, `pending`, the gradient sum of the unfinished
    chunk. `nl.stream_state` returns all of these after the piece, so that
    calls on every split of a sequence equal one call on all of it.

    ```mlir
    %mk = nl.memory "M_k" init(%w1, %w2 : tensor<8x64x64xf32>, tensor<8x64x64xf32>) {
        every = #nl.every<8 tokens>,
        model = #nl.mlp<hidden = 64, activation = silu, residual = identity>,
        objective = #nl.l2<>, rule = #nl.dgd<>} : !nl.memory<8 heads, 64 -> 64, f32>
    ```
  }];
  let arguments = (ins StrAttr:$name, NL_EveryAttr:$every, NL_ModelAttr:$model,
                       NL_ObjectiveAttr:$objective, NL_RuleAttr:$rule,
                       OptionalAttr<NL_ChunkAggregatedAttr>:$chunk_aggregated,
                       Variadic<NL_FloatTensor>:$init,
                       Variadic<NL_FloatTensor>:$reference,
                       Variadic<NL_FloatTensor>:$pending,
                       Optional<NL_StepCount>:$position);
  let results = (outs NL_MemoryType:$memory);
  let assemblyFormat = [{
    $name `init` `(` $init `:` type($init) `)`
    (`reference` `(` $reference^ `:` type($reference) `)`)?
    (`pending` `(` $pending^ `:` type($pending) `)`)?
    (`position` `(` $position^ `:` type($position) `)`)?
    attr-dict `:` qualified(type($memory))
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Number of momentum buffers per state parameter the rule keeps.
    int64_t getMomentumOrder();
    /// The state parameters' names and per-head shapes (#nl.linear, #nl.mlp).
    ::llvm::SmallVector<::mlir::nl::MemoryStateParam> getStateLayout();
    /// Per-head shapes of the state parameters (without batch and heads).
    ::llvm::SmallVector<::llvm::SmallVector<int64_t>> getStateShapes();
    /// The nl.update that teaches this memory, if any.
    UpdateOp getUpdate();
    /// Whether each rate of the rule changes per token or per chunk (DGD's
    /// momentum rate is per token).
    RateGranularity getLrGranularity();
    RateGranularity getRetentionGranularity();
    RateGranularity getMomentumGranularity();
  }];
}

def NL_UpdateOp : NL_Op<"update", [AttrSizedOperandSegments]> {
  let summary = "how a memory learns from every token";
  let description = [{
    Declares the learning signal of `memory`: at token t the inner objective
    is `l(theta_{r(t)}; k_t, v_t)` with key `keys[b, h, t]` and target
    `values[b, h, t]`, learning rate `lr`, optional retention `retention`
    (`alpha`; absent means 1) and one `momentum` rate (`beta`) per momentum
    order. Rates are `[B, H, T]` or, where the rule says `chunk`,
    `[B, H, ceil(T/C)]`.

    The op has no result: it is the memory's declaration of what it learns,
    not a point in time. Targets may come from reads of the same memory
    (self-generated values).

    ```mlir
    nl.update %mk keys(%k) values(%vhat) lr(%eta) retention(%alpha)
        : !nl.memory<8 heads, 64 -> 64, f32>, tensor<?x8x?x64xf32>,
          tensor<?x8x?x64xf32>, tensor<?x8x?xf32>, tensor<?x8x?xf32>
    ```
  }];
  let arguments = (ins NL_MemoryType:$memory, NL_FloatTensor:$keys,
                       NL_FloatTensor:$values, NL_FloatTensor:$lr,
                       Optional<NL_FloatTensor>:$retention,
                       Variadic<NL_FloatTensor>:$momentum);
  let assemblyFormat = [{
    $memory `keys` `(` $keys `)` `values` `(` $values `)` `lr` `(` $lr `)`
    (`retention` `(` $retention^ `)`)? (`momentum` `(` $momentum^ `)`)?
    attr-dict `:` type(operands)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    MemoryOp getMemoryOp();
  }];
}

def NL_ReadOp : NL_Op<"read", [Pure, NL_TokenLocal,
    InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<NL_StateReaderOpInterface>]> {
  let summary = "apply a memory to queries at a read point";
  let description = [{
    `y[b, h, t] = M_theta(query[b, h, t])` with the state the read point
    names: `after` sees every update complete at or before token t
    (`theta_{C floor(t/C)}`), `chunk_start` sees the state at the start of
    t's chunk (`theta_{C floor((t-1)/C)}`).

    ```mlir
    %k = nl.read %mk(%x) at chunk_start : !nl.memory<8 heads, 64 -> 64, f32>, tensor<?x8x?x64xf32>
    ```
  }];
  let arguments = (ins NL_MemoryType:$memory, NL_FloatTensor:$query,
                       EnumProp<NL_ReadPoint>:$point);
  let results = (outs NL_FloatTensor:$result);
  let assemblyFormat = [{
    $memory `(` $query `)` `at` $point attr-dict `:` qualified(type($memory)) `,` type($query)
  }];
}

def NL_FinalStateOp : NL_Op<"final_state", [Pure,
    DeclareOpInterfaceMethods<NL_StateReaderOpInterface>]> {
  let summary = "the state of a memory after the last token";
  let description = [{
    Returns the state parameters `[B, H, ...]` after the whole sequence, and
    then, if asked for, the momentum buffers: what a streaming caller passes
    as `init` of the next call.

    ```mlir
    %w1, %w2 = nl.final_state %mk : !nl.memory<8 heads, 64 -> 64, f32>
        -> tensor<?x8x64x64xf32>, tensor<?x8x64x64xf32>
    ```
  }];
  let arguments = (ins NL_MemoryType:$memory);
  let results = (outs Variadic<NL_FloatTensor>:$states);
  let assemblyFormat = "$memory attr-dict `:` qualified(type($memory)) `->` type($states)";
  let hasVerifier = 1;
}

def NL_StreamStateOp : NL_Op<"stream_state", [Pure, AttrSizedResultSegments,
    DeclareOpInterfaceMethods<NL_StateReaderOpInterface>]> {
  let summary = "what a streaming memory carries to the next piece";
  let description = [{
    Beyond `nl.final_state`: the state at the memory's last chunk boundary
    (`reference`, one tensor per state parameter, `[B, H, ...]`), for the
    chunk-aggregated variant the gradient sum of the unfinished chunk
    (`pending`), and the position after this piece (`position`). Passed to
    the next piece's `nl.memory` with the final state as `init`.

    ```mlir
    %ref:2, %pos = nl.stream_state %m : !nl.memory<8 heads, 64 -> 64, f32>
        -> reference(tensor<?x8x64x64xf32>, tensor<?x8x64x64xf32>) position tensor<i64>
    ```
  }];
  let arguments = (ins NL_MemoryType:$memory);
  let results = (outs Variadic<NL_FloatTensor>:$reference,
                      Variadic<NL_FloatTensor>:$pending,
                      NL_StepCount:$position);
  let assemblyFormat = [{
    $memory attr-dict `:` qualified(type($memory)) `->` `reference` `(`
    type($reference) `)` (`pending` `(` type($pending)^ `)`)? `position`
    type($position)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Continuum Memory System
//===----------------------------------------------------------------------===//

def NL_CMSOp : NL_Op<"cms", [
    AllTypesMatch<["input", "result"]>,
    DeclareOpInterfaceMethods<NL_ComponentOpInterface, ["getInternalDependences"]>,
    DeclareOpInterfaceMethods<NL_StateReaderOpInterface>]> {
  let summary = "a Continuum Memory System chain of MLP blocks";
  let description = [{
    K MLP blocks `block_l(x) = x + W_out s(W_in RMSNorm(x))`, block l updated
    every `chunks[l]` tokens. `variant` combines them: `sequential`
    (`block_K(... block_1(x))`), `independent` (`sum_l w_l block_l(x)`, the
    last parameter being `w : [K]`) or `nested` (sequential, and the slower
    block meta-learns the faster block's initial state, resetting it at each
    of its own boundaries). `signal` says what the blocks learn from: `none`
    (frozen MLPs), `task` (the task loss, with `lr[l]` per block) or `local`
    (`local_objective` with the block's input as key and target).

    Parameters, per block: the norm scale `[D]`, `W_in : [hidden_l, D]`,
    `W_out : [D, hidden_l]`.

    ```mlir
    %y = nl.cms "cms" %x params(%n0, %wi0, %wo0 : tensor<512xf32>, tensor<2048x512xf32>, tensor<512x2048xf32>)
        {chunks = array<i64: 1>, variant = #nl.cms_variant<sequential>,
         signal = #nl.cms_signal<none>, activation = #nl.activation<silu>}
        : tensor<?x?x512xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, NL_FloatTensor:$input,
                       Variadic<NL_FloatTensor>:$params,
                       DenseI64ArrayAttr:$chunks, NL_CmsVariantAttr:$variant,
                       NL_CmsSignalAttr:$signal, NL_ActivationAttr:$activation,
                       DefaultValuedAttr<F64Attr, "1.0e-6">:$epsilon,
                       OptionalAttr<DenseF64ArrayAttr>:$lr,
                       OptionalAttr<NL_ObjectiveAttr>:$local_objective);
  let results = (outs NL_FloatTensor:$result);
  let assemblyFormat = [{
    $name $input `params` `(` $params `:` type($params) `)` attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Optimizer levels
//===----------------------------------------------------------------------===//

def NL_MomentOp : NL_Op<"moment", [Pure, AttrSizedOperandSegments,
    AllTypesMatch<["state", "input", "new_state"]>,
    OptionalTypesMatchWith<"pending sum matches the state", "state", "pending", "$_self">,
    OptionalTypesMatchWith<"new pending sum matches the state", "state", "new_pending", "$_self">,
    OptionalTypesMatchWith<"decayed parameter matches the state", "state", "param", "$_self">,
    DeclareOpInterfaceMethods<NL_ComponentOpInterface>,
    DeclareOpInterfaceMethods<NL_StateReaderOpInterface>]> {
  let summary = "an optimizer memory: S <- decay S + scale g^power";
  let description = [{
    One training step of an optimizer level that compresses the gradient
    `input`: momentum (`decay = alpha, scale = -eta`), Adam's moments
    (`scale = 1 - beta`, `power = 2` for the second), M3's momenta. An optimizer
    memory that updates every `f > 1` steps sums its input between updates in
    `pending` and needs the step count `step` (starting at 1) to know when to
    update: every step `P <- pending + g^power`; at steps that are multiples
    of f, `S <- decay S + scale * P` and the sum restarts (`new_pending = 0`),
    otherwise `S` is unchanged and `new_pending = P`.

    Coupled (L2) weight decay, `torch.optim.SGD`'s `weight_decay`: with
    `l2(%W)` and `weight_decay = wd != 0`, the moment compresses
    `g + wd W` instead of `g` (the gradient of the loss plus
    `wd/2 ||W||^2`), before the power. AdamW's decay is decoupled and belongs
    to its rule instead.

    ```mlir
    %m1 = nl.moment "W.m" %m, %g {every = #nl.every<1 steps>, decay = 0.9, scale = 0.1} : tensor<64x64xf32>
    %b1 = nl.moment "W.buf" %b, %g l2(%w) {every = #nl.every<1 steps>, decay = 0.9, scale = -1.0, weight_decay = 1.0e-4} : tensor<64x64xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, NL_EveryAttr:$every, F64Attr:$decay,
                       F64Attr:$scale, DefaultValuedAttr<I64Attr, "1">:$power,
                       DefaultValuedAttr<F64Attr, "0.0">:$weight_decay,
                       NL_FloatTensor:$state, NL_FloatTensor:$input,
                       Optional<NL_FloatTensor>:$pending,
                       Optional<NL_StepCount>:$step,
                       Optional<NL_FloatTensor>:$param);
  let results = (outs NL_FloatTensor:$new_state,
                      Optional<NL_FloatTensor>:$new_pending);
  let assemblyFormat = [{
    $name $state `,` $input (`pending` `(` $pending^ `)`)?
    (`step` `(` $step^ `:` type($step) `)`)? (`l2` `(` $param^ `)`)?
    attr-dict `:` type($state) (`,` type($new_pending)^)?
  }];
  let hasVerifier = 1;
}

def NL_LearningRate : 0DTensorOf<[AnyFloat]>;

def NL_ParamUpdateOp : NL_Op<"param_update", [Pure, AttrSizedOperandSegments,
    AllTypesMatch<["param", "new_param"]>,
    DeclareOpInterfaceMethods<NL_ComponentOpInterface>,
    DeclareOpInterfaceMethods<NL_StateReaderOpInterface>]> {
  let summary = "one training step of a parameter group";
  let description = [{
    Applies the optimizer `rule` to the parameter `param` with the optimizer
    states it needs (each usually the result of an `nl.moment` level, which is
    therefore one level faster than the parameter): `#nl.sgd_momentum` takes
    `m`; `#nl.adamw<...>` takes `m, v` and the step count; `#nl.muon<...>`
    takes `m` and needs a matrix; `#nl.m3<...>` takes `M1, M2, V` and needs a
    matrix.

    The learning rate of the step may come at run time (a schedule, a
    training loop's `--lr`): the optional `lr(%r)` operand, a 0-D float
    tensor, *multiplies* the rule's rate. AdamW, Muon and M3 step with
    `rule.lr * r` (write `lr = 1.0` in the rule to take the rate from the
    operand alone); `#nl.sgd_momentum` steps `W <- W + r m` (its momentum then
    has `scale = -1`: `torch.optim.SGD`'s buffer). Without the operand the
    factor is 1. A multiplier rather than a replacement keeps one meaning for
    the attribute whether or not the operand is there.

    A group updated every `f > 1` steps needs the step count: it applies the
    rule at steps that are multiples of f and passes `param` through
    otherwise.

    ```mlir
    %w1 = nl.param_update "W" %w with(%m1, %v1 : tensor<64x64xf32>, tensor<64x64xf32>) step(%t : tensor<i64>)
        {every = #nl.every<1 steps>,
         rule = #nl.adamw<lr = 1.0e-03, beta1 = 0.9, beta2 = 0.999, eps = 1.0e-08, weight_decay = 0.01>}
        : tensor<64x64xf32>
    %w2 = nl.param_update "W" %w with(%b1 : tensor<64x64xf32>) lr(%r : tensor<f32>)
        {every = #nl.every<1 steps>, rule = #nl.sgd_momentum} : tensor<64x64xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, NL_EveryAttr:$every,
                       NL_OptimizerRuleAttr:$rule, NL_FloatTensor:$param,
                       Variadic<NL_FloatTensor>:$states,
                       Optional<NL_StepCount>:$step,
                       Optional<NL_LearningRate>:$lr);
  let results = (outs NL_FloatTensor:$new_param);
  let assemblyFormat = [{
    $name $param `with` `(` $states `:` type($states) `)`
    (`step` `(` $step^ `:` type($step) `)`)?
    (`lr` `(` $lr^ `:` type($lr) `)`)? attr-dict `:` type($param)
  }];
  let hasVerifier = 1;
}

def NL_GradientNorm : 0DTensorOf<[AnyFloat]>;

def NL_ClipGradNormOp : NL_Op<"clip_grad_norm", [Pure,
    RangedTypesMatchWith<"the clipped gradients have the gradients' types",
                         "grads", "clipped", "$_self">]> {
  let summary = "gradient clipping by the global norm of a group of gradients";
  let description = [{
    Measures the global 2-norm `n = sqrt(sum_i ||g_i||^2)` of a group of
    gradients and scales every gradient by the same factor so that it is at
    most `max_norm`: `g_i * min(1, max_norm / (n + 1e-6))`, as
    `torch.nn.utils.clip_grad_norm_` does (the 1e-6 is its). The squares
    are summed in float64 whatever the gradients' types; `total_norm` is
    `n` before clipping (what `clip_grad_norm_` returns), rounded once to
    its element type. Clip before the moments: the group is what one
    `max_norm` covers (all parameters of a model, usually).

    Without `max_norm` the op only measures: `clipped` are the gradients
    unchanged, so that a training step reports the norm whether it clips or
    not, from one computation (`train_step`'s `grad_norm`). A lowering
    computes nothing for a norm that is not used.

    ```mlir
    %c:3 = nl.clip_grad_norm %gw, %gb {max_norm = 1.0} : tensor<64x32xf32>, tensor<64xf32> -> tensor<f32>
    // %c#0, %c#1: the clipped gradients; %c#2: their norm before clipping
    ```
  }];
  let arguments = (ins Variadic<NL_FloatTensor>:$grads,
                       OptionalAttr<F64Attr>:$max_norm);
  let results = (outs Variadic<NL_FloatTensor>:$clipped,
                      NL_GradientNorm:$total_norm);
  let assemblyFormat =
      "$grads attr-dict `:` type($grads) `->` type($total_norm)";
  let hasVerifier = 1;
}

def NL_LRScheduleOp : NL_Op<"lr_schedule", [Pure,
    AllTypesMatch<["base", "lr"]>]> {
  let summary = "learning rate of a step: linear warm-up, then cosine decay";
  let description = [{
    The rate at step `t` (starting at 1) of a schedule with base rate `base`
    (a 0-D float tensor, e.g. a training loop's `--lr`):
    - warm-up, `t <= warmup`: `base * t / warmup`;
    - then, with `total > warmup`, cosine decay to `min_ratio * base` at
      step `total` (and after it): `p = min(1, (t - warmup) / (total -
      warmup))`, `base * (min_ratio + (1 - min_ratio) (1 + cos(pi p)) / 2)`;
    - with `total = 0`, `base` after the warm-up (no decay).
    The factor is computed in float64 and rounded once to `base`'s type.

    The schedule is an op of the compiled step rather than host code so that
    every caller of a training entry point (hope-train, a program using the
    runtime, the CUDA target) gets the same rates from the same two inputs,
    `base` and `t`, the step count its checkpoints already carry; its result
    feeds `nl.param_update`'s `lr(...)`.

    ```mlir
    %r = nl.lr_schedule %base step(%t : tensor<i64>) {warmup = 100, total = 10000, min_ratio = 0.1} : tensor<f32>
    ```
  }];
  let arguments = (ins NL_LearningRate:$base, NL_StepCount:$step,
                       DefaultValuedAttr<I64Attr, "0">:$warmup,
                       DefaultValuedAttr<I64Attr, "0">:$total,
                       DefaultValuedAttr<F64Attr, "0.0">:$min_ratio);
  let results = (outs NL_LearningRate:$lr);
  let assemblyFormat = [{
    $base `step` `(` $step `:` type($step) `)` attr-dict `:` type($base)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Gradient flow
//===----------------------------------------------------------------------===//

def NL_StopGradientOp : NL_Op<"stop_gradient", [Pure, NL_TokenLocal,
    SameOperandsAndResultType]> {
  let summary = "an explicit stop-gradient boundary";
  let description = [{
    The identity in the forward pass; no gradient, inner or outer, flows back
    through it. Where the IR has no `nl.stop_gradient`, gradients flow.

    ```mlir
    %t = nl.stop_gradient %vhat : tensor<?x8x?x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Building blocks of the models around the memories
//===----------------------------------------------------------------------===//

def NL_LinearOp : NL_Op<"linear", [Pure, NL_TokenLocal,
    InferTypeOpAdaptor]> {
  let summary = "static projection y = W x (+ b) over the last dimension";
  let description = [{
    `input : [..., d_in]`, `weight : [d_out, d_in]`, optional `bias :
    [d_out]`, result `[..., d_out]`.

    ```mlir
    %q = nl.linear %x, %wq : tensor<?x?x512xf32>, tensor<512x512xf32>
    %z = nl.linear %x, %w bias %b : tensor<?x?x512xf32>, tensor<8x512xf32>, tensor<8xf32>
    ```
  }];
  let arguments = (ins NL_FloatTensor:$input, NL_FloatTensor:$weight,
                       Optional<NL_FloatTensor>:$bias);
  let results = (outs NL_FloatTensor:$result);
  let builders = [
    OpBuilder<(ins "Value":$input, "Value":$weight), [{
      build($_builder, $_state, input, weight, /*bias=*/Value());
    }]>];
  let assemblyFormat = [{
    $input `,` $weight (`bias` $bias^)? attr-dict `:` type($input) `,` type($weight)
    (`,` type($bias)^)?
  }];
}

def NL_SplitHeadsOp : NL_Op<"split_heads", [Pure, NL_TokenLocal,
    InferTypeOpAdaptor]> {
  let summary = "[B, T, H*d] -> [B, H, T, d]";
  let description = [{
    ```mlir
    %xh = nl.split_heads %x into 8 heads : tensor<?x?x512xf32>
    ```
  }];
  let arguments = (ins NL_FloatTensor:$input, I64Attr:$heads);
  let results = (outs NL_FloatTensor:$result);
  let assemblyFormat = "$input `into` $heads `heads` attr-dict `:` type($input)";
}

def NL_MergeHeadsOp : NL_Op<"merge_heads", [Pure, NL_TokenLocal,
    InferTypeOpAdaptor]> {
  let summary = "[B, H, T, d] -> [B, T, H*d]";
  let description = [{
    ```mlir
    %o = nl.merge_heads %oh : tensor<?x8x?x64xf32>
    ```
  }];
  let arguments = (ins NL_FloatTensor:$input);
  let results = (outs NL_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def NL_RMSNormOp : NL_Op<"rms_norm", [Pure, NL_TokenLocal,
    AllTypesMatch<["input", "result"]>]> {
  let summary = "RMS normalisation over the last dimension, with a learnt scale";
  let description = [{
    `y = scale * x / sqrt(mean(x^2) + epsilon)`; `scale` has the width of the
    last dimension.

    ```mlir
    %h = nl.rms_norm %x, %g : tensor<?x?x512xf32>, tensor<512xf32>
    ```
  }];
  let arguments = (ins NL_FloatTensor:$input, NL_FloatTensor:$scale,
                       DefaultValuedAttr<F64Attr, "1.0e-6">:$epsilon);
  let results = (outs NL_FloatTensor:$result);
  let assemblyFormat = "$input `,` $scale attr-dict `:` type($input) `,` type($scale)";
  let hasVerifier = 1;
}

def NL_L2NormalizeOp : NL_Op<"l2_normalize", [Pure, NL_TokenLocal, SameOperandsAndResultType]> {
  let summary = "x / max(||x||_2, epsilon) over the last dimension";
  let description = [{
    ```mlir
    %k = nl.l2_normalize %k0 : tensor<?x8x?x64xf32>
    ```
  }];
  let arguments = (ins NL_FloatTensor:$input,
                       DefaultValuedAttr<F64Attr, "1.0e-12">:$epsilon);
  let results = (outs NL_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def NL_ActivationOp : NL_Op<"activation", [Pure, NL_TokenLocal, SameOperandsAndResultType]> {
  let summary = "elementwise nonlinearity";
  let description = [{
    ```mlir
    %a = nl.activation silu %x : tensor<?x?x512xf32>
    ```
  }];
  let arguments = (ins EnumProp<NL_Activation>:$kind, NL_FloatTensor:$input);
  let results = (outs NL_FloatTensor:$result);
  let assemblyFormat = "$kind $input attr-dict `:` type($input)";
}

def NL_RateOp : NL_Op<"rate", [Pure, NL_TokenLocal,
    InferTypeOpAdaptor]> {
  let summary = "a data-dependent rate: scale * s(x), one value per head";
  let description = [{
    Turns the width-1 output of a projection or memory, `[B, H, T, 1]`, into a
    rate `[B, H, T]`: `scale * sigmoid(x)` (a retention, a momentum or
    titans-pytorch's `max_lr * sigmoid`) or `scale * softplus(x)` (HOPE's
    learning rate).

    ```mlir
    %eta = nl.rate softplus %raw scale 1.000000e-03 : tensor<?x8x?x1xf32>
    ```
  }];
  let arguments = (ins EnumProp<NL_Activation>:$kind, NL_FloatTensor:$input,
                       DefaultValuedAttr<F64Attr, "1.0">:$scale);
  let results = (outs NL_FloatTensor:$result);
  let assemblyFormat = [{
    $kind $input (`scale` $scale^)? attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
}

def NL_CausalConvOp : NL_Op<"causal_conv", [Pure,
    AllTypesMatch<["input", "result"]>]> {
  let summary = "causal depthwise convolution over the sequence";
  let description = [{
    `y[b, t, c] = sum_{j < W} weight[c, j] * x[b, t - (W - 1) + j, c]`, with
    zeros before the first token; `weight : [D, W]` (HOPE uses W = 4).
    Streaming: `history : [B, W - 1, D]` holds the last W - 1 inputs of the
    previous pieces (zeros before the sequence), read in place of the zeros;
    `nl.sequence_tail` makes the next piece's history.

    ```mlir
    %c = nl.causal_conv %x, %w : tensor<?x?x512xf32>, tensor<512x4xf32>
    %s = nl.causal_conv %x, %w history(%h : tensor<?x3x512xf32>)
        : tensor<?x?x512xf32>, tensor<512x4xf32>
    ```
  }];
  let arguments = (ins NL_FloatTensor:$input, NL_FloatTensor:$weight,
                       Optional<NL_FloatTensor>:$history);
  let results = (outs NL_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`history` `(` $history^ `:` type($history) `)`)?
    attr-dict `:` type($input) `,` type($weight)
  }];
  let hasVerifier = 1;
}

def NL_SequenceTailOp : NL_Op<"sequence_tail", [Pure,
    AllTypesMatch<["history", "result"]>]> {
  let summary = "the last tokens of a sequence continued by a piece";
  let description = [{
    `history : [B, N, D]`, `input : [B, T, D]`: the last N tokens of the
    concatenation `[history; input]` along the tokens — what a streaming
    `nl.causal_conv` of window N + 1 carries to the next piece.

    ```mlir
    %h2 = nl.sequence_tail %h, %x : tensor<?x3x512xf32>, tensor<?x?x512xf32>
    ```
  }];
  let arguments = (ins NL_FloatTensor:$history, NL_FloatTensor:$input);
  let results = (outs NL_FloatTensor:$result);
  let assemblyFormat = "$history `,` $input attr-dict `:` type($history) `,` type($input)";
  let hasVerifier = 1;
}

def NL_CausalAttentionOp : NL_Op<"causal_attention", [Pure,
    AllTypesMatch<["query", "key", "value", "result"]>]> {
  let summary = "causal softmax attention per head";
  let description = [{
    `query`, `key`, `value : [B, H, T, d]`:
    `y[b, h, t] = sum_{s <= t} p[t, s] value[b, h, s]` with
    `p[t, :] = softmax_{s <= t}(scale * query[b, h, t] . key[b, h, s])`;
    `scale` defaults to `1 / sqrt(d)`. HOPE-Attention uses it in place of
    self-modifying Titans (semantics section 4). It mixes tokens: a memory
    that learns from its result is staged after it.

    ```mlir
    %y = nl.causal_attention %q, %k, %v : tensor<?x8x?x64xf32>
    ```
  }];
  let arguments = (ins NL_FloatTensor:$query, NL_FloatTensor:$key,
                       NL_FloatTensor:$value, OptionalAttr<F64Attr>:$scale);
  let results = (outs NL_FloatTensor:$result);
  let assemblyFormat = "$query `,` $key `,` $value attr-dict `:` type($query)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The scale of the scores: the attribute, else 1 / sqrt(d).
    double getScaleOrDefault();
  }];
}

def NL_EmbeddingOp : NL_Op<"embedding", [Pure,
    InferTypeOpAdaptor]> {
  let summary = "one row of a table per token id";
  let description = [{
    `ids : [B, T]` (i64), `table : [V, D]`, result `[B, T, D]` with
    `y[b, t, :] = table[ids[b, t], :]` (a language model's token embedding).
    An id outside `[0, V)` is a bad input: the compiled artifact rejects the
    call before running it (a precondition naming the input).

    ```mlir
    %x = nl.embedding %ids, %table : tensor<?x?xi64>, tensor<32000x512xf32>
    ```
  }];
  let arguments = (ins TensorOf<[I64]>:$ids, NL_FloatTensor:$table);
  let results = (outs NL_FloatTensor:$result);
  let assemblyFormat = "$ids `,` $table attr-dict `:` type($ids) `,` type($table)";
}

def NL_GateOp : NL_Op<"gate", [Pure, NL_TokenLocal,
    AllTypesMatch<["input", "result"]>]> {
  let summary = "multiplies every token's vector of every head by a gate";
  let description = [{
    `input : [B, H, T, d]`, `gate : [B, H, T]`: `y[b, h, t, :] = gate[b, h,
    t] * input[b, h, t, :]` (titans-pytorch's retrieval gate, with the gate
    from `nl.rate sigmoid`).

    ```mlir
    %y = nl.gate %r, %g : tensor<?x4x?x96xf32>, tensor<?x4x?xf32>
    ```
  }];
  let arguments = (ins NL_FloatTensor:$input, NL_FloatTensor:$gate);
  let results = (outs NL_FloatTensor:$result);
  let assemblyFormat = "$input `,` $gate attr-dict `:` type($input) `,` type($gate)";
  let hasVerifier = 1;
}

def NL_ChunkPoolOp : NL_Op<"chunk_pool", [Pure,
    InferTypeOpAdaptor]> {
  let summary = "mean over each chunk of the sequence";
  let description = [{
    `[B, T, D] -> [B, ceil(T/C), D]`: the mean of every chunk of `chunk`
    tokens (the last chunk may be shorter: the mean of its tokens). The input
    of per-chunk rates (titans-pytorch's mean-pooled chunk).

    ```mlir
    %p = nl.chunk_pool %x chunk 64 : tensor<?x?x384xf32>
    ```
  }];
  let arguments = (ins NL_FloatTensor:$input, I64Attr:$chunk);
  let results = (outs NL_FloatTensor:$result);
  let assemblyFormat = "$input `chunk` $chunk attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Entry-point contracts
//===----------------------------------------------------------------------===//

def NL_PreconditionOp : NL_Op<"precondition"> {
  let summary = "a condition on an entry point's inputs that a call must meet";
  let description = [{
    States a relation between the sizes or values of a function's arguments
    that the generated code relies on and that the manifest's shapes cannot
    express, e.g. that a per-chunk rate has an entry for every chunk the
    call's tokens touch. `nl-outline-preconditions` moves every precondition
    of an entry point, with the computation of its condition from the
    arguments, into a check the artifact runs before the entry point's body:
    a call that breaks one fails with `message` and runs nothing
    (docs/artifact-abi.md). `message` names the inputs concerned.

    ```mlir
    nl.precondition %ok, "input 'lr' needs one entry per chunk"
    ```
  }];
  let arguments = (ins I1:$condition, StrAttr:$message);
  let assemblyFormat = "$condition `,` $message attr-dict";
}

def NL_ReadDeviceStatusOp : NL_Op<"read_device_status"> {
  let summary = "the int32 status word a kernel wrote, read through the runtime";
  let description = [{
    Host code of a device artifact must not read device memory, but a
    precondition check that reads input data (token ids within the
    vocabulary) runs as a kernel that writes its verdict into a status word
    in device memory. This op returns that word: `address` is the word's
    device address (the aligned pointer of a `memref<i32>`, as i64). It
    waits until the session's stream has run what the call enqueued so far
    (`nl-cuda-launch-through-services` lowers it to the service table's
    `read_status`, version 3), so the entry point can fail before launching
    work that relies on the preconditions. It reads memory: never removed
    or reordered.

    ```mlir
    %status = nl.read_device_status %address
    ```
  }];
  let arguments = (ins I64:$address);
  let results = (outs I32:$status);
  let assemblyFormat = "$address attr-dict";
}

#endif // NL_OPS_TD
