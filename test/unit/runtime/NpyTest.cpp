//===- NpyTest.cpp - the .npy reader and writer ---------------------------===//

#include "TestUtil.h"

using namespace hope;
using namespace hope::test;

namespace {

/// np.save(np.arange(6, dtype='<f4').reshape(2, 3)) with NumPy 2.4.
constexpr const char *arange2x3 =
    "934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f"
    "6f72646572273a2046616c73652c20277368617065273a2028322c2033292c207d202020"
    "202020202020202020202020202020202020202020202020202020202020202020202020"
    "202020202020202020202020202020202020200a000000000000803f0000004000004040"
    "000080400000a040";

/// A v1.0 file of `header` (padded by nothing) and `data`.
std::string npy(llvm::StringRef header, llvm::StringRef data, char major = 1) {
  std::string bytes = "\x93NUMPY";
  bytes += major;
  bytes += '\0';
  size_t length = header.size();
  bytes += char(length & 0xff);
  bytes += char(length >> 8);
  if (major > 1)
    bytes += std::string(2, '\0');
  return bytes + header.str() + data.str();
}

std::string readError(const TempDir &dir, llvm::StringRef bytes) {
  std::string path = dir.path("a.npy");
  writeFile(path, bytes);
  hope::Expected<Tensor> tensor = readNpy(path);
  std::string message = messageOf(tensor);
  llvm::StringRef rest(message);
  if (rest.consume_front(dir.path("")))
    return rest.str();
  return message;
}

TEST(Npy, ReadsNumPysFiles) {
  TempDir dir;
  std::string path = dir.path("arange.npy");
  writeFile(path, fromHex(arange2x3));
  Tensor tensor = take(readNpy(path));
  EXPECT_EQ(tensor.dtype(), HOPE_DTYPE_F32);
  EXPECT_EQ(tensor.shape(), llvm::ArrayRef<int64_t>({2, 3}));
  EXPECT_EQ(valuesOf<float>(tensor), (std::vector<float>{0, 1, 2, 3, 4, 5}));
}

TEST(Npy, WritesWhatNumPyWrites) {
  TempDir dir;
  std::string path = dir.path("arange.npy");
  ASSERT_FALSE(writeNpy(path, tensorOf<float>({2, 3}, {0, 1, 2, 3, 4, 5})));
  EXPECT_EQ(readFile(path), fromHex(arange2x3));
}

TEST(Npy, RoundTrip) {
  TempDir dir;
  std::string path = dir.path("t.npy");
  ASSERT_FALSE(writeNpy(path, tensorOf<double>({}, {2.5})));
  Tensor scalar = take(readNpy(path));
  EXPECT_TRUE(scalar.shape().empty());
  EXPECT_EQ(valuesOf<double>(scalar), std::vector<double>{2.5});

  ASSERT_FALSE(writeNpy(path, tensorOf<int64_t>({3}, {-5, 0, 5})));
  Tensor vector = take(readNpy(path));
  EXPECT_EQ(vector.dtype(), HOPE_DTYPE_I64);
  EXPECT_EQ(valuesOf<int64_t>(vector), (std::vector<int64_t>{-5, 0, 5}));

  ASSERT_FALSE(writeNpy(path, take(Tensor::create(HOPE_DTYPE_F32, {2, 0, 3}))));
  EXPECT_EQ(take(readNpy(path)).shape(), llvm::ArrayRef<int64_t>({2, 0, 3}));

  float storage[] = {1, 2, 3, 4, 5, 6};
  ASSERT_FALSE(writeNpy(
      path, take(Tensor::wrap(HOPE_DTYPE_F32, {3, 2}, storage, {1, 3}))));
  EXPECT_EQ(valuesOf<float>(take(readNpy(path))),
            (std::vector<float>{1, 4, 2, 5, 3, 6}));
}

TEST(Npy, ReadsOtherVersionsAndSpellings) {
  TempDir dir;
  std::string one(8, '\0');
  one[0] = 1;
  // Version 2.0, Python 2 longs, double quotes, no trailing comma.
  EXPECT_EQ(readError(dir, npy("{\"descr\": \"<i8\", \"fortran_order\": "
                               "False, \"shape\": (1L,)}\n",
                               one, 2)),
            "success");
  // Fortran order is C order for one dimension.
  EXPECT_EQ(readError(dir, npy("{'descr': '<i8', 'fortran_order': True, "
                               "'shape': (1,), }",
                               one)),
            "success");
}

TEST(Npy, TruncatedAtEveryByteIsAnError) {
  TempDir dir;
  std::string path = dir.path("full.npy");
  ASSERT_FALSE(writeNpy(path, tensorOf<double>({2, 2}, {1, 2, 3, 4})));
  std::string bytes = readFile(path);
  std::string cut = dir.path("cut.npy");
  for (size_t size = 0; size < bytes.size(); ++size) {
    writeFile(cut, llvm::StringRef(bytes).take_front(size));
    hope::Expected<Tensor> read = readNpy(cut);
    ASSERT_FALSE(read) << "a file cut to " << size << " bytes was read";
    EXPECT_EQ(codeOf(read), HOPE_INVALID_FORMAT);
  }
}

TEST(Npy, EveryFlawIsNamed) {
  TempDir dir;
  std::string four(4, '\0');
  auto header = [](llvm::StringRef descr, llvm::StringRef order,
                   llvm::StringRef shape) {
    return ("{'descr': '" + descr + "', 'fortran_order': " + order +
            ", 'shape': " + shape + ", }")
        .str();
  };
  EXPECT_EQ(readError(dir, "PK\x03\x04"),
            "a.npy: not an .npy file (no \\x93NUMPY magic)");
  EXPECT_EQ(readError(dir, "\x93NUMPY\x01"),
            "a.npy: truncated before the header length");
  EXPECT_EQ(readError(dir, npy(header("<f4", "False", "(1,)"), four, 4)),
            "a.npy: unsupported .npy version 4.0 (1.0, 2.0 and 3.0 are read)");
  EXPECT_EQ(readError(dir, npy(header("<f4", "True", "(2, 2)"),
                               std::string(16, '\0'))),
            "a.npy: Fortran-order arrays are not supported; save with "
            "np.ascontiguousarray(arr)");
  EXPECT_EQ(readError(dir, npy(header(">f4", "False", "(1,)"), four)),
            "a.npy: big-endian dtype '>f4' is not supported; save with "
            "arr.astype(arr.dtype.newbyteorder('<'))");
  EXPECT_EQ(readError(dir, npy(header("<i4", "False", "(1,)"), four)),
            "a.npy: dtype '<i4' is not supported (<f4, <f8 and <i8 are)");
  EXPECT_EQ(readError(dir, npy("{'descr': [('a', '<f4')], 'fortran_order': "
                               "False, 'shape': (1,), }",
                               four)),
            "a.npy: bad header: 'descr' is not a simple dtype string "
            "(structured arrays are not supported)");
  EXPECT_EQ(readError(dir, npy("{'descr': '<f4', 'shape': (1,), }", four)),
            "a.npy: bad header: no key 'fortran_order'");
  EXPECT_EQ(readError(dir, npy("{'descr': '<f4', 'fortran_order': False, "
                               "'shape': (1,), 'extra': 1}",
                               four)),
            "a.npy: bad header: unexpected key 'extra'");
  EXPECT_EQ(readError(dir, npy(header("<f4", "False", "(-1,)"), four)),
            "a.npy: bad header: expected a non-negative integer in 'shape' at "
            "'-1,), }'");
  EXPECT_EQ(readError(dir, npy(header("<f4", "Maybe", "(1,)"), four)),
            "a.npy: bad header: expected True or False for 'fortran_order' at "
            "'Maybe, 'shape': '");
  EXPECT_EQ(readError(dir, npy(header("<f4", "False", "(2,)"), four)),
            "a.npy: shape [2] of <f4 needs 8 data bytes but the file has 4 "
            "(truncated file?)");
  EXPECT_EQ(readError(dir, npy(header("<f4", "False", "()"), four + four)),
            "a.npy: shape [] of <f4 needs 4 data bytes but the file has 8");
  EXPECT_EQ(
      readError(dir,
                npy(header("<f4", "False", "(4611686018427387904, 4)"), four)),
      "a.npy: shape [4611686018427387904, 4] has too many elements");
  // No element, but sizes whose product overflows: an empty array (a
  // fuzzer's find: the dense strides overflowed).
  std::string path = dir.path("a.npy");
  writeFile(path, npy(header("<f8", "False", "(4611686018427387904, 0, 4)"), ""));
  Tensor empty = take(readNpy(path));
  EXPECT_EQ(empty.numel(), 0);
  // A key given twice would otherwise be read as the last one.
  EXPECT_EQ(readError(dir, npy("{'descr': '<f4', 'descr': '<f8', "
                               "'fortran_order': False, 'shape': (1,), }",
                               four)),
            "a.npy: bad header: duplicate key 'descr'");
  // A device is refused before it is read (it would be read forever).
  hope::Expected<Tensor> zero = readNpy("/dev/zero");
  EXPECT_EQ(messageOf(zero), "cannot read '/dev/zero': it is a character "
                             "device, not a regular file");
  EXPECT_EQ(codeOf(zero), HOPE_INVALID_ARGUMENT);
}

} // namespace
