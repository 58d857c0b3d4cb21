//===- AtomicFile.cpp - temporary file, fsync, rename, fsync the folder ---===//

#include "AtomicFile.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Errno.h"
#include "llvm/Support/Path.h"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

using namespace llvm;

namespace hope::train {

std::string getTemporaryPath(StringRef path) { return (path + ".tmp").str(); }

static Error systemError(const Twine &what, StringRef path) {
  return createStringError(what + " " + path + ": " +
                           sys::StrError(errno));
}

/// Writes every byte, retrying short writes and interruptions.
static bool writeAll(int fd, StringRef bytes) {
  const char *next = bytes.data();
  size_t left = bytes.size();
  while (left) {
    ssize_t written = ::write(fd, next, left);
    if (written < 0 && errno == EINTR)
      continue;
    if (written <= 0)
      return false;
    next += written;
    left -= size_t(written);
  }
  return true;
}

Error writeFileAtomically(StringRef path, StringRef bytes,
                          function_ref<Error()> beforeRename) {
  std::string temporary = getTemporaryPath(path);
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                  0644);
  if (fd < 0)
    return systemError("cannot create", temporary);
  bool written = writeAll(fd, bytes) && ::fsync(fd) == 0;
  int writeErrno = errno;
  if (::close(fd) != 0 && written) {
    written = false;
    writeErrno = errno;
  }
  if (!written) {
    ::unlink(temporary.c_str());
    errno = writeErrno;
    return systemError("cannot write", temporary);
  }
  if (beforeRename)
    if (Error error = beforeRename())
      return error;
  if (::rename(temporary.c_str(), std::string(path).c_str()) != 0)
    return systemError("cannot rename " + temporary + " to", path);
  SmallString<256> folder(path);
  sys::path::remove_filename(folder);
  if (folder.empty())
    folder = ".";
  int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return systemError("cannot open the folder", folder);
  bool synced = ::fsync(dir) == 0;
  ::close(dir);
  if (!synced)
    return systemError("cannot flush the folder", folder);
  return Error::success();
}

} // namespace hope::train
