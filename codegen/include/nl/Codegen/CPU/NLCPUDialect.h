//===- NLCPUDialect.h - marks of the CPU code generation --------*- C++ -*-===//

#ifndef NL_CODEGEN_CPU_NLCPUDIALECT_H
#define NL_CODEGEN_CPU_NLCPUDIALECT_H

#include "mlir/IR/Dialect.h"

#include "nl/Codegen/CPU/NLCPUDialect.h.inc"

#endif // NL_CODEGEN_CPU_NLCPUDIALECT_H
