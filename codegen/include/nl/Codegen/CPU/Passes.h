//===- Passes.h - CPU code generation passes --------------------*- C++ -*-===//

#ifndef NL_CODEGEN_CPU_PASSES_H
#define NL_CODEGEN_CPU_PASSES_H

#include "nl/Codegen/CPU/NLCPUDialect.h"
#include "nl/Codegen/Passes.h"

#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"

namespace mlir::nl {

#define GEN_PASS_DECL
#include "nl/Codegen/CPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "nl/Codegen/CPU/Passes.h.inc"

} // namespace mlir::nl

#endif // NL_CODEGEN_CPU_PASSES_H
