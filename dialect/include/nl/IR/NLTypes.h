//===- NLTypes.h - types of the nl dialect ----------------------*- C++ -*-===//

#ifndef NL_IR_NLTYPES_H
#define NL_IR_NLTYPES_H

#include "mlir/IR/Types.h"

#define GET_TYPEDEF_CLASSES
#include "nl/IR/NLTypes.h.inc"

#endif // NL_IR_NLTYPES_H
