//===- Status.h - errors inside the runtime, statuses at its C API -*- C++ -*-//
//
// Inside, the runtime reports failures as llvm::Error carrying a hope_code;
// the C API turns them into hope_status objects at its boundary.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_RUNTIME_LIB_STATUS_H
#define HOPE_RUNTIME_LIB_STATUS_H

#include "hope/runtime.hpp"

#include "llvm/ADT/IntrusiveRefCntPtr.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"

#include <string>

struct hope_status {
  hope_code code;
  std::string message;
};

namespace hope::rt {

/// An error with a code and a one-line message.
inline llvm::Error makeError(hope_code code, const llvm::Twine &message) {
  return llvm::make_error<StatusError>(code, message.str());
}

/// `error` with `prefix` before its message, keeping its code.
llvm::Error prefixError(llvm::Error error, const llvm::Twine &prefix);

/// Consumes `error` into a status (NULL for success). Errors that carry no
/// code (from LLVM's own parsers) become `fallback`.
hope_status *toStatus(llvm::Error error,
                      hope_code fallback = HOPE_INVALID_FORMAT);

/// Hands the reference `ref` holds to a C caller.
template <typename T> T *toHandle(llvm::IntrusiveRefCntPtr<T> ref) {
  T *handle = ref.get();
  ref.resetWithoutRelease();
  return handle;
}

/// A status for a null pointer given as argument `name` of `function`.
hope_status *nullArgument(const char *function, const char *name);

/// The code of an I/O error: NOT_FOUND for a missing file, IO_ERROR else.
hope_code codeOf(std::error_code error);

} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_STATUS_H
