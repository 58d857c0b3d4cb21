//===- NLAttrs.td - attributes of the nl dialect -----------*- tablegen -*-===//
//
// Update frequencies, memory models, inner objectives, learning rules and
// optimizer rules. Every attribute verifies its own parameters.
//
//===----------------------------------------------------------------------===//

#ifndef NL_ATTRS_TD
#define NL_ATTRS_TD

include "nl/IR/NLDialect.td"
include "nl/IR/NLEnums.td"
include "mlir/IR/AttrTypeBase.td"

class NL_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<NL_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

class NL_EnumParameter<EnumInfo info, string defaultCase>
    : EnumParameter<info> {
  let defaultValue = info.cppNamespace # "::" # info.className # "::"
                     # defaultCase;
}

// A flag written `true` or `false`.
class NL_BoolParameter<string desc, string defaultVal = "false">
    : AttrParameter<"bool", desc> {
  let parser = [{ ::mlir::nl::parseBoolKeyword($_parser) }];
  let printer = [{ $_printer << ($_self ? "true" : "false") }];
  let defaultValue = defaultVal;
}

// A double-precision number written as a float literal (APFloat, which,
// unlike double, is hashable for attribute uniquing).
class NL_F64Parameter<string desc> : AttrParameter<"::llvm::APFloat", desc> {
  let parser = [{ ::mlir::nl::parseF64($_parser) }];
  let printer = [{ $_printer << $_self.convertToDouble() }];
}

// The same, optional: omitted when it equals `defaultVal`.
class NL_DefaultF64Parameter<string desc, string defaultVal>
    : NL_F64Parameter<desc> {
  let defaultValue = "::llvm::APFloat(" # defaultVal # ")";
  let comparator = "$_lhs.bitwiseIsEqual($_rhs)";
}

//===----------------------------------------------------------------------===//
// Update frequency
//===----------------------------------------------------------------------===//

def NL_EveryAttr : NL_Attr<"Every", "every"> {
  let summary = "update frequency of a component: once every N tokens or steps";
  let description = [{
    A component updated every `C` tokens has frequency `1/C`; `C` is its
    *chunk size*. Outer levels (parameters and their optimizers) count in
    training steps: one step reads whole sequences, so any token-counted
    component is faster than any step-counted one.

    ```mlir
    #nl.every<8 tokens>    // a memory with chunk size 8
    #nl.every<1 steps>     // pre-training weights
    ```
  }];
  let parameters = (ins "int64_t":$period, EnumParameter<NL_TimeUnit>:$unit);
  let assemblyFormat = "`<` $period $unit `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// True if a component with this frequency updates strictly more often
    /// than one with `other`.
    bool isFasterThan(EveryAttr other) const;
    /// True if one period divides the other (always true across units).
    bool dividesOrIsDividedBy(EveryAttr other) const;
    /// "every 8 tokens", for diagnostics and level tables.
    std::string describe() const;
  }];
}

//===----------------------------------------------------------------------===//
// Memory models
//===----------------------------------------------------------------------===//

def NL_LinearModelAttr : NL_Attr<"LinearModel", "linear"> {
  let summary = "linear memory M(x) = W x";
  let description = [{
    State (per head): `W : [d_out, d_in]`.
  }];
}

