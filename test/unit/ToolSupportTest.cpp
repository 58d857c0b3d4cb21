//===- ToolSupportTest.cpp - the tools' input and output guards -----------===//

#include "ToolSupport.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

using namespace hope::tools;

namespace {

std::string errorOf(llvm::Error error) {
  return error ? llvm::toString(std::move(error)) : std::string();
}

std::string nestingError(llvm::StringRef text, unsigned maxDepth) {
  auto buffer = llvm::MemoryBuffer::getMemBuffer(text, "in.mlir");
  return errorOf(checkNestingDepth(*buffer, maxDepth));
}

TEST(ToolSupportTest, NestingDepthNamesLineAndColumn) {
  EXPECT_EQ(nestingError("{[()]}", 3), "");
  EXPECT_EQ(nestingError("a\n  {[(x)]}", 2),
            "in.mlir:2:5: nesting deeper than 2 levels of ( [ { < "
            "(--max-nesting)");
}

TEST(ToolSupportTest, NestingCountsAngleBrackets) {
  // MLIR's parser recurses into a type's or attribute's parameters too.
  EXPECT_EQ(nestingError("tuple<tuple<tuple<i32>>>", 2),
            "in.mlir:1:18: nesting deeper than 2 levels of ( [ { < "
            "(--max-nesting)");
  EXPECT_EQ(nestingError("tuple<tuple<i32>>", 2), "");
  // Arrows and comparisons are not brackets.
  EXPECT_EQ(nestingError("(d0) -> (d0 >= 0, d0 <= 4)", 1), "");
}

TEST(ToolSupportTest, NestingIgnoresStringsAndComments) {
  EXPECT_EQ(nestingError("x = \"((((\\\"((\" // ((((\n{}", 1), "");
  // An unbalanced closer does not make room for deeper nesting.
  EXPECT_EQ(nestingError(")))(((", 2),
            "in.mlir:1:6: nesting deeper than 2 levels of ( [ { < "
            "(--max-nesting)");
}

TEST(ToolSupportTest, ReadsOnlyRegularFilesWithinTheLimit) {
  EXPECT_EQ(errorOf(readRegularFile("/dev/zero", 1 << 20).takeError()),
            "cannot read '/dev/zero': not a regular file");
  llvm::SmallString<128> path;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("tool-support", "mlir", path));
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    os << "0123456789";
  }
  llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> read =
      readRegularFile(path, 10);
  ASSERT_TRUE(static_cast<bool>(read)) << errorOf(read.takeError());
  EXPECT_EQ((*read)->getBuffer(), "0123456789");
  EXPECT_EQ(errorOf(readRegularFile(path, 9).takeError()),
            ("cannot read '" + path + "': 10 bytes, more than the limit of "
             "9 (--max-input-size)")
                .str());
  llvm::sys::fs::remove(path);
}

TEST(ToolSupportTest, OutputPathNeedsAnExistingFolder) {
  EXPECT_EQ(errorOf(checkOutputPath("-")), "");
  EXPECT_EQ(errorOf(checkOutputPath("/nonexistent-folder/out.so")),
            "cannot write '/nonexistent-folder/out.so': folder "
            "'/nonexistent-folder' does not exist");
  EXPECT_EQ(errorOf(checkOutputPath("/tmp")),
            "cannot write '/tmp': it is a folder");
}

TEST(ToolSupportTest, LargeStackRunsDeepRecursion) {
  // 64 MiB of frames: beyond the default 8 MiB stack.
  std::function<int(int)> recurse = [&](int depth) {
    volatile char frame[4096];
    frame[0] = static_cast<char>(depth);
    return depth == 0 ? frame[0] : recurse(depth - 1) + 1;
  };
  EXPECT_EQ(runOnLargeStack([&] { return recurse(16384); }), 16384);
}

} // namespace
