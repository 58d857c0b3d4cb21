//===- TrainerTest.cpp - the loop on the fake session ---------------------===//
//
// The loop against FakeSession (test code; see FakeSession.h): learning,
// bit-identical resume, NaN stops, and the checkpoint left behind.
//
//===----------------------------------------------------------------------===//

#include "FakeSession.h"
#include "Trainer.h"

#include "TestUtil.h"

#include "llvm/Support/FileSystem.h"

using namespace hope::train;
using hope::test::TempDir;

namespace {

struct Outcome {
  std::vector<double> losses;
  std::vector<char> weights;
  std::string log;
  llvm::Error error = llvm::Error::success();
  CheckpointState state;
};

/// The copy task, vocabulary 8, length 9: a bigram cannot copy, but it
/// learns that targets are symbols (2..7): the loss falls from log 8
/// towards log 6.
std::unique_ptr<Task> copyTask(uint64_t seed = 0) {
  TaskOptions options;
  options.spec = "copy";
  options.vocabulary = 8;
  options.length = 9;
  options.seed = seed;
  return std::move(*createTask(options));
}

TrainerOptions baseOptions(const TempDir &dir) {
  TrainerOptions options;
  options.steps = 12;
  options.batch = 4;
  options.lr = 0.5f;
  options.evalEvery = 4;
  options.evalBatches = 2;
  options.checkpointPath = dir.path("checkpoint.safetensors");
  options.curvesPrefix = dir.path("curves");
  options.dataOptions = R"({"task":"copy","seed":0})";
  options.options = R"({"data":{"task":"copy","seed":0}})";
  return options;
}

Outcome train(test::FakeSession &session, const Task &task,
          TrainerOptions options) {
  Outcome run;
  options.onStep = [&](int64_t, const StepResult &result) {
    run.losses.push_back(result.loss);
  };
  llvm::raw_string_ostream log(run.log);
  ProgressBar progress(log, false);
  llvm::Expected<CheckpointState> state =
      runTraining(session, task, options, progress);
  if (state)
    run.state = std::move(*state);
  else
    run.error = state.takeError();
  for (const WeightBuffer &weight : session.weights())
    run.weights.insert(run.weights.end(), weight.data,
                       weight.data + weight.bytes);
  return run;
}

TEST(Trainer, LearnsAndWritesCurvesAndCheckpoint) {
  TempDir dir;
  test::FakeSession session(8);
  std::unique_ptr<Task> task = copyTask();
  Outcome run = train(session, *task, baseOptions(dir));
  ASSERT_FALSE(bool(run.error)) << llvm::toString(std::move(run.error));
  ASSERT_EQ(run.losses.size(), 12u);
  EXPECT_NEAR(run.losses.front(), std::log(8.0), 1e-6) << "zero weights";
  EXPECT_LT(run.losses.back(), run.losses.front() - 0.05);
  ASSERT_EQ(run.state.curves.size(), 3u);
  EXPECT_EQ(run.state.curves.back().step, 12);
  EXPECT_EQ(run.state.dataPosition, 48u);
  // One line per evaluation (not a terminal).
  EXPECT_EQ(llvm::StringRef(run.log).count('\n'), 3u) << run.log;
  EXPECT_TRUE(llvm::StringRef(run.log).starts_with("eval step 4/12: "));
  std::string csv = hope::test::readFile(dir.path("curves.csv"));
  EXPECT_EQ(llvm::StringRef(csv).count('\n'), 4u) << csv;
  EXPECT_TRUE(llvm::sys::fs::exists(dir.path("curves.svg")));
  test::FakeSession restored(8);
  llvm::Expected<CheckpointState> saved =
      loadCheckpoint(dir.path("checkpoint.safetensors"),
                     restored.fingerprint(), restored.weights());
  ASSERT_TRUE(bool(saved)) << llvm::toString(saved.takeError());
  EXPECT_EQ(saved->step, 12);
}

TEST(Trainer, ResumeIsBitIdentical) {
  std::unique_ptr<Task> task = copyTask();
  TempDir whole;
  test::FakeSession straight(8);
  Outcome reference = train(straight, *task, baseOptions(whole));
  ASSERT_FALSE(bool(reference.error));

  // Killed during step 7 (a failing step stands in for the kill) after a
  // checkpoint at step 6, which is no evaluation step: the running
  // training loss is in the checkpoint. Then resumed in a new session.
  TempDir split;
  TrainerOptions first = baseOptions(split);
  first.checkpointEvery = 3;
  test::FakeSession before(8);
  before.poisonLossAt(7);
  Outcome head = train(before, *task, first);
  ASSERT_TRUE(bool(head.error));
  llvm::consumeError(std::move(head.error));
  ASSERT_EQ(head.losses.size(), 6u);
  test::FakeSession after(8);
  TrainerOptions second = baseOptions(split);
  second.checkpointEvery = 3;
  second.resume = true;
  Outcome tail = train(after, *task, second);
  ASSERT_FALSE(bool(tail.error)) << llvm::toString(std::move(tail.error));
  EXPECT_TRUE(llvm::StringRef(tail.log).starts_with("resumed from "));

  std::vector<double> joined = head.losses;
  joined.insert(joined.end(), tail.losses.begin(), tail.losses.end());
  EXPECT_EQ(joined, reference.losses);
  EXPECT_EQ(tail.weights, reference.weights);
  // The curves agree too, except the throughput.
  ASSERT_EQ(tail.state.curves.size(), reference.state.curves.size());
  for (size_t i = 0; i < tail.state.curves.size(); ++i) {
    EXPECT_EQ(tail.state.curves[i].trainLoss,
              reference.state.curves[i].trainLoss);
    EXPECT_EQ(tail.state.curves[i].evalLoss, reference.state.curves[i].evalLoss);
  }
}

TEST(Trainer, ResumeRefusesOtherData) {
  std::unique_ptr<Task> task = copyTask();
  TempDir dir;
  TrainerOptions first = baseOptions(dir);
  first.steps = 4;
  test::FakeSession session(8);
  ASSERT_FALSE(bool(train(session, *task, first).error));
  TrainerOptions second = baseOptions(dir);
  second.resume = true;
  second.dataOptions = R"({"task":"copy","seed":1})";
  test::FakeSession other(8);
  Outcome run = train(other, *task, second);
  EXPECT_EQ(llvm::toString(std::move(run.error)),
            dir.path("checkpoint.safetensors") +
                ": was trained with --seed=0, not 1: resume with the same "
                "data options");
}

TEST(Trainer, ExistingCheckpointNeedsResume) {
  std::unique_ptr<Task> task = copyTask();
  TempDir dir;
  TrainerOptions options = baseOptions(dir);
  options.steps = 4;
  test::FakeSession session(8);
  ASSERT_FALSE(bool(train(session, *task, options).error));
  std::string before = hope::test::readFile(options.checkpointPath);
  test::FakeSession again(8);
  Outcome run = train(again, *task, options);
  EXPECT_EQ(llvm::toString(std::move(run.error)),
            options.checkpointPath +
                " already holds a checkpoint: pass --resume to continue it, "
                "or choose another --checkpoint-dir");
  EXPECT_EQ(hope::test::readFile(options.checkpointPath), before);
}

TEST(Trainer, NaNStopsAndKeepsTheLastGoodCheckpoint) {
  std::unique_ptr<Task> task = copyTask();
  for (float poison : {NAN, INFINITY}) {
    TempDir dir;
    test::FakeSession session(8);
    session.poisonAt(7, poison);
    Outcome run = train(session, *task, baseOptions(dir));
    EXPECT_EQ(llvm::toString(std::move(run.error)),
              "step 7: the updated weight 'table' holds a NaN or an infinity; "
              "training stopped (" +
                  dir.path("checkpoint.safetensors") + " still holds step 4)");
    EXPECT_EQ(run.losses.size(), 6u);
    test::FakeSession restored(8);
    llvm::Expected<CheckpointState> saved =
        loadCheckpoint(dir.path("checkpoint.safetensors"),
                       restored.fingerprint(), restored.weights());
    ASSERT_TRUE(bool(saved)) << llvm::toString(saved.takeError());
    EXPECT_EQ(saved->step, 4);
  }
}

TEST(Trainer, NaNLossIsNamed) {
  std::unique_ptr<Task> task = copyTask();
  TempDir dir;
  TrainerOptions options = baseOptions(dir);
  options.checkpointPath.clear();
  test::FakeSession session(8);
  session.poisonLossAt(3);
  Outcome run = train(session, *task, options);
  EXPECT_EQ(llvm::toString(std::move(run.error)),
            "step 3: the loss is NaN; training stopped (no checkpoint was "
            "written after step 2)");
}

TEST(Trainer, VocabularyMustFit) {
  std::unique_ptr<Task> task = copyTask();
  TempDir dir;
  test::FakeSession small(4);
  Outcome run = train(small, *task, baseOptions(dir));
  EXPECT_EQ(llvm::toString(std::move(run.error)),
            "the task's vocabulary (8) exceeds the model's (4)");
}

} // namespace
