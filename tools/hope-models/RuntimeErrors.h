//===- RuntimeErrors.h - the runtime's errors as LLVM's ---------*- C++ -*-===//
//
// The runtime's C++ wrapper reports hope::Error (it links no LLVM); the tools
// report llvm::Error. These convert at that boundary.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_TOOLS_HOPE_MODELS_RUNTIMEERRORS_H
#define HOPE_TOOLS_HOPE_MODELS_RUNTIMEERRORS_H

#include "hope/runtime.hpp"

#include "llvm/Support/Error.h"

namespace hope::models {

inline llvm::Error toLLVMError(hope::Error error) {
  if (!error)
    return llvm::Error::success();
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 error.message());
}

template <typename T>
llvm::Expected<T> toLLVMExpected(hope::Expected<T> value) {
  if (!value)
    return toLLVMError(value.takeError());
  return std::move(*value);
}

} // namespace hope::models

#endif // HOPE_TOOLS_HOPE_MODELS_RUNTIMEERRORS_H
