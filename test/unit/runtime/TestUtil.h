//===- TestUtil.h - shared helpers of the runtime's tests -------*- C++ -*-===//

#ifndef HOPE_TEST_UNIT_RUNTIME_TESTUTIL_H
#define HOPE_TEST_UNIT_RUNTIME_TESTUTIL_H

#include "hope/runtime.hpp"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <cstdlib>
#include <string>

namespace hope::test {

/// A fresh directory, removed with everything in it at the end of the test.
class TempDir {
public:
  TempDir() {
    std::error_code error =
        llvm::sys::fs::createUniqueDirectory("hope-runtime-test", dir);
    EXPECT_FALSE(error) << error.message();
  }
  ~TempDir() { llvm::sys::fs::remove_directories(dir); }

  std::string path(llvm::StringRef name) const {
    llvm::SmallString<128> path(dir);
    llvm::sys::path::append(path, name);
    return std::string(path);
  }

private:
  llvm::SmallString<128> dir;
};

/// A session allocator (the C library's aligned_alloc and free) that counts
/// its calls.
struct CountingAllocator {
  int allocs = 0, frees = 0;

  /// The table for hope_session_options; points at this object.
  hope_allocator table() {
    return {[](void *ctx, size_t bytes, size_t alignment) -> void * {
              ++static_cast<CountingAllocator *>(ctx)->allocs;
              return std::aligned_alloc(alignment, bytes);
            },
            [](void *ctx, void *ptr) {
              ++static_cast<CountingAllocator *>(ctx)->frees;
              std::free(ptr);
            },
            this};
  }
};

inline void writeFile(llvm::StringRef path, llvm::StringRef bytes) {
  std::error_code error;
  llvm::raw_fd_ostream os(path, error);
  ASSERT_FALSE(error) << error.message();
  os << bytes;
}

inline std::string readFile(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  EXPECT_TRUE(bool(buffer)) << path.str();
  return buffer ? (*buffer)->getBuffer().str() : std::string();
}

/// The bytes of a hex string.
inline std::string fromHex(llvm::StringRef hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    unsigned byte = 0;
    hex.substr(i, 2).getAsInteger(16, byte);
    bytes.push_back(char(byte));
  }
  return bytes;
}

/// The message of `error` ("success" for none).
inline std::string messageOf(const hope::Error &error) {
  return error ? error.message() : "success";
}
template <typename T> std::string messageOf(const hope::Expected<T> &value) {
  return value ? "success" : messageOf(value.getError());
}

/// The code of `value`'s error (HOPE_OK if none).
template <typename T> hope_code codeOf(const hope::Expected<T> &value) {
  return value ? HOPE_OK : value.getError().code();
}

/// Unwraps an Expected in a test, failing it with the message.
template <typename T> T take(hope::Expected<T> value) {
  if (!value) {
    ADD_FAILURE() << value.getError().message();
    return T();
  }
  return std::move(*value);
}

template <typename T>
Tensor tensorOf(llvm::ArrayRef<int64_t> shape, llvm::ArrayRef<T> values) {
  return take(Tensor::fromValues<T>(hope::Span<int64_t>(shape),
                                    hope::Span<T>(values)));
}

template <typename T> std::vector<T> valuesOf(const Tensor &tensor) {
  return take(tensor.template toVector<T>());
}

} // namespace hope::test

#endif // HOPE_TEST_UNIT_RUNTIME_TESTUTIL_H
