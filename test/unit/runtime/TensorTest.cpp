//===- TensorTest.cpp - statuses, tensors and tensor maps -----------------===//

#include "TestUtil.h"

using namespace hope;
using namespace hope::test;

namespace {

/// The message of a C status, freeing it.
std::string statusText(hope_status *status) {
  std::string message = hope_status_message(status);
  hope_status_free(status);
  return message;
}

TEST(Status, NullIsSuccess) {
  EXPECT_STREQ(hope_status_message(nullptr), "OK");
  EXPECT_EQ(hope_status_code(nullptr), HOPE_OK);
  hope_status_free(nullptr);
}

TEST(Tensor, CreateCopiesTheData) {
  float values[] = {1, 2, 3, 4, 5, 6};
  int64_t shape[] = {2, 3};
  hope_tensor *tensor = nullptr;
  ASSERT_EQ(statusText(hope_tensor_create(HOPE_DTYPE_F32, 2, shape, values,
                                          sizeof(values), &tensor)),
            "OK");
  values[0] = 100;
  Tensor owned(tensor);
  EXPECT_EQ(valuesOf<float>(owned), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(owned.shape(), llvm::ArrayRef<int64_t>({2, 3}));
  EXPECT_EQ(owned.strides(), llvm::ArrayRef<int64_t>({3, 1}));
  EXPECT_EQ(owned.numel(), 6);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(owned.data()) % 64, 0u);
}

TEST(Tensor, CreateWithoutDataIsZeros) {
  Tensor tensor = take(Tensor::create(HOPE_DTYPE_I64, {3}));
  EXPECT_EQ(valuesOf<int64_t>(tensor), (std::vector<int64_t>{0, 0, 0}));
  Tensor scalar = take(Tensor::create(HOPE_DTYPE_F64, {}));
  EXPECT_EQ(valuesOf<double>(scalar), (std::vector<double>{0}));
  Tensor empty = take(Tensor::create(HOPE_DTYPE_F32, {0, 5}));
  EXPECT_EQ(empty.numel(), 0);
}

TEST(Tensor, CreateChecksItsArguments) {
  float values[3] = {};
  int64_t shape[] = {2, 2};
  hope_tensor *out = nullptr;
  EXPECT_EQ(statusText(
                hope_tensor_create(HOPE_DTYPE_F32, 2, shape, values, 12, &out)),
            "hope_tensor_create: shape [2, 2] of f32 needs 16 bytes but 12 "
            "were given");
  int64_t negative[] = {2, -1};
  EXPECT_EQ(statusText(hope_tensor_create(HOPE_DTYPE_F32, 2, negative, nullptr,
                                          0, &out)),
            "hope_tensor_create: shape [2, -1] has a negative size");
  int64_t huge[] = {int64_t(1) << 40, int64_t(1) << 40};
  EXPECT_EQ(
      statusText(hope_tensor_create(HOPE_DTYPE_F32, 2, huge, nullptr, 0, &out)),
      "hope_tensor_create: shape [1099511627776, 1099511627776] has "
      "too many elements");
  EXPECT_EQ(
      statusText(hope_tensor_create(hope_dtype(9), 2, shape, nullptr, 0, &out)),
      "hope_tensor_create: invalid dtype 9");
  EXPECT_EQ(statusText(hope_tensor_create(HOPE_DTYPE_F32, 2, nullptr, nullptr,
                                          0, &out)),
            "hope_tensor_create: argument 'shape' is null");
  EXPECT_EQ(statusText(hope_tensor_create(HOPE_DTYPE_F32, 2, shape, nullptr, 0,
                                          nullptr)),
            "hope_tensor_create: argument 'out' is null");
  EXPECT_EQ(out, nullptr);
}

TEST(Tensor, AllocationFailureIsAStatus) {
  // 2^62 bytes: representable, never allocatable.
  int64_t shape[] = {int64_t(1) << 30, int64_t(1) << 30};
  hope_tensor *out = nullptr;
  hope_status *status =
      hope_tensor_create(HOPE_DTYPE_F32, 2, shape, nullptr, 0, &out);
  EXPECT_EQ(hope_status_code(status), HOPE_OUT_OF_MEMORY);
  EXPECT_EQ(statusText(status),
            "cannot allocate 4611686018427387904 bytes for a "
            "tensor of shape [1073741824, 1073741824]");
}

TEST(Tensor, WrapBorrowsAndHonoursStrides) {
  // A 3x2 matrix stored column-major: element (i, j) at j * 3 + i.
  double storage[] = {1, 2, 3, 4, 5, 6};
  Tensor view = take(Tensor::wrap(HOPE_DTYPE_F64, {3, 2}, storage, {1, 3}));
  EXPECT_EQ(valuesOf<double>(view), (std::vector<double>{1, 4, 2, 5, 3, 6}));
  storage[0] = 10; // borrowed, not copied
  EXPECT_EQ(valuesOf<double>(view)[0], 10);
  EXPECT_EQ(view.data(), storage);

  hope_tensor *out = nullptr;
  int64_t shape[] = {2};
  EXPECT_EQ(statusText(hope_tensor_wrap(HOPE_DTYPE_F64, 1, shape, nullptr,
                                        nullptr, &out)),
            "hope_tensor_wrap: argument 'data' is null");
}

TEST(Tensor, CopyToChecksTheSize) {
  Tensor tensor = tensorOf<float>({2}, {1, 2});
  float dst[3];
  EXPECT_EQ(statusText(hope_tensor_copy_to(tensor.get(), dst, sizeof(dst))),
            "hope_tensor_copy_to: the tensor has 8 bytes but 12 were given");
  hope::Expected<std::vector<double>> wrong = tensor.toVector<double>();
  EXPECT_EQ(messageOf(wrong), "tensor has dtype f32, not f64");
}

TEST(Tensor, NamesOfDTypesAndRoles) {
  EXPECT_EQ(dtypeName(HOPE_DTYPE_I64), "i64");
  EXPECT_EQ(roleName(HOPE_ROLE_STATE), "state");
  size_t size = 0;
  EXPECT_EQ(statusText(hope_dtype_size(HOPE_DTYPE_F32, &size)), "OK");
  EXPECT_EQ(size, 4u);
  const char *name = nullptr;
  EXPECT_EQ(statusText(hope_role_name(hope_role(0), &name)),
            "hope_role_name: invalid role 0");
}

TEST(TensorMap, SetReplacesInPlaceAndFinds) {
  TensorMap map = take(TensorMap::create());
  ASSERT_FALSE(map.set("a", tensorOf<float>({1}, {1})));
  ASSERT_FALSE(map.set("b", tensorOf<float>({1}, {2})));
  ASSERT_FALSE(map.set("a", tensorOf<float>({1}, {3})));
  ASSERT_EQ(map.size(), 2u);
  EXPECT_EQ(map.entry(0).first, "a");
  EXPECT_EQ(valuesOf<float>(map.entry(0).second), std::vector<float>{3});
  EXPECT_EQ(map.entry(1).first, "b");
  hope::Expected<Tensor> missing = map.find("c");
  EXPECT_EQ(codeOf(missing), HOPE_NOT_FOUND);
  missing = map.find("c");
  EXPECT_EQ(messageOf(missing), "no tensor 'c'");
  EXPECT_EQ(statusText(hope_tensor_map_entry(map.get(), 2, nullptr, nullptr)),
            "hope_tensor_map_entry: index 2 is out of range (2 entries)");
}

TEST(TensorMap, KeepsItsTensorsAlive) {
  hope_tensor_map *map = nullptr;
  ASSERT_EQ(statusText(hope_tensor_map_create(&map)), "OK");
  {
    Tensor tensor = tensorOf<int64_t>({2}, {7, 8});
    ASSERT_EQ(statusText(hope_tensor_map_set(map, "t", tensor.get())), "OK");
  }
  hope_tensor *found = nullptr;
  ASSERT_EQ(statusText(hope_tensor_map_find(map, "t", &found)), "OK");
  int64_t values[2];
  ASSERT_EQ(statusText(hope_tensor_copy_to(found, values, sizeof(values))),
            "OK");
  EXPECT_EQ(values[1], 8);
  hope_tensor_map_release(map);
}

} // namespace
