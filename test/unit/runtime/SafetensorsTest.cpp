//===- SafetensorsTest.cpp - the safetensors reader and writer ------------===//

#include "TestUtil.h"

#include "llvm/Support/Endian.h"

using namespace hope;
using namespace hope::test;

namespace {

/// A file of `header` (its length prefixed) and `data`.
std::string safetensors(llvm::StringRef header, llvm::StringRef data = "") {
  char size[8];
  llvm::support::endian::write64le(size, header.size());
  return std::string(size, 8) + header.str() + data.str();
}

/// The message of reading `bytes` as a file called st.safetensors.
std::string readError(const TempDir &dir, llvm::StringRef bytes) {
  std::string path = dir.path("st.safetensors");
  writeFile(path, bytes);
  hope::Expected<TensorMap> map = readSafetensors(path);
  std::string message = messageOf(map);
  llvm::StringRef rest(message);
  // Drop the directory, keep the file name.
  if (rest.consume_front(dir.path("")))
    return rest.str();
  return message;
}

TEST(Safetensors, ReadsAFileOfTheReferenceWriter) {
  // safetensors.numpy.save({"w": f32 [[1, 2], [3, 4]], "step": i64 [7],
  //   "s": f64 0.5}, metadata={"format": "np"}), version 0.8.
  TempDir dir;
  std::string path = dir.path("reference.safetensors");
  writeFile(path,
            fromHex("c8000000000000007b225f5f6d657461646174615f5f223a7b22666f72"
                    "6d6174223a226e70227d2c2273746570223a7b226474797065223a2249"
                    "3634222c227368617065223a5b315d2c22646174615f6f666673657473"
                    "223a5b302c385d7d2c2273223a7b226474797065223a22463634222c22"
                    "7368617065223a5b5d2c22646174615f6f666673657473223a5b382c31"
                    "365d7d2c2277223a7b226474797065223a22463332222c227368617065"
                    "223a5b322c325d2c22646174615f6f666673657473223a5b31362c3332"
                    "5d7d7d20200700000000000000000000000000e03f0000803f00000040"
                    "0000404000008040"));
  TensorMap map = take(readSafetensors(path));
  ASSERT_EQ(map.size(), 3u);
  // In the order of their data.
  EXPECT_EQ(map.entry(0).first, "step");
  EXPECT_EQ(map.entry(1).first, "s");
  EXPECT_EQ(map.entry(2).first, "w");
  EXPECT_EQ(valuesOf<int64_t>(take(map.find("step"))), std::vector<int64_t>{7});
  Tensor s = take(map.find("s"));
  EXPECT_TRUE(s.shape().empty());
  EXPECT_EQ(valuesOf<double>(s), std::vector<double>{0.5});
  Tensor w = take(map.find("w"));
  EXPECT_EQ(w.shape(), llvm::ArrayRef<int64_t>({2, 2}));
  EXPECT_EQ(valuesOf<float>(w), (std::vector<float>{1, 2, 3, 4}));
}

TEST(Safetensors, RoundTrip) {
  TempDir dir;
  TensorMap map = take(TensorMap::create());
  ASSERT_FALSE(map.set("b.f32", tensorOf<float>({2, 3}, {1, 2, 3, 4, 5, 6})));
  ASSERT_FALSE(map.set("a.f64", tensorOf<double>({}, {0.25})));
  ASSERT_FALSE(map.set("i64", tensorOf<int64_t>({3}, {-1, 0, 1LL << 40})));
  ASSERT_FALSE(map.set("empty", take(Tensor::create(HOPE_DTYPE_F32, {0, 4}))));
  // A strided view is written dense.
  float storage[] = {1, 2, 3, 4};
  ASSERT_FALSE(map.set("transposed", take(Tensor::wrap(HOPE_DTYPE_F32, {2, 2},
                                                       storage, {1, 2}))));
  std::string path = dir.path("round.safetensors");
  ASSERT_FALSE(writeSafetensors(path, map));

  std::string bytes = readFile(path);
  uint64_t headerSize = llvm::support::endian::read64le(bytes.data());
  EXPECT_EQ(headerSize % 8, 0u) << "the data starts 8-byte aligned";

  TensorMap back = take(readSafetensors(path));
  ASSERT_EQ(back.size(), 5u);
  EXPECT_EQ(back.entry(0).first, "b.f32"); // written in the map's order
  EXPECT_EQ(valuesOf<float>(take(back.find("b.f32"))),
            (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(take(back.find("b.f32")).shape(), llvm::ArrayRef<int64_t>({2, 3}));
  EXPECT_EQ(valuesOf<double>(take(back.find("a.f64"))),
            std::vector<double>{0.25});
  EXPECT_EQ(valuesOf<int64_t>(take(back.find("i64"))),
            (std::vector<int64_t>{-1, 0, 1LL << 40}));
  EXPECT_EQ(take(back.find("empty")).shape(), llvm::ArrayRef<int64_t>({0, 4}));
  EXPECT_EQ(valuesOf<float>(take(back.find("transposed"))),
            (std::vector<float>{1, 3, 2, 4}));
}

TEST(Safetensors, TruncatedAtEveryByteIsAnError) {
  TempDir dir;
  TensorMap map = take(TensorMap::create());
  ASSERT_FALSE(map.set("w", tensorOf<float>({2, 3}, {1, 2, 3, 4, 5, 6})));
  ASSERT_FALSE(map.set("step", tensorOf<int64_t>({}, {3})));
  std::string path = dir.path("full.safetensors");
  ASSERT_FALSE(writeSafetensors(path, map));
  std::string bytes = readFile(path);
  ASSERT_GT(bytes.size(), 100u);
  std::string cut = dir.path("cut.safetensors");
  for (size_t size = 0; size < bytes.size(); ++size) {
    writeFile(cut, llvm::StringRef(bytes).take_front(size));
    hope::Expected<TensorMap> read = readSafetensors(cut);
    ASSERT_FALSE(read) << "a file cut to " << size << " bytes was read";
    EXPECT_EQ(codeOf(read), HOPE_INVALID_FORMAT);
  }
  EXPECT_TRUE(bool(readSafetensors(path)));
}

TEST(Safetensors, EveryFlawIsNamed) {
  TempDir dir;
  auto entry = [](llvm::StringRef name, llvm::StringRef dtype,
                  llvm::StringRef shape, llvm::StringRef offsets) {
    return ("\"" + name + "\": {\"dtype\": \"" + dtype +
            "\", \"shape\": " + shape + ", \"data_offsets\": " + offsets + "}")
        .str();
  };
  std::string eight(8, '\0');
  EXPECT_EQ(readError(dir, "1234"),
            "st.safetensors: file is 4 bytes long, too short for the 8-byte "
            "header length");
  EXPECT_EQ(readError(dir, safetensors("{}").substr(0, 8) + "{"),
            "st.safetensors: header length 2 exceeds the 1 bytes after it "
            "(truncated file?)");
  std::string unfinished = readError(dir, safetensors("{\"a\": "));
  EXPECT_EQ(unfinished.rfind("st.safetensors: header: not valid JSON: ", 0), 0u)
      << unfinished;
  EXPECT_EQ(readError(dir, safetensors("[]")),
            "st.safetensors: header is not a JSON object");
  EXPECT_EQ(readError(dir, safetensors("{\"a\": 3}")),
            "st.safetensors: tensor 'a' is not described by a JSON object");
  EXPECT_EQ(readError(dir, safetensors("{\"a\": {\"shape\": []}}")),
            "st.safetensors: tensor 'a' has no string field 'dtype'");
  EXPECT_EQ(
      readError(dir, safetensors("{" + entry("a", "F31", "[]", "[0, 4]") + "}",
                                 "1234")),
      "st.safetensors: tensor 'a' has an unknown dtype 'F31'");
  EXPECT_EQ(readError(dir, safetensors(
                               "{" + entry("a", "F32", "[-1]", "[0, 4]") + "}",
                               "1234")),
            "st.safetensors: tensor 'a' has a 'shape' that is not a list of "
            "non-negative integers");
  EXPECT_EQ(
      readError(dir, safetensors("{" + entry("a", "F32", "[1]", "[0]") + "}",
                                 "1234")),
      "st.safetensors: tensor 'a' has no field 'data_offsets' of two "
      "non-negative integers");
  EXPECT_EQ(
      readError(dir, safetensors("{" + entry("a", "F32", "[1]", "[4, 0]") + "}",
                                 "1234")),
      "st.safetensors: tensor 'a' has data_offsets [4, 0] that end "
      "before they begin");
  EXPECT_EQ(
      readError(dir, safetensors("{" + entry("a", "F32", "[2]", "[0, 8]") + "}",
                                 "1234")),
      "st.safetensors: tensor 'a' has data_offsets [0, 8] past the end "
      "of the data (4 bytes; truncated file?)");
  EXPECT_EQ(
      readError(dir, safetensors("{" + entry("a", "F32", "[2]", "[0, 4]") + "}",
                                 "1234")),
      "st.safetensors: tensor 'a' has dtype F32 and shape [2] but "
      "data_offsets [0, 4] hold 4 bytes");
  EXPECT_EQ(readError(dir, safetensors("{" +
                                           entry("a", "F32",
                                                 "[4611686018427387904, 8]",
                                                 "[0, 4]") +
                                           "}",
                                       "1234")),
            "st.safetensors: tensor 'a' has dtype F32 and shape "
            "[4611686018427387904, 8] but data_offsets [0, 4] hold 4 bytes");
  EXPECT_EQ(readError(dir, safetensors(
                               "{" + entry("a", "F32", "[1]", "[0, 4]") + ", " +
                                   entry("b", "F32", "[1]", "[2, 6]") + "}",
                               "12345678")),
            "st.safetensors: tensors 'a' and 'b' overlap");
  EXPECT_EQ(
      readError(dir, safetensors("{" + entry("a", "F32", "[1]", "[4, 8]") + "}",
                                 "12345678")),
      "st.safetensors: data bytes [0, 4) belong to no tensor");
  EXPECT_EQ(
      readError(dir, safetensors("{" + entry("a", "F32", "[1]", "[0, 4]") + "}",
                                 "12345678")),
      "st.safetensors: the last 4 data bytes belong to no tensor");
  EXPECT_EQ(readError(dir, safetensors("{\"__metadata__\": {\"a\": 1}}")),
            "st.safetensors: __metadata__ must map strings to strings");
  EXPECT_EQ(
      readError(dir,
                safetensors("{" + entry("half", "BF16", "[2]", "[0, 4]") + "}",
                            "1234")),
      "st.safetensors: tensor 'half' has dtype BF16, which the runtime "
      "does not read (F32, F64, I64)");
  // Padding spaces after the JSON and metadata are fine.
  EXPECT_EQ(
      readError(dir, safetensors("{\"__metadata__\": {\"k\": \"v\"}, " +
                                     entry("a", "I64", "[]", "[0, 8]") + "}   ",
                                 eight)),
      "success");
}

TEST(Safetensors, MissingAndUnwritableFiles) {
  TempDir dir;
  hope::Expected<TensorMap> missing = readSafetensors(dir.path("none"));
  EXPECT_EQ(codeOf(missing), HOPE_NOT_FOUND);
  missing = readSafetensors(dir.path("none"));
  EXPECT_EQ(messageOf(missing), "cannot read '" + dir.path("none") +
                                    "': No such file or directory");
  TensorMap map = take(TensorMap::create());
  hope::Error error = writeSafetensors(dir.path("no/such/dir/x"), map);
  EXPECT_EQ(error.code(), HOPE_IO_ERROR);
  ASSERT_FALSE(map.set("__metadata__", tensorOf<float>({1}, {1})));
  EXPECT_EQ(messageOf(writeSafetensors(dir.path("m"), map)),
            dir.path("m") + ": the tensor name '__metadata__' is reserved");
}

TEST(Safetensors, HostileHeadersAreErrors) {
  TempDir dir;
  // Nesting deep enough to overflow a recursive parser's stack.
  std::string deep = "{\"a\":" + std::string(200000, '[') +
                     std::string(200000, ']') + "}";
  EXPECT_EQ(readError(dir, safetensors(deep)),
            "st.safetensors: header: nested deeper than 64 levels");
  // A tensor named twice: which one would be read?
  EXPECT_EQ(readError(dir, safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],"
                                       "\"data_offsets\":[0,4]},\"w\":{\"dtype\":"
                                       "\"F32\",\"shape\":[1],\"data_offsets\":"
                                       "[0,4]}}",
                                       std::string(4, '\0'))),
            "st.safetensors: header: duplicate key 'w'");
  hope::Expected<TensorMap> zero = readSafetensors("/dev/zero");
  EXPECT_EQ(messageOf(zero), "cannot read '/dev/zero': it is a character "
                             "device, not a regular file");
}

} // namespace