def NL_MLPModelAttr : NL_Attr<"MLPModel", "mlp"> {
  let summary = "MLP memory M(x) = skip(x) + W_L s(... s(W_1 x))";
  let description = [{
    An MLP of `depth` matrices with activation `s` between them. The skip path
    is `identity` (`x`, needs `d_in == d_out`), `learned` (`W_skip x`) or
    `none`. Depth 1 is one matrix plus the skip path, `M(x) = x + W_1 x` with
    `residual = identity` (without a skip path it is `#nl.linear`); `W_1` is
    then `[d_out, d_in]` and `hidden` is unused. `norm = pre` applies a LayerNorm with a learnt scale to the input,
    `norm = post` to the MLP branch before the skip is added (titans-pytorch's
    ResidualNorm). The LayerNorm scale is part of the memory's state; the
    norm multiplies by `scale + norm_offset` (default 0). titans-pytorch keeps
    `gamma` in its state and multiplies by `gamma + 1` (`norm_offset = 1.0`),
    so that retention decays the norm towards the identity.

    State (per head), in this order: `W_1 : [hidden, d_in]`,
    `W_2 .. W_{L-1} : [hidden, hidden]`, `W_L : [d_out, hidden]`, then
    `W_skip : [d_out, d_in]` if `residual = learned`, then the norm scale
    (`[d_in]` for `pre`, `[d_out]` for `post`).

    ```mlir
    #nl.mlp<hidden = 64, activation = silu, residual = identity>
    #nl.mlp<depth = 2, hidden = 64, activation = gelu, residual = identity, norm = post>
    #nl.mlp<hidden = 64, activation = gelu, norm = post, norm_offset = 1.0>
    #nl.mlp<depth = 1, hidden = 16>
    ```
  }];
  let parameters = (ins
    DefaultValuedParameter<"int64_t", "2">:$depth,
    "int64_t":$hidden,
    NL_EnumParameter<NL_Activation, "SiLU">:$activation,
    NL_EnumParameter<NL_Residual, "Identity">:$residual,
    NL_EnumParameter<NL_MemoryNorm, "None">:$norm,
    NL_DefaultF64Parameter<"the norm's scale offset", "0.0">:$norm_offset);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

//===----------------------------------------------------------------------===//
// Inner objectives
//===----------------------------------------------------------------------===//

def NL_L2ObjectiveAttr : NL_Attr<"L2Objective", "l2"> {
  let summary = "L2 regression objective ||M(k) - v||^2";
  let description = [{
    `reduction` sums or averages the squared error over the output features;
    `half` multiplies it by 1/2.

    ```mlir
    #nl.l2<>                              // sum, no 1/2
    #nl.l2<reduction = mean>              // titans-pytorch
    #nl.l2<reduction = sum, half = true>
    ```
  }];
  let parameters = (ins NL_EnumParameter<NL_Reduction, "Sum">:$reduction,
                        NL_BoolParameter<"multiply by 1/2">:$half);
  let assemblyFormat = "`<` struct(params) `>`";
}

def NL_DotObjectiveAttr : NL_Attr<"DotObjective", "dot"> {
  let summary = "dot-product objective -<M(k), v>";
  let description = [{
    With a linear memory and the DGD rule this is the gated delta rule.
  }];
}

//===----------------------------------------------------------------------===//
// Learning rules
//===----------------------------------------------------------------------===//

def NL_MomentumGDAttr : NL_Attr<"MomentumGD", "momentum_gd"> {
  let summary = "gradient descent with momentum and retention";
  let description = [{
    `S_t = beta_t S_{t-1} - eta_t g_t; theta_t = alpha_t theta_{t-1} + S_t`,
    every gradient of a chunk taken at the chunk's start state. `order = 0`
    is plain gradient descent (`S_t = -eta_t g_t`); `order = N` chains N
    momentum scans, each with its own `beta` (the first feeds the second).
    `newton_schulz = true` writes `NS5(S_t)` instead of `S_t` into matrix
    parameters (Muon-style). `lr`, `retention` and `momentum` say whether
    each rate changes per token or per chunk.

    ```mlir
    #nl.momentum_gd<order = 1>
    #nl.momentum_gd<order = 1, retention = chunk, momentum = chunk>
    ```
  }];
  let parameters = (ins
    DefaultValuedParameter<"int64_t", "1">:$order,
    NL_BoolParameter<"Newton-Schulz (NS5) output">:$newton_schulz,
    NL_EnumParameter<NL_RateGranularity, "Token">:$lr,
    NL_EnumParameter<NL_RateGranularity, "Token">:$retention,
    NL_EnumParameter<NL_RateGranularity, "Token">:$momentum);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def NL_DGDAttr : NL_Attr<"DGD", "dgd"> {
  let summary = "delta gradient descent (HOPE's inner optimizer)";
  let description = [{
    Linear memory: `W_t = W_{t-1} (alpha_t I - eta_t k_t k_t^T) - eta_t g_t`,
    `g_t` the full gradient at the chunk start (with the L2 objective `W k k^T`
    appears twice: that is the method). For an MLP memory the rank-1 term acts
    on `W_1` and `W_skip`; the other parameters get `alpha W - eta g`.
    `momentum = true`: `S_t = beta_t S_{t-1} + g_t` replaces `g_t`.
    `step_size = normalized` uses `eta / (1 + eta)`.

    ```mlir
    #nl.dgd<>
    #nl.dgd<momentum = true, step_size = normalized>
    ```
  }];
  let parameters = (ins
    NL_BoolParameter<"gradient momentum">:$momentum,
    NL_EnumParameter<NL_StepSize, "Plain">:$step_size,
    NL_EnumParameter<NL_RateGranularity, "Token">:$lr,
    NL_EnumParameter<NL_RateGranularity, "Token">:$retention);
  let assemblyFormat = "`<` struct(params) `>`";
}

def NL_ChunkAggregatedAttr : NL_Attr<"ChunkAggregated", "chunk_aggregated"> {
  let summary = "one update per chunk (titans-pytorch's NeuralMemory)";
  let description = [{
    Marks a memory as the chunk-aggregated variant: one update per chunk `i`,
    `G_i = sum_t eta_t g_t` with every `g_t` taken at the reference state.
    `linearize` is the linearisation period B, a multiple of the chunk size:
    the reference state is the state after the last chunk that ends at a
    multiple of B; `sequence` (titans-pytorch's `batch_size = None`) takes
    `theta_0` for every chunk.

    ```mlir
    #nl.chunk_aggregated<linearize = 64>
    #nl.chunk_aggregated<linearize = sequence>
    ```
  }];
  let parameters = (ins AttrParameter<"int64_t",
      "linearisation period in tokens; 0 stands for the whole sequence">:$period);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    bool linearizesOverSequence() const { return getPeriod() == 0; }
  }];
}

//===----------------------------------------------------------------------===//
// Outer-level optimizer rules (applied by nl.param_update)
//===----------------------------------------------------------------------===//

def NL_SGDMomentumRuleAttr : NL_Attr<"SGDMomentumRule", "sgd_momentum"> {
  let summary = "W <- W + m";
  let description = [{
    Takes one optimizer state, the momentum `m <- alpha m - eta g` of an
    `nl.moment` level (decay alpha, scale -eta).
  }];
}

def NL_AdamWRuleAttr : NL_Attr<"AdamWRule", "adamw"> {
  let summary = "AdamW with bias correction and decoupled weight decay";
  let description = [{
    Takes two optimizer states, the first moment `m` (decay `beta1`,
    scale `1 - beta1`, power 1) and the second moment `v` (decay `beta2`,
    scale `1 - beta2`, power 2), and the step count `t` (starting at 1):
    `W <- W (1 - lr wd) - lr mhat / (sqrt(vhat) + eps)` with
    `mhat = m / (1 - beta1^t)`, `vhat = v / (1 - beta2^t)`.

    ```mlir
    #nl.adamw<lr = 1.0e-03, beta1 = 0.9, beta2 = 0.999, eps = 1.0e-08, weight_decay = 0.01>
    ```
  }];
  let parameters = (ins NL_F64Parameter<"learning rate">:$lr,
                        NL_F64Parameter<"first moment decay">:$beta1,
                        NL_F64Parameter<"second moment decay">:$beta2,
                        NL_F64Parameter<"denominator epsilon">:$eps,
                        NL_F64Parameter<"decoupled weight decay">:$weight_decay);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def NL_MuonRuleAttr : NL_Attr<"MuonRule", "muon"> {
  let summary = "W <- W - lr NS5(m) for a matrix parameter";
  let description = [{
    Takes one optimizer state, the momentum `m` (an `nl.moment` level).
    NS5 is five Newton-Schulz steps with (a, b, c) = (3.4445, -4.7750, 2.0315)
    on `m / ||m||_F`.
  }];
  let parameters = (ins NL_F64Parameter<"learning rate">:$lr);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def NL_M3RuleAttr : NL_Attr<"M3Rule", "m3"> {
  let summary = "multi-scale momentum (M3)";
  let description = [{
    Takes three optimizer states: the fast momentum `M1`, the slow momentum
    `M2` (an `nl.moment` level updated every f steps) and the second moment
    `V`: `W <- W - lr (NS(M1) + alpha NS(M2)) / (sqrt(V) + eps)`.
  }];
  let parameters = (ins NL_F64Parameter<"learning rate">:$lr,
                        NL_F64Parameter<"weight of the slow momentum">:$alpha,
                        NL_F64Parameter<"denominator epsilon">:$eps);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // NL_ATTRS_TD
