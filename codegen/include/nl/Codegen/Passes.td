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
    dialect reference defines them. Dynamic sizes are carried with
    `tensor.dim`. Other ops are left alone.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::linalg::LinalgDialect",
    "mlir::math::MathDialect", "mlir::tensor::TensorDialect"];
}

def NLLowerMemories : Pass<"nl-lower-memories"> {
  let summary = "Lower every memory to its chunk-parallel form";
  let description = [{
    Replaces each `nl.memory` with its `nl.update`, `nl.read` and
    `nl.final_state` ops by one `scf.for` over the ceil(T/C) chunks of the
    sequence that carries the memory's state as tensors. Per chunk, the
    model's forward and backward at the chunk's reference state are batched
    over all tokens of the chunk (contractions over batch, heads and tokens);
    momentum GD applies the chunk's updates in closed form (coefficients from
    one reverse scan over the rates, then one contraction over tokens per
    parameter), DGD applies its rank-1 term token by token inside the chunk,
    and the chunk-aggregated variant makes one update per complete chunk.
    Reads are answered per chunk at their read point. The result equals the
    token-by-token recurrence of the semantics up to rounding.

    Not yet compiled (each is a clear error at the memory): memories whose
    inputs come from memory reads (self-modifying Titans), momentum of order
    above 1, the Newton-Schulz output, DGD with momentum, MLP memories with
    `norm = pre`.
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
    roles are still those of the model.
  }];
  let options = [
    Option<"modelName", "model", "std::string", /*default=*/"\"model\"",
           "Model name recorded in the manifest">,
    Option<"targetTriple", "target-triple", "std::string", /*default=*/"\"\"",
           "Target triple recorded in the manifest">,
    Option<"targetCPU", "target-cpu", "std::string", /*default=*/"\"\"",
           "Target CPU recorded in the manifest">,
    Option<"targetFeatures", "target-features", "std::string",
           /*default=*/"\"\"",
           "CPU features the code may use, comma-separated without '+' "
           "(the runtime refuses a CPU that lacks one)">,
  ];
}

def NLEmitEntryABI : Pass<"nl-emit-entry-abi", "mlir::ModuleOp"> {
  let summary = "Emit the artifact's exported symbols in the LLVM dialect";
  let description = [{
    After lowering to the LLVM dialect: for each entry point `E` (a function
    with a `_mlir_ciface_E` interface) emits `void hope_entry_E(void **args)`
    (inputs, then outputs, as pointers to memref descriptors), the
    `hope_manifest` string from the `nl.manifest` module attribute, and
    `hope_free`. See docs/artifact-abi.md.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

#endif // NL_CODEGEN_PASSES_TD
