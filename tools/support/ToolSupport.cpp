//===- ToolSupport.cpp - what every command-line tool guards against ------===//

#include "ToolSupport.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/PrettyStackTrace.h"
#include "llvm/Support/thread.h"

namespace cl = llvm::cl;
using llvm::StringRef;

namespace hope::tools {

cl::OptionCategory &getInputLimitsCategory() {
  static cl::OptionCategory category("Input limits");
  return category;
}

namespace {
cl::opt<uint64_t> maxInputMiB(
    "max-input-size",
    cl::desc("Refuse input files larger than this many MiB (default 1024)"),
    cl::value_desc("MiB"), cl::init(1024), cl::cat(getInputLimitsCategory()));
cl::opt<unsigned> maxNesting(
    "max-nesting",
    cl::desc("Refuse IR that nests brackets ( [ { < deeper than this (default "
             "10000; the parser's stack is 512 MiB)"),
    cl::value_desc("N"), cl::init(10000), cl::cat(getInputLimitsCategory()));

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Reads stdin, at most `maxBytes` + 1 bytes.
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readStdin(uint64_t maxBytes) {
  llvm::SmallString<0> text;
  llvm::sys::fs::file_t input = llvm::sys::fs::getStdinHandle();
  constexpr size_t kChunk = 1 << 20;
  while (true) {
    size_t size = text.size();
    text.resize_for_overwrite(size + kChunk);
    llvm::Expected<size_t> read = llvm::sys::fs::readNativeFile(
        input, llvm::MutableArrayRef<char>(text.data() + size, kChunk));
    if (!read)
      return read.takeError();
    text.truncate(size + *read);
    if (*read == 0)
      break;
    if (text.size() > maxBytes)
      return fail("standard input is larger than the limit of " +
                  llvm::Twine(maxBytes) + " bytes (--max-input-size)");
  }
  return llvm::MemoryBuffer::getMemBufferCopy(text, "<stdin>");
}
} // namespace

llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readRegularFile(StringRef path, uint64_t maxBytes) {
  if (path == "-")
    return readStdin(maxBytes);
  llvm::sys::fs::file_status status;
  if (std::error_code error = llvm::sys::fs::status(path, status))
    return fail("cannot read '" + path + "': " + error.message());
  if (status.type() != llvm::sys::fs::file_type::regular_file)
    return fail("cannot read '" + path + "': not a regular file");
  if (status.getSize() > maxBytes)
    return fail("cannot read '" + path + "': " + llvm::Twine(status.getSize()) +
                " bytes, more than the limit of " + llvm::Twine(maxBytes) +
                " (--max-input-size)");
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return fail("cannot read '" + path + "': " + buffer.getError().message());
  // The file may have grown since its status was read.
  if ((*buffer)->getBufferSize() > maxBytes)
    return fail("cannot read '" + path + "': more than the limit of " +
                llvm::Twine(maxBytes) + " bytes (--max-input-size)");
  return std::move(*buffer);
}

llvm::Error checkNestingDepth(const llvm::MemoryBuffer &text,
                              unsigned maxDepth) {
  StringRef buffer = text.getBuffer();
  unsigned depth = 0, line = 1;
  size_t lineStart = 0;
  for (size_t i = 0; i < buffer.size(); ++i) {
    char c = buffer[i];
    switch (c) {
    case '\n':
      ++line;
      lineStart = i + 1;
      break;
    case '"':
      // A string literal: brackets in it do not nest.
      for (++i; i < buffer.size() && buffer[i] != '"' && buffer[i] != '\n';
           ++i)
        if (buffer[i] == '\\')
          ++i;
      if (i < buffer.size() && buffer[i] == '\n')
        --i;
      break;
    case '/':
      if (i + 1 < buffer.size() && buffer[i + 1] == '/')
        while (i + 1 < buffer.size() && buffer[i + 1] != '\n')
          ++i;
      break;
    case '<':
      // `<=` compares; every other `<` opens a type or attribute's
      // parameters, which MLIR's parser recurses into as into brackets.
      if (i + 1 < buffer.size() && buffer[i + 1] == '=')
        break;
      [[fallthrough]];
    case '(':
    case '[':
    case '{':
      if (++depth > maxDepth)
        return fail(text.getBufferIdentifier() + ":" + llvm::Twine(line) +
                    ":" + llvm::Twine(i - lineStart + 1) +
                    ": nesting deeper than " + llvm::Twine(maxDepth) +
                    " levels of ( [ { < (--max-nesting)");
      break;
    case '>':
      // `->` and `>=` close nothing.
      if ((i > 0 && buffer[i - 1] == '-') ||
          (i + 1 < buffer.size() && buffer[i + 1] == '='))
        break;
      [[fallthrough]];
    case ')':
    case ']':
    case '}':
      if (depth > 0)
        --depth;
      break;
    default:
      break;
    }
  }
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> readInput(StringRef path) {
  uint64_t maxBytes = maxInputMiB >= (UINT64_MAX >> 20)
                          ? UINT64_MAX
                          : maxInputMiB.getValue() << 20;
  llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      readRegularFile(path, maxBytes);
  if (!buffer)
    return buffer.takeError();
  if (llvm::Error error = checkNestingDepth(**buffer, maxNesting))
    return std::move(error);
  return buffer;
}

llvm::Error checkOutputPath(StringRef path) {
  if (path == "-")
    return llvm::Error::success();
  if (llvm::sys::fs::is_directory(path))
    return fail("cannot write '" + path + "': it is a folder");
  StringRef folder = llvm::sys::path::parent_path(path);
  if (folder.empty())
    folder = ".";
  if (!llvm::sys::fs::is_directory(folder))
    return fail("cannot write '" + path + "': folder '" + folder +
                "' does not exist");
  if (llvm::sys::fs::access(folder, llvm::sys::fs::AccessMode::Write))
    return fail("cannot write '" + path + "': folder '" + folder +
                "' is not writable");
  return llvm::Error::success();
}

int runOnLargeStack(llvm::function_ref<int()> body) {
  int code = 1;
  llvm::thread worker(std::optional<unsigned>(kToolStackBytes),
                      [&] { code = body(); });
  worker.join();
  return code;
}

void setBugReportMessage() {
  llvm::setBugReportMsg(
      "PLEASE report this crash to the HOPE compiler project (not to "
      "llvm-project), with the command and its input file; the stack dump "
      "follows.\n");
}

} // namespace hope::tools
