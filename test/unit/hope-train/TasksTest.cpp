//===- TasksTest.cpp - the tasks' formats, determinism, held-out split ----===//

#include "Tasks.h"

#include "TestUtil.h"

#include <map>
#include <set>

using namespace hope::train;
using hope::test::TempDir;

namespace {

std::unique_ptr<Task> make(TaskOptions options) {
  llvm::Expected<std::unique_ptr<Task>> task = createTask(options);
  EXPECT_TRUE(bool(task)) << llvm::toString(task.takeError());
  return task ? std::move(*task) : nullptr;
}

std::string errorOf(TaskOptions options) {
  llvm::Expected<std::unique_ptr<Task>> task = createTask(options);
  EXPECT_FALSE(bool(task));
  return task ? "" : llvm::toString(task.takeError());
}

TEST(Tasks, MqarFormat) {
  TaskOptions options; // vocabulary 64, 8 pairs, length 64
  std::unique_ptr<Task> task = make(options);
  Batch batch = task->makeBatch(Split::Train, 0, 16);
  for (int64_t b = 0; b < 16; ++b) {
    const int64_t *tokens = &batch.tokens[b * 64];
    const int64_t *targets = &batch.targets[b * 64];
    std::set<int64_t> keys;
    std::map<int64_t, int64_t> valueOf;
    for (int64_t i = 0; i < 8; ++i) {
      EXPECT_GE(tokens[2 * i], 1);
      EXPECT_LT(tokens[2 * i], 32);
      EXPECT_GE(tokens[2 * i + 1], 32);
      EXPECT_LT(tokens[2 * i + 1], 64);
      keys.insert(tokens[2 * i]);
      valueOf[tokens[2 * i]] = tokens[2 * i + 1];
      EXPECT_EQ(targets[2 * i], -1);
      EXPECT_EQ(targets[2 * i + 1], -1);
    }
    EXPECT_EQ(keys.size(), 8u) << "keys are distinct";
    std::set<int64_t> queried;
    for (int64_t t = 16; t < 64; ++t) {
      if (targets[t] < 0) {
        if (t % 2 == 0 && tokens[t] == 0)
          EXPECT_EQ(tokens[t + 1], 0) << "an empty slot is filler";
        continue;
      }
      EXPECT_EQ(t % 2, 0) << "queries start a slot";
      ASSERT_TRUE(valueOf.count(tokens[t]));
      EXPECT_EQ(targets[t], valueOf[tokens[t]]);
      EXPECT_EQ(tokens[t + 1], targets[t]) << "the answer follows the query";
      queried.insert(tokens[t]);
    }
    EXPECT_EQ(queried, keys) << "every key is queried once";
  }
}

TEST(Tasks, NeedleFormat) {
  TaskOptions options;
  options.spec = "needle";
  options.length = 32;
  options.depth = 0.25;
  std::unique_ptr<Task> task = make(options);
  Batch batch = task->makeBatch(Split::Eval, 3, 4);
  int64_t at = int64_t(0.25 * (32 - 4));
  for (int64_t b = 0; b < 4; ++b) {
    const int64_t *tokens = &batch.tokens[b * 32];
    const int64_t *targets = &batch.targets[b * 32];
    EXPECT_EQ(tokens[at], 1);
    EXPECT_EQ(tokens[30], 2);
    EXPECT_EQ(tokens[31], tokens[at + 1]);
    EXPECT_EQ(targets[30], tokens[at + 1]);
    for (int64_t t = 0; t < 32; ++t) {
      if (t != 30)
        EXPECT_EQ(targets[t], -1);
      if (t != at && t != 30)
        EXPECT_GE(tokens[t], 3);
    }
  }
}

TEST(Tasks, CopyFormat) {
  TaskOptions options;
  options.spec = "copy";
  options.length = 10; // 4 symbols, a separator, 4 copies, one pad
  std::unique_ptr<Task> task = make(options);
  Batch batch = task->makeBatch(Split::Train, 7, 1);
  llvm::ArrayRef<int64_t> tokens(batch.tokens), targets(batch.targets);
  EXPECT_EQ(tokens[4], 1);
  EXPECT_EQ(tokens[9], 0);
  for (int64_t i = 0; i < 4; ++i) {
    EXPECT_GE(tokens[i], 2);
    EXPECT_EQ(tokens[5 + i], tokens[i]);
    EXPECT_EQ(targets[4 + i], tokens[i]);
    EXPECT_EQ(targets[i], -1);
  }
  EXPECT_EQ(targets[8], -1);
  EXPECT_EQ(targets[9], -1);
}

TEST(Tasks, TextIsBytesWithHeldOutTail) {
  // 250 distinct bytes: every window has one place in the file. The last
  // 25 are held out; windows of 8 tokens need 9 bytes.
  TempDir dir;
  std::string text;
  for (int i = 0; i < 250; ++i)
    text.push_back(char(i));
  std::string path = dir.path("book.txt");
  hope::test::writeFile(path, text);
  TaskOptions options;
  options.spec = "text:" + path;
  options.length = 8;
  std::unique_ptr<Task> task = make(options);
  EXPECT_EQ(task->vocabulary(), 256);
  Batch train = task->makeBatch(Split::Train, 0, 256);
  std::set<int64_t> starts;
  for (int64_t b = 0; b < 256; ++b) {
    int64_t start = train.tokens[b * 8];
    starts.insert(start);
    EXPECT_LE(start + 9, 225) << "a training window reads the held-out part";
    for (int64_t t = 0; t < 8; ++t) {
      EXPECT_EQ(train.tokens[b * 8 + t], start + t);
      EXPECT_EQ(train.targets[b * 8 + t], start + t + 1);
    }
  }
  EXPECT_GT(starts.size(), 100u) << "windows start all over the first 90%";
  Batch held = task->makeBatch(Split::Eval, 0, 4);
  // Three windows fit in the last 25 bytes, in order, then they repeat.
  for (int64_t b = 0; b < 4; ++b) {
    EXPECT_EQ(held.tokens[b * 8], 225 + (b % 3) * 8);
    EXPECT_EQ(held.targets[b * 8 + 7], 225 + (b % 3) * 8 + 8);
  }
}

TEST(Tasks, DeterministicFromSeedSplitAndIndex) {
  for (const char *spec : {"mqar", "needle", "copy"}) {
    TaskOptions options;
    options.spec = spec;
    std::unique_ptr<Task> task = make(options);
    Batch whole = task->makeBatch(Split::Train, 10, 4);
    Batch again = make(options)->makeBatch(Split::Train, 10, 4);
    EXPECT_EQ(whole.tokens, again.tokens) << spec;
    EXPECT_EQ(whole.targets, again.targets) << spec;
    // A batch is its sequences: position, not history, decides them.
    Batch tail = task->makeBatch(Split::Train, 12, 2);
    EXPECT_EQ(std::vector<int64_t>(whole.tokens.begin() + 2 * 64,
                                   whole.tokens.end()),
              tail.tokens)
        << spec;
    options.seed = 1;
    EXPECT_NE(make(options)->makeBatch(Split::Train, 10, 4).tokens,
              whole.tokens)
        << spec;
  }
}

TEST(Tasks, HeldOutStreamIsDisjoint) {
  TaskOptions options;
  std::unique_ptr<Task> task = make(options);
  Batch train = task->makeBatch(Split::Train, 0, 2000);
  Batch held = task->makeBatch(Split::Eval, 0, 64);
  std::set<std::vector<int64_t>> seen;
  for (int64_t b = 0; b < 2000; ++b)
    seen.insert({train.tokens.begin() + b * 64,
                 train.tokens.begin() + (b + 1) * 64});
  for (int64_t b = 0; b < 64; ++b)
    EXPECT_FALSE(seen.count({held.tokens.begin() + b * 64,
                             held.tokens.begin() + (b + 1) * 64}));
}

TEST(Tasks, Errors) {
  TaskOptions options;
  options.spec = "sort";
  EXPECT_EQ(errorOf(options),
            "unknown task 'sort' (expected mqar, needle, copy or text:FILE)");
  options.spec = "text:/nonexistent/book.txt";
  EXPECT_EQ(errorOf(options), "--task=text:/nonexistent/book.txt: No such "
                              "file or directory");
  options.spec = "mqar";
  options.pairs = 40;
  EXPECT_NE(errorOf(options).find("--pairs=40 must be between 1 and 31"),
            std::string::npos);
  options.pairs = 20;
  EXPECT_NE(errorOf(options).find("--seq-len=64 is below 4 x --pairs = 80"),
            std::string::npos);
  options.spec = "needle";
  options.depth = 1.5;
  EXPECT_NE(errorOf(options).find("--depth=1.5"), std::string::npos);

  TempDir dir;
  std::string path = dir.path("short.txt");
  hope::test::writeFile(path, "too short");
  options.spec = "text:" + path;
  EXPECT_NE(errorOf(options).find("9 bytes are too few for --seq-len=64"),
            std::string::npos);
}

} // namespace
