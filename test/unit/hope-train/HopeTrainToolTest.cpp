//===- HopeTrainToolTest.cpp - hope-train's command line and its errors ---===//

#include "TestUtil.h"

#include "llvm/Support/Program.h"

using hope::test::TempDir;

namespace {

struct Result {
  int code;
  std::string out, err;
};

class HopeTrainTool : public ::testing::Test {
protected:
  Result run(const std::vector<std::string> &args) {
    std::vector<llvm::StringRef> argv = {HOPE_TRAIN_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out = dir.path("stdout"), err = dir.path("stderr");
    llvm::sys::fs::remove(out);
    llvm::sys::fs::remove(err);
    std::optional<llvm::StringRef> redirects[] = {
        llvm::StringRef(""), llvm::StringRef(out), llvm::StringRef(err)};
    std::string message;
    int code = llvm::sys::ExecuteAndWait(HOPE_TRAIN_PATH, argv, std::nullopt,
                                         redirects, 0, 0, &message);
    EXPECT_GE(code, 0) << "hope-train crashed or did not run: " << message;
    return {code, hope::test::readFile(out), hope::test::readFile(err)};
  }

  /// The one error line of a run that must fail.
  std::string error(const std::vector<std::string> &args) {
    Result result = run(args);
    EXPECT_EQ(result.code, 1);
    llvm::StringRef line(result.err);
    EXPECT_TRUE(line.consume_front("hope-train: error: ")) << result.err;
    EXPECT_TRUE(line.consume_back("\n")) << result.err;
    EXPECT_FALSE(line.contains('\n')) << result.err;
    return line.str();
  }

  TempDir dir;
  const std::string artifact = std::string("--artifact=") + HOPE_FAKE_ARTIFACT;
};

TEST_F(HopeTrainTool, Help) {
  Result result = run({"--help"});
  EXPECT_EQ(result.code, 0);
  for (const char *flag :
       {"--module=<file>", "--artifact=<file>", "--task=<task>", "--resume",
        "--checkpoint-dir=<dir>", "--export=<file>", "--eval-every"})
    EXPECT_NE(result.out.find(flag), std::string::npos) << flag;
}

TEST_F(HopeTrainTool, ModuleOrArtifact) {
  EXPECT_EQ(error({}), "pass exactly one of --module=model.mlir and "
                       "--artifact=model.so");
  EXPECT_EQ(error({artifact, "--module=m.mlir"}),
            "pass exactly one of --module=model.mlir and --artifact=model.so");
  EXPECT_EQ(error({artifact, "--optimizer=sgd"}),
            "--optimizer is fixed when the artifact is compiled: drop it, or "
            "pass --module to compile with it");
  EXPECT_EQ(error({"--module=" + dir.path("none.mlir")}),
            "--module=" + dir.path("none.mlir") +
                ": No such file or directory");
}

TEST_F(HopeTrainTool, TaskErrors) {
  EXPECT_EQ(error({artifact, "--task=sort"}),
            "unknown task 'sort' (expected mqar, needle, copy or text:FILE)");
  EXPECT_EQ(error({artifact, "--task=text:" + dir.path("book.txt")}),
            "--task=text:" + dir.path("book.txt") +
                ": No such file or directory");
  EXPECT_EQ(error({artifact, "--pairs=0"}),
            "--task=mqar: --pairs=0 must be between 1 and 31 (distinct keys "
            "from [1, vocab/2))");
}

TEST_F(HopeTrainTool, OptionErrors) {
  EXPECT_EQ(error({artifact, "--resume"}), "--resume needs --checkpoint-dir");
  EXPECT_EQ(error({artifact, "--batch=0"}),
            "--steps, --eval-every, --checkpoint-every and --warmup must not "
            "be negative; --batch and --eval-batches must be at least 1");
  EXPECT_EQ(error({artifact, "--num-threads=5000"}),
            "--num-threads=5000 is out of range (0, or 1 to 1024)");
}

TEST_F(HopeTrainTool, ArtifactWithoutTrainStep) {
  EXPECT_EQ(error({artifact}),
            std::string(HOPE_FAKE_ARTIFACT) +
                " has no train_step entry point: compile the model with "
                "hope-compile --train");
}

} // namespace
