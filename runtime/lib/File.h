//===- File.h - reading and writing files the runtime is given -*- C++ -*-===//
//
// Every path the runtime reads comes from a user: it must name a regular
// file (a device such as /dev/zero, a FIFO or a directory is refused before
// anything is read), which is mapped read-only rather than copied.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_RUNTIME_LIB_FILE_H
#define HOPE_RUNTIME_LIB_FILE_H

#include "hope/runtime.hpp"

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace hope::rt {

/// The bytes of a file, mapped read-only, or of a buffer (for tests).
class FileBytes {
public:
  /// Maps the regular file at `path`; `what` names it in errors ("artifact").
  static Expected<FileBytes> open(const std::string &path,
                                  const std::string &what = "");
  /// A copy of `bytes`, named `name` in messages.
  static FileBytes fromBuffer(std::string bytes, std::string name);

  const std::string &name() const { return path; }
  std::string_view bytes() const { return view; }

private:
  std::string path;
  std::string_view view;
  std::shared_ptr<void> storage;
};

/// Writes the bytes `write` produces to `path` atomically: to a temporary
/// file in the same folder, renamed over `path` once complete. `write` calls
/// its argument with each piece in order.
Error writeFileAtomically(
    const std::string &path,
    const std::function<void(const std::function<void(const void *, size_t)> &)>
        &write);

} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_FILE_H
