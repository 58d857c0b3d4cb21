//===- Status.h - errors inside the runtime, statuses at its C API -*- C++ -*-//
//
// Inside, the runtime reports failures as hope::Error (a code and a one-line
// message, from runtime.hpp); the C API turns them into hope_status objects
// at its boundary.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_RUNTIME_LIB_STATUS_H
#define HOPE_RUNTIME_LIB_STATUS_H

#include "Ref.h"

#include "hope/runtime.hpp"

#include <string>
#include <system_error>

struct hope_status {
  hope_code code;
  std::string message;
};

namespace hope::rt {

inline Error makeError(hope_code code, std::string message) {
  return Error(code, std::move(message));
}

/// `error` with `prefix` before its message, keeping its code.
Error prefixError(Error error, const std::string &prefix);

/// Turns `error` into a status (NULL for success).
hope_status *toStatus(const Error &error);

/// Hands the reference `ref` holds to a C caller.
template <typename T> T *toHandle(Ref<T> ref) { return ref.release(); }

/// A status for a null pointer given as argument `name` of `function`.
hope_status *nullArgument(const char *function, const char *name);

/// A status for an `index` not below `count` given to `function`, whose
/// object has `count` `things` ("entry points", "kernels", ...).
hope_status *indexOutOfRange(const char *function, size_t index, size_t count,
                             const char *things);

/// "[2, 7, 64]".
template <typename Range> std::string formatList(const Range &values) {
  std::string text = "[";
  bool first = true;
  for (const auto &value : values) {
    if (!first)
      text += ", ";
    first = false;
    text += std::to_string(value);
  }
  return text + "]";
}

/// The strings of `names` joined by `separator`.
template <typename Range>
std::string join(const Range &names, const std::string &separator = ", ") {
  std::string text;
  bool first = true;
  for (const auto &name : names) {
    if (!first)
      text += separator;
    first = false;
    text += name;
  }
  return text;
}

} // namespace hope::rt

/// Returns nullArgument's status from a C API function when `arg` is null.
#define HOPE_CHECK_ARG(arg)                                                    \
  do {                                                                         \
    if (!(arg))                                                                \
      return ::hope::rt::nullArgument(__func__, #arg);                         \
  } while (false)


#endif // HOPE_RUNTIME_LIB_STATUS_H
