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
