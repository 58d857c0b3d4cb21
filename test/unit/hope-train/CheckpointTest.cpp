//===- CheckpointTest.cpp - tensor files, checkpoints, atomic saves -------===//

#include "Checkpoint.h"
#include "FakeSession.h"

#include "AtomicFile.h"
#include "TestUtil.h"

#include "llvm/Support/FileSystem.h"

#include <cstring>

using namespace hope::train;
using hope::test::TempDir;
using hope::test::readFile;
using hope::test::writeFile;

namespace {

std::string errorOf(llvm::Error error) {
  EXPECT_TRUE(bool(error));
  return llvm::toString(std::move(error));
}
template <typename T> std::string errorOf(llvm::Expected<T> value) {
  EXPECT_FALSE(bool(value));
  return value ? "" : llvm::toString(value.takeError());
}

bool contains(const std::string &text, llvm::StringRef part) {
  return llvm::StringRef(text).contains(part);
}

/// Gives the fake's weights recognisable values.

void fillWeights(const TrainingSession &session, float base) {
  for (const WeightBuffer &weight : session.weights()) {
    auto *values = reinterpret_cast<float *>(weight.data);
    for (size_t i = 0; i < weight.bytes / sizeof(float); ++i)
      values[i] = base + float(i);
    base += 1000;
  }
}

std::vector<char> bytesOf(const TrainingSession &session) {
  std::vector<char> bytes;
  for (const WeightBuffer &weight : session.weights())
    bytes.insert(bytes.end(), weight.data, weight.data + weight.bytes);
  return bytes;
}

CheckpointState sampleState(const TrainingSession &session) {
  CheckpointState state;
  state.step = 12;
  state.dataPosition = 96;
  state.seed = 7;
  state.trainLossSum = 1.0 / 3.0;
  state.trainLossCount = 2;
  state.options = R"({"data":{"task":"mqar"}})";
  state.fingerprint = session.fingerprint();
  state.curves = {{10, 2.5, 2.25, 0.125, 1234.5}};
  return state;
}

TEST(TensorFile, RoundTripsTensorsAndMetadata) {
  TempDir dir;
  std::vector<float> a = {1.5f, -2, 3};
  std::vector<int64_t> b = {-1, 1LL << 40};
  std::vector<int64_t> shapeA = {3}, shapeB = {1, 2};
  std::vector<TensorView> views = {
      {"a", HOPE_DTYPE_F32, shapeA,
       {reinterpret_cast<char *>(a.data()), 12}},
      {"b", HOPE_DTYPE_I64, shapeB,
       {reinterpret_cast<char *>(b.data()), 16}}};
  std::string path = dir.path("t.safetensors");
  ASSERT_FALSE(bool(writeTensorFile(path, views, {{"step", "3"}})));
  llvm::Expected<TensorFile> file = readTensorFile(path, true);
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  ASSERT_EQ(file->tensors.size(), 2u);
  EXPECT_EQ(file->tensors[0].name, "a");
  EXPECT_EQ(file->tensors[1].shape, shapeB);
  EXPECT_EQ(std::memcmp(file->tensors[1].bytes.data(), b.data(), 16), 0);
  EXPECT_EQ(file->metadata["step"], "3");
  EXPECT_TRUE(llvm::StringRef(file->metadata["checksum"]).starts_with("xxh3-64:"));
  // The runtime (hope-run --weights) reads it too.
  hope::Expected<hope::TensorMap> map = hope::readSafetensors(path);
  ASSERT_TRUE(bool(map)) << map.getError().message();
  EXPECT_EQ(map->size(), 2u);
}

TEST(TensorFile, CorruptionIsAnErrorNamingTheFile) {
  TempDir dir;
  std::vector<float> a(64, 0.5f);
  std::vector<int64_t> shape = {64};
  std::string path = dir.path("t.safetensors");
  ASSERT_FALSE(bool(writeTensorFile(
      path, {{"a", HOPE_DTYPE_F32, shape,
              {reinterpret_cast<char *>(a.data()), 256}}},
      {})));
  std::string bytes = readFile(path);
  std::string flipped = bytes;
  flipped[flipped.size() - 5] ^= 0x10; // a data byte
  writeFile(path, flipped);
  std::string message = errorOf(readTensorFile(path, true));
  EXPECT_TRUE(contains(message, path + ": corrupted: the checksum is"))
      << message;
  std::string truncated = bytes.substr(0, bytes.size() - 4);
  writeFile(path, truncated);
  message = errorOf(readTensorFile(path, true));
  EXPECT_TRUE(contains(message, path + ": corrupted or not a safetensors file"))
      << message;
  writeFile(path, "\xff\xff\xff\xff\xff\xff\xff\x7f{}");
  message = errorOf(readTensorFile(path, true));
  EXPECT_TRUE(contains(message, "the header length")) << message;
}

TEST(Checkpoint, RoundTrip) {
  TempDir dir;
  test::FakeSession session(8);
  fillWeights(session, 1);
  std::vector<char> saved = bytesOf(session);
  CheckpointState state = sampleState(session);
  std::string path = dir.path(kCheckpointFileName);
  ASSERT_FALSE(bool(saveCheckpoint(path, session.weights(), state)));

  test::FakeSession restored(8);
  llvm::Expected<CheckpointState> loaded =
      loadCheckpoint(path, restored.fingerprint(), restored.weights());
  ASSERT_TRUE(bool(loaded)) << llvm::toString(loaded.takeError());
  EXPECT_EQ(bytesOf(restored), saved);
  EXPECT_EQ(loaded->step, 12);
  EXPECT_EQ(loaded->dataPosition, 96u);
  EXPECT_EQ(loaded->seed, 7u);
  EXPECT_EQ(loaded->trainLossSum, 1.0 / 3.0) << "exact, not rounded";
  EXPECT_EQ(loaded->trainLossCount, 2);
  EXPECT_EQ(loaded->options, state.options);
  ASSERT_EQ(loaded->curves.size(), 1u);
  EXPECT_EQ(loaded->curves[0].evalAccuracy, 0.125);
  EXPECT_EQ(loaded->curves[0].tokensPerSecond, 1234.5);
}

TEST(Checkpoint, AnotherModelIsRefusedAndNothingChanges) {
  TempDir dir;
  test::FakeSession session(8, "bigram");
  fillWeights(session, 1);
  std::string path = dir.path(kCheckpointFileName);
  ASSERT_FALSE(
      bool(saveCheckpoint(path, session.weights(), sampleState(session))));
  std::string before = readFile(path);

  test::FakeSession other(8, "trigram");
  fillWeights(other, 5);
  std::vector<char> mine = bytesOf(other);
  std::string message =
      errorOf(loadCheckpoint(path, other.fingerprint(), other.weights()));
  EXPECT_EQ(message, path + ": a checkpoint of another model (fingerprint "
                            "bigram-8; this model's is trigram-8)");
  EXPECT_EQ(bytesOf(other), mine);
  EXPECT_EQ(readFile(path), before);

  // Same fingerprint, other weights (a hand-edited fingerprint): refused.
  test::FakeSession bigger(4, "bigram");
  message = errorOf(loadCheckpoint(path, "bigram-8", bigger.weights()));
  EXPECT_EQ(message, path + ": tensor 'table' has another dtype or shape "
                            "than the model's");
}

TEST(Checkpoint, CorruptionNamesTheFile) {
  TempDir dir;
  test::FakeSession session(8);
  fillWeights(session, 1);
  std::string path = dir.path(kCheckpointFileName);
  ASSERT_FALSE(
      bool(saveCheckpoint(path, session.weights(), sampleState(session))));
  std::string bytes = readFile(path);
  bytes[bytes.size() - 100] ^= 1;
  writeFile(path, bytes);
  std::vector<char> mine = bytesOf(session);
  std::string message =
      errorOf(loadCheckpoint(path, session.fingerprint(), session.weights()));
  EXPECT_TRUE(contains(message, path + ": corrupted: the checksum is"))
      << message;
  EXPECT_EQ(bytesOf(session), mine);
}

TEST(Checkpoint, AnInterruptedSaveKeepsThePreviousOne) {
  TempDir dir;
  test::FakeSession session(8);
  fillWeights(session, 1);
  std::vector<char> first = bytesOf(session);
  std::string path = dir.path(kCheckpointFileName);
  CheckpointState state = sampleState(session);
  ASSERT_FALSE(bool(saveCheckpoint(path, session.weights(), state)));

  // The second save dies after its temporary file is complete.
  fillWeights(session, 100);
  state.step = 20;
  std::string message = errorOf(saveCheckpoint(
      path, session.weights(), state,
      [] { return llvm::createStringError("killed"); }));
  EXPECT_EQ(message, "killed");
  EXPECT_TRUE(llvm::sys::fs::exists(getTemporaryPath(path)));

  test::FakeSession restored(8);
  llvm::Expected<CheckpointState> loaded =
      loadCheckpoint(path, restored.fingerprint(), restored.weights());
  ASSERT_TRUE(bool(loaded)) << llvm::toString(loaded.takeError());
  EXPECT_EQ(loaded->step, 12);
  EXPECT_EQ(bytesOf(restored), first);

  // The next save replaces both.
  ASSERT_FALSE(bool(saveCheckpoint(path, session.weights(), state)));
  EXPECT_FALSE(llvm::sys::fs::exists(getTemporaryPath(path)));
  loaded = loadCheckpoint(path, restored.fingerprint(), restored.weights());
  ASSERT_TRUE(bool(loaded)) << llvm::toString(loaded.takeError());
  EXPECT_EQ(loaded->step, 20);
}

} // namespace
