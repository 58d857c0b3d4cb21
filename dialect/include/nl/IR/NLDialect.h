//===- NLDialect.h - the nl dialect -----------------------------*- C++ -*-===//

#ifndef NL_IR_NLDIALECT_H
#define NL_IR_NLDIALECT_H

#include "mlir/IR/Dialect.h"

#include "nl/IR/NLDialect.h.inc"

#endif // NL_IR_NLDIALECT_H
