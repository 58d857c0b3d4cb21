//===- HopeTrainToolTest.cpp - hope-train's command line and its errors ---===//

#include "TensorFile.h"
#include "TestUtil.h"

#include "nl/Models/SeededWeights.h"

#include <cstring>

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

namespace {

/// hope-train end to end on the hand-written train_step artifact
/// (Inputs/train_artifact.c, test code only).
class HopeTrainArtifact : public HopeTrainTool {
protected:
  /// The copy task on the bigram, vocabulary 16, with a checkpoint folder.
  std::vector<std::string> args(llvm::StringRef folder, int steps,
                                const char *artifactPath = HOPE_TRAIN_GOOD) {
    return {std::string("--artifact=") + artifactPath, "--task=copy",
            "--vocab=16", "--seq-len=9", "--batch=4", "--lr=0.5",
            "--eval-every=4", "--eval-batches=2",
            "--steps=" + std::to_string(steps),
            "--checkpoint-dir=" + dir.path(folder)};
  }
  std::string checkpoint(llvm::StringRef folder) {
    return dir.path(folder) + "/checkpoint.safetensors";
  }
  std::vector<std::string> with(std::vector<std::string> base,
                                std::initializer_list<std::string> more) {
    base.insert(base.end(), more);
    return base;
  }
};

TEST_F(HopeTrainArtifact, TrainsExportsAndResumesBitIdentically) {
  Result whole = run(with(args("whole", 12),
                          {"--export=" + dir.path("whole.safetensors")}));
  ASSERT_EQ(whole.code, 0) << whole.err;
  // Not a terminal: one line per evaluation.
  llvm::StringRef log(whole.err);
  EXPECT_EQ(log.count('\n'), 3u) << whole.err;
  EXPECT_TRUE(log.starts_with("eval step 4/12: held-out loss ")) << whole.err;
  std::string csv = hope::test::readFile(dir.path("whole") + "/curves.csv");
  EXPECT_EQ(llvm::StringRef(csv).count('\n'), 4u) << csv;
  EXPECT_TRUE(llvm::sys::fs::exists(dir.path("whole") + "/curves.svg"));
  // The checkpoint records the options, the artifact's training options
  // among them.
  llvm::Expected<hope::train::TensorFile> saved =
      hope::train::readTensorFile(checkpoint("whole"), true);
  ASSERT_TRUE(bool(saved)) << llvm::toString(saved.takeError());
  EXPECT_TRUE(llvm::StringRef(saved->metadata["options"])
                  .contains(R"("train_step":{"optimizer":"sgd"})"))
      << saved->metadata["options"];

  // The same twelve steps as six, then six more after --resume.
  ASSERT_EQ(run(args("split", 6)).code, 0);
  Result resumed = run(with(args("split", 12),
                            {"--resume",
                             "--export=" + dir.path("split.safetensors")}));
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_TRUE(llvm::StringRef(resumed.err).starts_with(
      "resumed from " + checkpoint("split") + " at step 6\n"))
      << resumed.err;
  EXPECT_EQ(hope::test::readFile(dir.path("split.safetensors")),
            hope::test::readFile(dir.path("whole.safetensors")));

  // The export is the parameters alone: the inference artifact loads it.
  hope::Module module = *hope::Module::load(HOPE_TRAIN_INFERENCE);
  hope::Session session = *hope::Session::create(module);
  hope::Error error = session.loadWeights(dir.path("whole.safetensors"));
  EXPECT_FALSE(bool(error)) << error.message();

  // --init starts from it (zero steps: the export is the input).
  Result init = run(with(args("init", 0),
                         {"--init=" + dir.path("whole.safetensors"),
                          "--export=" + dir.path("init.safetensors")}));
  ASSERT_EQ(init.code, 0) << init.err;
  llvm::Expected<hope::train::TensorFile> original =
      hope::train::readTensorFile(dir.path("whole.safetensors"), true);
  llvm::Expected<hope::train::TensorFile> copy =
      hope::train::readTensorFile(dir.path("init.safetensors"), true);
  ASSERT_TRUE(original && copy);
  EXPECT_EQ(copy->tensors[0].bytes, original->tensors[0].bytes);
}

// Seeded parameters follow the manifest's init and init_scale (what
// hope-compile copies from nl.init, nl.init_scale): the table starts as a
// token shift times 2, the values SeededWeights gives hope-models.
TEST_F(HopeTrainArtifact, SeedsByTheManifestsInitialisation) {
  Result seeded = run(with(args("seeded", 0, HOPE_TRAIN_INITIALISED),
                           {"--export=" + dir.path("seeded.safetensors")}));
  ASSERT_EQ(seeded.code, 0) << seeded.err;
  llvm::Expected<hope::train::TensorFile> file =
      hope::train::readTensorFile(dir.path("seeded.safetensors"), true);
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  ASSERT_EQ(file->tensors.size(), 1u);
  std::vector<float> expected = mlir::nl::models::SeededWeights(0).generateF32(
      "table", {16, 16},
      {mlir::nl::models::InitRule::TokenShift, /*scale=*/2.0});
  ASSERT_EQ(file->tensors[0].bytes.size(), expected.size() * sizeof(float));
  std::vector<float> values(expected.size());
  std::memcpy(values.data(), file->tensors[0].bytes.data(),
              file->tensors[0].bytes.size());
  EXPECT_EQ(values, expected);
  EXPECT_EQ(values[14], 2.0f); // channel 0: the previous token's tap
  EXPECT_EQ(values[16 + 15], 2.0f); // channel 1: the current token's

  std::string message = error(args("bad", 0, HOPE_TRAIN_BAD_INIT));
  EXPECT_EQ(message, std::string(HOPE_TRAIN_BAD_INIT) +
                         ": the weight 'table' has an unknown init "
                         "\"spiral\" (docs/artifact-abi.md, \"Manifest\")");
}

TEST_F(HopeTrainArtifact, NaNStopsAndKeepsTheLastGoodCheckpoint) {
  std::vector<std::string> poisoned = args("nan", 12, HOPE_TRAIN_POISONED);
  poisoned.push_back("--checkpoint-every=2");
  EXPECT_EQ(error(poisoned),
            "step 3: the updated weight 'table' holds a NaN or an infinity; "
            "training stopped (" +
                checkpoint("nan") + " still holds step 2)");
  llvm::Expected<hope::train::TensorFile> kept =
      hope::train::readTensorFile(checkpoint("nan"), true);
  ASSERT_TRUE(bool(kept)) << llvm::toString(kept.takeError());
  EXPECT_EQ(kept->metadata["step"], "2");
}

TEST_F(HopeTrainArtifact, RefusesForeignCorruptAndExistingCheckpoints) {
  ASSERT_EQ(run(args("run", 4)).code, 0);
  std::string before = hope::test::readFile(checkpoint("run"));
  // Another model's artifact.
  std::string message =
      error(with(args("run", 8, HOPE_TRAIN_OTHER), {"--resume", "--vocab=12"}));
  EXPECT_TRUE(llvm::StringRef(message).starts_with(
      checkpoint("run") + ": a checkpoint of another model (fingerprint "))
      << message;
  // Without --resume, nothing is overwritten.
  EXPECT_EQ(error(args("run", 8)),
            checkpoint("run") +
                " already holds a checkpoint: pass --resume to continue it, "
                "or choose another --checkpoint-dir");
  EXPECT_EQ(hope::test::readFile(checkpoint("run")), before);
  // A flipped bit.
  std::string corrupt = before;
  corrupt[corrupt.size() - 3] ^= 4;
  hope::test::writeFile(checkpoint("run"), corrupt);
  message = error(with(args("run", 8), {"--resume"}));
  EXPECT_TRUE(llvm::StringRef(message).starts_with(
      checkpoint("run") + ": corrupted: the checksum is "))
      << message;
  EXPECT_EQ(hope::test::readFile(checkpoint("run")), corrupt);
}

TEST_F(HopeTrainArtifact, VocabularyMustFit) {
  EXPECT_EQ(error(args("small", 4, HOPE_TRAIN_OTHER)),
            "the task's vocabulary (16) exceeds the model's (12)");
}

} // namespace
