//===- NLDialect.td - the nested-learning dialect ----------*- tablegen -*-===//
//
// The `nl` dialect: nested optimization levels for HOPE, Titans and the
// Continuum Memory System.
//
//===----------------------------------------------------------------------===//

#ifndef NL_DIALECT_TD
#define NL_DIALECT_TD

include "mlir/IR/OpBase.td"

def NL_Dialect : Dialect {
  let name = "nl";
  let cppNamespace = "::mlir::nl";
  let summary = "Nested optimization levels: memories, CMS chains, optimizers";
  let description = [{
    The `nl` dialect describes models that learn at several frequencies
    (nested learning): associative memories that are updated while a sequence
    is read, Continuum Memory System (CMS) chains whose blocks change at their
    own chunk boundaries, and optimizers, which are levels themselves.

    **Time.** A function of this dialect describes what happens at every token
    of a sequence (tensors carry the sequence as their `T` dimension), not an
    order of execution. A memory is a stateful *component*: `nl.memory` creates
    it with its initial state, `nl.update` says how it learns from each token
    and `nl.read` applies it, at an explicit *read point*, to a query. Reads and
    updates of one memory may therefore refer to each other (self-generated
    targets), and the ops of a function may appear in any order that SSA
    dominance allows: the meaning does not change.

    **Levels.** Every component has an update frequency (`#nl.every<...>`).
    The `nl-assign-levels` pass orders the components by frequency, fastest
    first, breaking ties by same-token dependence, and records the result as
    `nl.level` attributes; `nl-verify-levels` enforces the legality rules of
    nested learning (no same-token dependence cycle, chunk sizes of components
    that feed each other divide one another).

    **Entry points.** The arguments of a model function name themselves and
    their role for the compiled artifact's manifest: `{nl.input = "x"}`
    (data the caller gives), `{nl.weight = "w_k"}` (bound from a weights
    file by that name), `{nl.state = "M_k.W_1"}` (a level's state carried
    between streaming calls); results: `{nl.output = "y"}` or
    `{nl.state = "..."}`. A weight may say how it starts, for the tools
    that seed weights (hope-models --weights-out, hope-train) and the
    manifest's `init` and `init_scale`: `{nl.init = "token_shift"}` (a
    causal convolution [D, W], W >= 2, starts as a token shift: even
    channels take the previous token, odd ones the current one) or
    `"seeded"` (the default), and `{nl.init_scale = 4.0 : f64}` (the
    values times 4). The dialect checks that they sit on a weight of static
    shape that the rule fits and that the scale is a finite float.

    **Conventions.** Sequences of model width are `tensor<B x T x D>`; per-head
    sequences are `tensor<B x H x T x d>`; per-token rates are
    `tensor<B x H x T>` and per-chunk rates `tensor<B x H x ceil(T/C)>`.
    Matrices act on the left: a weight of shape `[out, in]` maps `x` to `W x`.
  }];
  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 1;
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
    void registerTypes();

    /// Name of the discardable attribute that `nl-assign-levels` writes on
    /// every component op: one level number per component the op declares.
    static constexpr ::llvm::StringLiteral getLevelAttrName() {
      return ::llvm::StringLiteral("nl.level");
    }
    /// Module attribute: the artifact manifest (JSON) that
    /// nl-prepare-entry-points records for code generation.
    static constexpr ::llvm::StringLiteral getManifestAttrName() {
      return ::llvm::StringLiteral("nl.manifest");
    }
    /// Module attribute: the facts of the target compiled for (a
    /// dictionary), which the target backend records and nl-emit-entry-abi
    /// writes into the manifest's target object.
    static constexpr ::llvm::StringLiteral getTargetAttrName() {
      return ::llvm::StringLiteral("nl.target");
    }
    /// Unit argument attribute: the argument is the runtime's service table
    /// (runtime/include/hope/artifact.h), which nl-route-allocations appends
    /// to every function of an artifact.
    static constexpr ::llvm::StringLiteral getServicesAttrName() {
      return ::llvm::StringLiteral("nl.services");
    }
    /// Module attribute: further top-level manifest fields a target backend
    /// records (a dictionary, e.g. a GPU target's kernels and images), which
    /// nl-emit-entry-abi writes into the manifest.
    static constexpr ::llvm::StringLiteral getManifestFieldsAttrName() {
      return ::llvm::StringLiteral("nl.manifest_fields");
    }
  }];
}

class NL_Op<string mnemonic, list<Trait> traits = []>
    : Op<NL_Dialect, mnemonic, traits>;

#endif // NL_DIALECT_TD
