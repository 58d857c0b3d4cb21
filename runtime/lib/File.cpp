//===- File.cpp - reading and writing files the runtime is given ----------===//

#include "File.h"
#include "Status.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace hope;
using namespace hope::rt;

static std::string describeErrno(int error) {
  return std::strerror(error);
}

Expected<FileBytes> FileBytes::open(const std::string &path,
                                    const std::string &what) {
  std::string subject = what.empty() ? "'" + path + "'" : what + " '" + path + "'";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int error = errno;
    return makeError(error == ENOENT ? HOPE_NOT_FOUND : HOPE_IO_ERROR,
                     "cannot read " + subject + ": " + describeErrno(error));
  }
  struct stat info;
  if (fstat(fd, &info) != 0) {
    int error = errno;
    close(fd);
    return makeError(HOPE_IO_ERROR,
                     "cannot read " + subject + ": " + describeErrno(error));
  }
  if (!S_ISREG(info.st_mode)) {
    close(fd);
    const char *kind = S_ISDIR(info.st_mode)    ? "a directory"
                       : S_ISCHR(info.st_mode)  ? "a character device"
                       : S_ISBLK(info.st_mode)  ? "a block device"
                       : S_ISFIFO(info.st_mode) ? "a FIFO"
                       : S_ISSOCK(info.st_mode) ? "a socket"
                                                : "not a regular file";
    return makeError(HOPE_INVALID_ARGUMENT, "cannot read " + subject + ": it is " +
                                                kind + ", not a regular file");
  }
  FileBytes file;
  file.path = path;
  size_t size = size_t(info.st_size);
  if (size == 0) {
    close(fd);
    return file;
  }
  void *data = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  int error = errno;
  close(fd);
  if (data == MAP_FAILED)
    return makeError(HOPE_IO_ERROR,
                     "cannot read " + subject + ": " + describeErrno(error));
  file.storage = std::shared_ptr<void>(
      data, [size](void *data) { munmap(data, size); });
  file.view = std::string_view(static_cast<const char *>(data), size);
  return file;
}

FileBytes FileBytes::fromBuffer(std::string bytes, std::string name) {
  FileBytes file;
  auto copy = std::make_shared<std::string>(std::move(bytes));
  file.path = std::move(name);
  file.view = *copy;
  file.storage = std::move(copy);
  return file;
}

Error rt::writeFileAtomically(
    const std::string &path,
    const std::function<void(const std::function<void(const void *, size_t)> &)>
        &write) {
  std::string temporary = path + ".tmp-XXXXXX";
  int fd = mkstemp(temporary.data());
  if (fd < 0)
    return makeError(HOPE_IO_ERROR,
                     "cannot write '" + path + "': " + describeErrno(errno));
  int failure = 0;
  write([&](const void *data, size_t size) {
    const char *bytes = static_cast<const char *>(data);
    while (size > 0 && !failure) {
      ssize_t written = ::write(fd, bytes, size);
      if (written < 0 && errno == EINTR)
        continue;
      if (written <= 0) {
        failure = written < 0 ? errno : EIO;
        break;
      }
      bytes += written;
      size -= size_t(written);
    }
  });
  // mkstemp makes the file 0600: make it readable by all, as data files
  // are. (The umask cannot be read without changing it, racing threads.)
  if (!failure && fchmod(fd, 0644) != 0)
    failure = errno;
  if (close(fd) != 0 && !failure)
    failure = errno;
  if (!failure && rename(temporary.c_str(), path.c_str()) != 0)
    failure = errno;
  if (failure) {
    unlink(temporary.c_str());
    return makeError(HOPE_IO_ERROR,
                     "cannot write '" + path + "': " + describeErrno(failure));
  }
  return Error();
}
