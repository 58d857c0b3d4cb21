//===- CompileCacheTest.cpp - --module: hope-compile --train, cached ------===//
//
// A shell script stands in for hope-compile (test code only): it records
// its arguments, copies the hand-written train_step artifact to -o, and
// fails (exit 3) on a module holding "broken".
//
//===----------------------------------------------------------------------===//

#include "CompileCache.h"

#include "TestUtil.h"

#include "llvm/Support/FileSystem.h"

using namespace hope::train;
using hope::test::TempDir;

namespace {

class CompileCache : public ::testing::Test {
protected:
  void SetUp() override {
    compiler = dir.path("fake-compile");
    hope::test::writeFile(
        compiler, "#!/bin/sh\n"
                  "echo \"$@\" >> " + dir.path("calls") + "\n"
                  "module=\"$1\"\n"
                  "while [ $# -gt 1 ]; do\n"
                  "  if [ \"$1\" = -o ]; then cp " HOPE_TRAIN_GOOD " \"$2\"; fi\n"
                  "  shift\n"
                  "done\n"
                  "if grep -q broken \"$module\"; then exit 3; fi\n");
    llvm::sys::fs::setPermissions(compiler, llvm::sys::fs::all_exe |
                                                llvm::sys::fs::owner_all);
    module = dir.path("lm.mlir");
    hope::test::writeFile(module, "module {}\n");
  }

  std::vector<std::string> calls() {
    if (!llvm::sys::fs::exists(dir.path("calls")))
      return {};
    llvm::SmallVector<llvm::StringRef> lines;
    std::string text = hope::test::readFile(dir.path("calls"));
    llvm::StringRef(text).split(lines, '\n', -1, false);
    return {lines.begin(), lines.end()};
  }

  TempDir dir;
  std::string compiler, module;
};

TEST_F(CompileCache, CompilesOnceWithTheTrainingFlags) {
  CompileOptions options;
  options.optimizer = "sgd";
  options.weightDecay = 0.5;
  options.totalSteps = 100;
  std::string log;
  llvm::raw_string_ostream os(log);
  llvm::Expected<std::string> first = compileForTraining(
      compiler, module, options, dir.path("cache"), os);
  ASSERT_TRUE(bool(first)) << llvm::toString(first.takeError());
  EXPECT_TRUE(llvm::StringRef(*first).ends_with(".so"));
  EXPECT_TRUE(llvm::sys::fs::exists(*first));
  ASSERT_EQ(calls().size(), 1u);
  EXPECT_TRUE(llvm::StringRef(calls()[0]).starts_with(
      module + " --train --optimizer=sgd --weight-decay=0.5 --clip=1 "
               "--warmup=0 --total-steps=100 -o "))
      << calls()[0];

  llvm::Expected<std::string> second = compileForTraining(
      compiler, module, options, dir.path("cache"), os);
  ASSERT_TRUE(bool(second));
  EXPECT_EQ(*second, *first);
  EXPECT_EQ(calls().size(), 1u) << "the second run uses the cache";
  EXPECT_TRUE(llvm::StringRef(log).contains("using the cached artifact"));

  // Other options or another module: another artifact.
  options.clip = 0;
  llvm::Expected<std::string> third = compileForTraining(
      compiler, module, options, dir.path("cache"), os);
  ASSERT_TRUE(bool(third));
  EXPECT_NE(*third, *first);
  hope::test::writeFile(module, "module { }\n");
  EXPECT_NE(getCachedArtifactName(module, "module { }\n", options),
            getCachedArtifactName(module, "module {}\n", options));
}

TEST_F(CompileCache, AFailedCompileLeavesNothingCached) {
  hope::test::writeFile(module, "broken\n");
  std::string log;
  llvm::raw_string_ostream os(log);
  llvm::Expected<std::string> artifact = compileForTraining(
      compiler, module, CompileOptions(), dir.path("cache"), os);
  ASSERT_FALSE(bool(artifact));
  EXPECT_EQ(llvm::toString(artifact.takeError()),
            "hope-compile --train failed on " + module + " (exit code 3)");
  std::error_code error;
  llvm::sys::fs::directory_iterator entry(dir.path("cache"), error);
  EXPECT_EQ(entry, llvm::sys::fs::directory_iterator()) << entry->path();
}

TEST_F(CompileCache, MissingCompilerOrModule) {
  std::string log;
  llvm::raw_string_ostream os(log);
  llvm::Expected<std::string> artifact = compileForTraining(
      dir.path("none"), module, CompileOptions(), dir.path("cache"), os);
  EXPECT_EQ(llvm::toString(artifact.takeError()),
            "cannot run " + dir.path("none") +
                " (hope-compile is expected beside hope-train)");
  artifact = compileForTraining(compiler, dir.path("none.mlir"),
                                CompileOptions(), dir.path("cache"), os);
  EXPECT_EQ(llvm::toString(artifact.takeError()),
            "--module=" + dir.path("none.mlir") +
                ": No such file or directory");
}

} // namespace
