//===- NLEnums.td - enumerations of the nl dialect ---------*- tablegen -*-===//
//
// Every choice the semantics leaves to the model is one of these enums, never a
// free-form string.
//
//===----------------------------------------------------------------------===//

#ifndef NL_ENUMS_TD
#define NL_ENUMS_TD

include "nl/IR/NLDialect.td"
include "mlir/IR/EnumAttr.td"

def NL_TimeUnit : I32Enum<"TimeUnit", "unit in which an update period is counted", [
    I32EnumCase<"Tokens", 0, "tokens">,
    I32EnumCase<"Steps", 1, "steps">]> {
  let cppNamespace = "::mlir::nl";
}

def NL_ReadPoint : I32Enum<"ReadPoint", "which state of a memory a read sees", [
    // y_t = M_{theta_{e(t)}}(q_t), e(t) = C floor(t / C).
    I32EnumCase<"After", 0, "after">,
    // y_t = M_{theta_{r(t)}}(q_t), r(t) = C floor((t - 1) / C).
    I32EnumCase<"ChunkStart", 1, "chunk_start">]> {
  let cppNamespace = "::mlir::nl";
}

def NL_Activation : I32Enum<"Activation", "elementwise nonlinearity", [
    I32EnumCase<"SiLU", 0, "silu">,
    I32EnumCase<"GELU", 1, "gelu">,
    I32EnumCase<"Sigmoid", 2, "sigmoid">,
    I32EnumCase<"Softplus", 3, "softplus">]> {
  let cppNamespace = "::mlir::nl";
}
def NL_ActivationAttr : EnumAttr<NL_Dialect, NL_Activation, "activation"> {
  let assemblyFormat = "`<` $value `>`";
}

def NL_Residual : I32Enum<"Residual", "skip path of an MLP memory", [
    I32EnumCase<"None", 0, "none">,
    // M(x) = x + ...; needs equal input and output widths.
    I32EnumCase<"Identity", 1, "identity">,
    // M(x) = W_skip x + ...; W_skip is part of the memory's state.
    I32EnumCase<"Learned", 2, "learned">]> {
  let cppNamespace = "::mlir::nl";
}

def NL_MemoryNorm : I32Enum<"MemoryNorm", "LayerNorm inside an MLP memory", [
    I32EnumCase<"None", 0, "none">,
    // LayerNorm of the input before W_in; its scale (width d_in) is state.
    I32EnumCase<"Pre", 1, "pre">,
    // LayerNorm of the MLP branch before the residual add (titans-pytorch's
    // ResidualNorm); its scale (width d_out) is state.
    I32EnumCase<"Post", 2, "post">]> {
  let cppNamespace = "::mlir::nl";
}

def NL_Reduction : I32Enum<"Reduction", "reduction over features", [
    I32EnumCase<"Sum", 0, "sum">,
    I32EnumCase<"Mean", 1, "mean">]> {
  let cppNamespace = "::mlir::nl";
}

def NL_RateGranularity : I32Enum<"RateGranularity", "how often a rate changes", [
    // One value per token: shape [B, H, T].
    I32EnumCase<"Token", 0, "token">,
    // One value per chunk: shape [B, H, ceil(T / C)].
    I32EnumCase<"Chunk", 1, "chunk">]> {
  let cppNamespace = "::mlir::nl";
}

def NL_StepSize : I32Enum<"StepSize", "how DGD uses the learning rate", [
    // eta as given (the default of the semantics).
    I32EnumCase<"Plain", 0, "plain">,
    // eta' = eta / (1 + eta), the paper's variant for normalised keys.
    I32EnumCase<"Normalized", 1, "normalized">]> {
  let cppNamespace = "::mlir::nl";
}

def NL_CmsVariant : I32Enum<"CmsVariant", "how the blocks of a CMS chain combine", [
    // y = MLP^(K)(... MLP^(1)(x)).
    I32EnumCase<"Sequential", 0, "sequential">,
    // y = sum_l w_l MLP^(l)(x), w learnt.
    I32EnumCase<"Independent", 1, "independent">,
    // Sequential, and the slower block meta-learns the faster block's
    // initial state, which is reset at each of the slower block's boundaries.
    I32EnumCase<"Nested", 2, "nested">]> {
  let cppNamespace = "::mlir::nl";
}
def NL_CmsVariantAttr : EnumAttr<NL_Dialect, NL_CmsVariant, "cms_variant"> {
  let assemblyFormat = "`<` $value `>`";
}

def NL_CmsSignal : I32Enum<"CmsSignal", "learning signal of CMS blocks", [
    // Frozen: the blocks are plain MLPs (inference without learning).
    I32EnumCase<"None", 0, "none">,
    // The task loss on tokens already seen, every other state held fixed
    // during the chunk (test-time continual learning).
    I32EnumCase<"Task", 1, "task">,
    // The declared `local_objective`, with the block's input as key and
    // target.
    I32EnumCase<"Local", 2, "local">]> {
  let cppNamespace = "::mlir::nl";
}
def NL_CmsSignalAttr : EnumAttr<NL_Dialect, NL_CmsSignal, "cms_signal"> {
  let assemblyFormat = "`<` $value `>`";
}

#endif // NL_ENUMS_TD
