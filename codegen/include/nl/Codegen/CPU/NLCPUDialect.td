//===- NLCPUDialect.td - marks of the CPU code generation -*- tablegen -*-===//

#ifndef NL_CODEGEN_CPU_NLCPUDIALECT_TD
#define NL_CODEGEN_CPU_NLCPUDIALECT_TD

include "mlir/IR/OpBase.td"

def NLCPU_Dialect : Dialect {
  let name = "nlcpu";
  let cppNamespace = "::mlir::nl";
  let summary = "Marks that the CPU code generation passes leave for each other";
  let description = [{
    The CPU backend's own discardable attributes, so that the nl dialect
    holds only what models are written in. They never appear in the IR
    users write.

    `nlcpu.register_tile` (unit) is put by `nl-tile-contractions` on the
    register block of a contraction (a linalg op) and removed by
    `nl-vectorize-register-tiles`.
  }];
  let hasOperationAttrVerify = 1;
  let extraClassDeclaration = [{
    /// Unit attribute that nl-tile-contractions puts on the register block
    /// of a contraction (a linalg op) for nl-vectorize-register-tiles.
    static constexpr ::llvm::StringLiteral getRegisterTileAttrName() {
      return ::llvm::StringLiteral("nlcpu.register_tile");
    }
  }];
}

#endif // NL_CODEGEN_CPU_NLCPUDIALECT_TD
