//===- SessionTest.cpp - weights, invocation and its checks ---------------===//

#include "TestUtil.h"

#include <cstddef>
#include <cstdlib>

using namespace hope;
using namespace hope::test;

namespace {

class Session : public ::testing::Test {
protected:
  void SetUp() override {
    module = take(Module::load(HOPE_FAKE_GOOD));
    session = take(hope::Session::create(module));
  }

  /// Binds w = [1, 2, 3, 4] through a safetensors file.
  void loadWeights() {
    TensorMap weights = take(TensorMap::create());
    ASSERT_FALSE(weights.set("w", tensorOf<float>({4}, {1, 2, 3, 4})));
    ASSERT_FALSE(writeSafetensors(dir.path("w.safetensors"), weights));
    ASSERT_FALSE(session.loadWeights(dir.path("w.safetensors")));
  }

  /// x[b, t, d] = 10 b + t, as a B x T x 4 tensor.
  static Tensor input(int64_t B, int64_t T) {
    std::vector<float> x;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < T; ++t)
        for (int d = 0; d < 4; ++d)
          x.push_back(10 * b + t);
    return tensorOf<float>({B, T, 4}, x);
  }

  /// The message of invoking `function` on `inputs`.
  std::string invokeError(llvm::StringRef function,
                          llvm::ArrayRef<Tensor> inputs) {
    hope::Expected<std::vector<Tensor>> outputs =
        session.invoke(function, inputs);
    return messageOf(outputs);
  }

  std::string mapError(const TensorMap &inputs) {
    hope::Expected<TensorMap> outputs = session.invoke("forward", inputs);
    return messageOf(outputs);
  }

  std::string fileError(llvm::StringRef file) {
    std::string message = messageOf(session.loadWeights(dir.path(file)));
    llvm::StringRef rest(message);
    return rest.consume_front(dir.path("")) ? rest.str() : message;
  }

  TempDir dir;
  Module module;
  hope::Session session;
};

TEST_F(Session, RunsForward) {
  loadWeights();
  Tensor state = tensorOf<float>({2, 4}, {0, 0, 0, 0, 100, 100, 100, 100});
  std::vector<Tensor> outputs =
      take(session.invoke("forward", {input(2, 3), state}));
  ASSERT_EQ(outputs.size(), 2u);
  EXPECT_EQ(outputs[0].shape(), llvm::ArrayRef<int64_t>({2, 3, 4}));
  std::vector<float> y = valuesOf<float>(outputs[0]);
  // y[b, t, d] = (10 b + t) * w[d] + state[b, d].
  EXPECT_EQ(y[0 * 12 + 2 * 4 + 3], 2 * 4 + 0);
  EXPECT_EQ(y[1 * 12 + 1 * 4 + 2], 11 * 3 + 100);
  EXPECT_EQ(valuesOf<float>(outputs[1]),
            (std::vector<float>{1, 1, 1, 1, 101, 101, 101, 101}));
}

TEST_F(Session, StreamsItsStateByName) {
  loadWeights();
  TensorMap inputs = take(TensorMap::create());
  ASSERT_FALSE(
      inputs.set("state", take(Tensor::create(HOPE_DTYPE_F32, {1, 4}))));
  for (int step = 1; step <= 3; ++step) {
    ASSERT_FALSE(inputs.set("x", input(1, 2)));
    TensorMap outputs = take(session.invoke("forward", inputs));
    ASSERT_EQ(outputs.size(), 2u);
    EXPECT_EQ(outputs.entry(0).first, "y");
    Tensor state = take(outputs.find("state"));
    EXPECT_EQ(valuesOf<float>(state), std::vector<float>(4, float(step)));
    // y[0, 1, 3] = 1 * w[3] + the state before this step.
    EXPECT_EQ(valuesOf<float>(take(outputs.find("y")))[7], 4 + step - 1);
    ASSERT_FALSE(inputs.set("state", state));
  }
}

TEST_F(Session, StridedInputsArePassedDense) {
  loadWeights();
  // The state as the transpose of a column-major 4x2 buffer.
  float storage[] = {1, 2, 3, 4, 5, 6, 7, 8};
  Tensor state = take(Tensor::wrap(HOPE_DTYPE_F32, {2, 4}, storage, {1, 2}));
  std::vector<Tensor> outputs =
      take(session.invoke("forward", {input(2, 1), state}));
  EXPECT_EQ(valuesOf<float>(outputs[1]),
            (std::vector<float>{2, 4, 6, 8, 3, 5, 7, 9}));
}

TEST_F(Session, OutputsWithStridesOffsetsAndScalars) {
  std::vector<Tensor> outputs = take(session.invoke(
      "stats", {tensorOf<double>({3}, {1, 2, 4}), tensorOf<int64_t>({}, {2})}));
  ASSERT_EQ(outputs.size(), 3u);
  EXPECT_TRUE(outputs[0].shape().empty());
  EXPECT_EQ(valuesOf<double>(outputs[0]), std::vector<double>{14});
  // pairs is column-major as the artifact returned it.
  EXPECT_EQ(outputs[1].strides(), llvm::ArrayRef<int64_t>({1, 3}));
  EXPECT_EQ(valuesOf<double>(outputs[1]),
            (std::vector<double>{1, 2, 2, 4, 4, 8}));
  EXPECT_EQ(valuesOf<int64_t>(outputs[2]), (std::vector<int64_t>{0, 1, 2}));
  // Written dense.
  ASSERT_FALSE(writeNpy(dir.path("pairs.npy"), outputs[1]));
  EXPECT_EQ(valuesOf<double>(take(readNpy(dir.path("pairs.npy")))),
            (std::vector<double>{1, 2, 2, 4, 4, 8}));
}

TEST_F(Session, AnOutputThatIsAnInputIsCopied) {
  std::vector<Tensor> outputs;
  {
    Tensor a = tensorOf<float>({3}, {1, 2, 3});
    outputs = take(session.invoke("echo", {a}));
    EXPECT_NE(outputs[0].data(), a.data());
  }
  // `a` is gone; the runtime freed it, never the artifact.
  EXPECT_EQ(valuesOf<float>(outputs[0]), (std::vector<float>{1, 2, 3}));
}

TEST_F(Session, WrongInputsAreNamedBeforeTheCall) {
  loadWeights();
  Tensor state = take(Tensor::create(HOPE_DTYPE_F32, {2, 4}));
  EXPECT_EQ(invokeError("forward", {input(2, 3)}),
            "forward: expects 2 inputs and states (x, state) but got 1");
  EXPECT_EQ(
      invokeError("forward",
                  {take(Tensor::create(HOPE_DTYPE_F64, {2, 3, 4})), state}),
      "forward: input 'x' has dtype f64 but the artifact expects f32");
  EXPECT_EQ(invokeError("forward",
                        {take(Tensor::create(HOPE_DTYPE_F32, {2, 3})), state}),
            "forward: input 'x' has shape [2, 3] but the artifact expects "
            "[B, T, 4]");
  EXPECT_EQ(
      invokeError("forward",
                  {take(Tensor::create(HOPE_DTYPE_F32, {2, 7, 64})), state}),
      "forward: input 'x' has shape [2, 7, 64] but the artifact expects "
      "[B, T, 4]");
  EXPECT_EQ(invokeError("forward", {input(3, 2), state}),
            "forward: state 'state' has shape [2, 4] but the artifact expects "
            "[B, 4] (B = 3 from input 'x')");
  EXPECT_EQ(invokeError("backward", {}),
            "no entry point 'backward' in " + std::string(HOPE_FAKE_GOOD) +
                " (entry points: forward, stats, echo)");
  Tensor x = input(2, 3);
  std::vector<hope_tensor *> inputs = {x.get(), state.get()};
  hope_tensor *outputs[2] = {};
  hope_status *status = hope_session_invoke(session.get(), "forward",
                                            inputs.data(), 2, outputs, 1);
  EXPECT_STREQ(hope_status_message(status),
               "forward: has 2 outputs but room for 1 was given");
  hope_status_free(status);
}

TEST_F(Session, AStateFromAnotherModel) {
  loadWeights();
  TensorMap inputs = take(TensorMap::create());
  ASSERT_FALSE(inputs.set("x", input(1, 2)));
  ASSERT_FALSE(
      inputs.set("memory.W_1", take(Tensor::create(HOPE_DTYPE_F32, {1, 4}))));
  EXPECT_EQ(mapError(inputs),
            "forward: unexpected tensor 'memory.W_1' (the inputs and states "
            "are: x, state)");

  inputs = take(TensorMap::create());
  ASSERT_FALSE(inputs.set("x", input(1, 2)));
  EXPECT_EQ(mapError(inputs), "forward: no tensor given for state 'state'");

  ASSERT_FALSE(
      inputs.set("state", take(Tensor::create(HOPE_DTYPE_F32, {1, 4, 96}))));
  EXPECT_EQ(mapError(inputs),
            "forward: state 'state' has shape [1, 4, 96] but the artifact "
            "expects [B, 4]");
  ASSERT_FALSE(inputs.set("w", take(Tensor::create(HOPE_DTYPE_F32, {4}))));
  EXPECT_EQ(mapError(inputs),
            "forward: 'w' is a weight: bind it to the session instead");
}

TEST_F(Session, WeightsAreCheckedWhenBound) {
  Tensor state = take(Tensor::create(HOPE_DTYPE_F32, {1, 4}));
  EXPECT_EQ(invokeError("forward", {input(1, 1), state}),
            "forward: weight 'w' is not bound; load the weights first "
            "(hope-run --weights=FILE)");

  auto write = [&](llvm::StringRef file, llvm::StringRef name, Tensor t) {
    TensorMap map = take(TensorMap::create());
    ASSERT_FALSE(map.set(name, t));
    ASSERT_FALSE(writeSafetensors(dir.path(file), map));
  };
  write("other.safetensors", "w_k", tensorOf<float>({4}, {1, 2, 3, 4}));
  EXPECT_EQ(fileError("other.safetensors"),
            "other.safetensors: no tensor 'w' (a weight of " +
                std::string(HOPE_FAKE_GOOD) + ")");
  write("shape.safetensors", "w", tensorOf<float>({5}, {1, 2, 3, 4, 5}));
  EXPECT_EQ(fileError("shape.safetensors"),
            "shape.safetensors: weight 'w' has shape [5] but the artifact "
            "expects [4]");
  write("dtype.safetensors", "w", tensorOf<double>({4}, {1, 2, 3, 4}));
  EXPECT_EQ(fileError("dtype.safetensors"),
            "dtype.safetensors: weight 'w' has dtype F64 but the artifact "
            "expects F32");
  EXPECT_EQ(fileError("none.safetensors"), "cannot read '" +
                                               dir.path("none.safetensors") +
                                               "': No such file or directory");

  EXPECT_EQ(messageOf(session.setWeight("w", tensorOf<float>({2}, {1, 2}))),
            "hope_session_set_weight: weight 'w' has shape [2] but the "
            "artifact expects [4]");
  EXPECT_EQ(
      messageOf(
          session.setWeight("v", take(Tensor::create(HOPE_DTYPE_F32, {4})))),
      "no weight 'v' in " + std::string(HOPE_FAKE_GOOD) + " (weights: w)");
  // Still unbound after all these failures.
  EXPECT_EQ(invokeError("forward", {input(1, 1), state}),
            "forward: weight 'w' is not bound; load the weights first "
            "(hope-run --weights=FILE)");
  EXPECT_FALSE(session.setWeight("w", tensorOf<float>({4}, {1, 1, 1, 1})));
  EXPECT_EQ(invokeError("forward", {input(1, 1), state}), "success");
}

TEST_F(Session, NullArgumentsAreStatuses) {
  hope_status *status =
      hope_session_invoke(nullptr, "forward", nullptr, 0, nullptr, 0);
  EXPECT_EQ(hope_status_code(status), HOPE_INVALID_ARGUMENT);
  EXPECT_STREQ(hope_status_message(status),
               "hope_session_invoke: argument 'session' is null");
  hope_status_free(status);
  std::vector<hope_tensor *> inputs = {nullptr, nullptr};
  hope_tensor *outputs[2] = {};
  loadWeights();
  status = hope_session_invoke(session.get(), "forward", inputs.data(), 2,
                               outputs, 2);
  EXPECT_STREQ(hope_status_message(status), "forward: input 'x' is null");
  hope_status_free(status);
}

TEST(BadOutputs, AnArtifactBreakingItsManifestIsAnError) {
  Module module = take(Module::load(HOPE_FAKE_BAD_OUTPUT));
  hope::Session session = take(hope::Session::create(module));
  ASSERT_FALSE(session.setWeight("w", tensorOf<float>({4}, {1, 1, 1, 1})));
  hope::Expected<std::vector<Tensor>> outputs = session.invoke(
      "forward", {take(Tensor::create(HOPE_DTYPE_F32, {2, 3, 4})),
                  take(Tensor::create(HOPE_DTYPE_F32, {2, 4}))});
  // The outputs it allocated are freed (LeakSanitizer checks).
  EXPECT_EQ(messageOf(outputs),
            "forward: the artifact returned output 'y' with shape [2, 4, 4] "
            "but its manifest declares [B, T, 4] (T = 3 from input 'x')");
}

TEST_F(Session, AWeightsFileMustHoldOnlyWeights) {
  TensorMap weights = take(TensorMap::create());
  ASSERT_FALSE(weights.set("w", tensorOf<float>({4}, {1, 2, 3, 4})));
  ASSERT_FALSE(weights.set("layers.2.w", tensorOf<float>({1}, {0})));
  ASSERT_FALSE(weights.set("w_k", tensorOf<float>({1}, {0})));
  ASSERT_FALSE(writeSafetensors(dir.path("extra.safetensors"), weights));
  EXPECT_EQ(fileError("extra.safetensors"),
            "extra.safetensors: tensors 'layers.2.w', 'w_k' are not weights "
            "of " + std::string(HOPE_FAKE_GOOD) +
                " (a file for another model?)");
}

TEST_F(Session, WeightsHaveAKind) {
  Tensor state = take(Tensor::create(HOPE_DTYPE_F32, {1, 4}));
  // A mutable weight may change between calls: the next call sees it.
  std::vector<float> w = {1, 1, 1, 1};
  Tensor wrapped = take(Tensor::wrap(HOPE_DTYPE_F32, {4}, w.data()));
  ASSERT_FALSE(session.setWeight("w", wrapped, HOPE_WEIGHT_MUTABLE));
  std::vector<Tensor> outputs =
      take(session.invoke("forward", {input(1, 1), state}));
  EXPECT_EQ(valuesOf<float>(outputs[0]), (std::vector<float>{0, 0, 0, 0}));
  std::vector<Tensor> again =
      take(session.invoke("forward", {tensorOf<float>({1, 1, 4}, {1, 1, 1, 1}),
                                      state}));
  EXPECT_EQ(valuesOf<float>(again[0]), (std::vector<float>{1, 1, 1, 1}));
  w = {2, 2, 2, 2};
  again = take(session.invoke(
      "forward", {tensorOf<float>({1, 1, 4}, {1, 1, 1, 1}), state}));
  EXPECT_EQ(valuesOf<float>(again[0]), (std::vector<float>{2, 2, 2, 2}));
  EXPECT_EQ(messageOf(session.setWeight("w", wrapped, hope_weight_kind(7))),
            "hope_session_set_weight: invalid weight kind 7");
}

TEST(SessionOptions, AreCheckedAndApplied) {
  Module module = take(Module::load(HOPE_FAKE_GOOD));
  auto createError = [&](const hope_session_options &options) {
    return messageOf(hope::Session::create(module, &options));
  };
  hope_session_options options{sizeof(options), 0, HOPE_DEVICE_HOST, nullptr};
  EXPECT_EQ(createError(options), "success");
  options.threads = 100000;
  EXPECT_EQ(createError(options),
            "hope_session_create: options.threads: 100000 threads is out of "
            "range (0 for the default, or 1 to 1024)");
  options.threads = -1;
  EXPECT_EQ(createError(options),
            "hope_session_create: options.threads: -1 threads is out of "
            "range (0 for the default, or 1 to 1024)");
  options.threads = 2;
  options.device = hope_device(7);
  EXPECT_EQ(createError(options),
            "hope_session_create: device 7 is not supported (HOPE_DEVICE_HOST "
            "or HOPE_DEVICE_CUDA)");
  // A CPU artifact runs on the host only.
  options.device = HOPE_DEVICE_CUDA;
  EXPECT_NE(createError(options).find(
                "is compiled for target 'cpu', which runs on the host, not on "
                "the CUDA device"),
            std::string::npos);
  options.device = HOPE_DEVICE_HOST;
  options.struct_size = 0;
  EXPECT_EQ(createError(options),
            "hope_session_create: options.struct_size is 0; set it to "
            "sizeof(hope_session_options)");
  // An older caller's smaller struct: the fields it lacks keep defaults.
  options.struct_size = offsetof(hope_session_options, device);
  options.device = hope_device(99);
  EXPECT_EQ(createError(options), "success");

  // The allocator makes the runtime's own tensors (here, the dense copy
  // of a strided input, and the copy of an output that is an input).
  CountingAllocator counts;
  hope_allocator allocator = counts.table();
  options = {sizeof(options), 1, HOPE_DEVICE_HOST, &allocator};
  {
    hope::Session session = take(hope::Session::create(module, &options));
    std::vector<float> a = {1, 0, 2, 0, 3, 0};
    Tensor strided = take(Tensor::wrap(HOPE_DTYPE_F32, {3}, a.data(), {2}));
    std::vector<Tensor> outputs = take(session.invoke("echo", {strided}));
    EXPECT_EQ(valuesOf<float>(outputs[0]), (std::vector<float>{1, 2, 3}));
    EXPECT_EQ(outputs[0].device(), HOPE_DEVICE_HOST);
  }
  EXPECT_EQ(counts.allocs, 2);
  EXPECT_EQ(counts.frees, 2);
  // It makes every buffer of the artifact too, through the service table
  // (hope/artifact.h): the three outputs of stats, released with them.
  counts = {};
  {
    hope::Session session = take(hope::Session::create(module, &options));
    std::vector<Tensor> outputs = take(session.invoke(
        "stats", {tensorOf<double>({3}, {1, 2, 4}), tensorOf<int64_t>({}, {2})}));
    EXPECT_EQ(valuesOf<double>(outputs[0]), (std::vector<double>{14}));
    EXPECT_EQ(counts.allocs, 3);
    EXPECT_EQ(counts.frees, 0);
  }
  EXPECT_EQ(counts.allocs, 3);
  EXPECT_EQ(counts.frees, 3);
  allocator.free = nullptr;
  EXPECT_EQ(createError(options), "hope_session_create: the allocator needs "
                                  "both alloc and free");
}

TEST(API, VersionAndReservedDTypes) {
  EXPECT_EQ(hope_api_version(),
            (uint32_t(HOPE_API_VERSION_MAJOR) << 16) | HOPE_API_VERSION_MINOR);
  int64_t shape[] = {2};
  hope_tensor *out = nullptr;
  for (hope_dtype dtype : {HOPE_DTYPE_BOOL, HOPE_DTYPE_I32, HOPE_DTYPE_F16,
                           HOPE_DTYPE_BF16}) {
    hope_status *status =
        hope_tensor_create(dtype, 1, shape, nullptr, 0, &out);
    EXPECT_EQ(hope_status_code(status), HOPE_UNSUPPORTED);
    hope_status_free(status);
  }
  EXPECT_EQ(out, nullptr);
}

TEST(Environment, ABadOmpNumThreadsIsAnError) {
  // OpenMP aborts on some values and hangs on others: the runtime refuses
  // them before loading an artifact, whose OpenMP would read them.
  for (const char *value : {"abc", "100000", "0", "2,x", ""}) {
    ASSERT_EQ(setenv("OMP_NUM_THREADS", value, 1), 0);
    EXPECT_EQ(messageOf(Module::load(HOPE_FAKE_GOOD)),
              "OMP_NUM_THREADS='" + std::string(value) +
                  "' is not a thread count from 1 to 1024 (or a "
                  "comma-separated list of them)");
  }
  ASSERT_EQ(setenv("OMP_NUM_THREADS", "4,2", 1), 0);
  EXPECT_EQ(messageOf(Module::load(HOPE_FAKE_GOOD)), "success");
  unsetenv("OMP_NUM_THREADS");
}

} // namespace

namespace {
/// The fake artifact's variant with sgd_step, which writes its weight w in
/// place (`"updated": true`).
class UpdatedWeights : public ::testing::Test {
protected:
  void SetUp() override {
    module = take(Module::load(HOPE_FAKE_TRAIN));
    session = take(hope::Session::create(module));
  }
  Module module;
  hope::Session session;
  TempDir dir;
};
} // namespace

TEST_F(UpdatedWeights, AConstantBindingIsRefused) {
  TensorMap weights = take(TensorMap::create());
  ASSERT_FALSE(weights.set("w", tensorOf<float>({4}, {1, 2, 3, 4})));
  ASSERT_FALSE(writeSafetensors(dir.path("w.safetensors"), weights));
  ASSERT_FALSE(session.loadWeights(dir.path("w.safetensors")));
  EXPECT_EQ(messageOf(session.invoke(
                "sgd_step", {tensorOf<float>({4}, {1, 1, 1, 1})})),
            "sgd_step: weight 'w' is updated in place by this entry point "
            "but is bound as HOPE_WEIGHT_CONSTANT: bind it with "
            "hope_session_set_weight(..., HOPE_WEIGHT_MUTABLE)");
  // The forward only reads w: a constant binding serves it.
  Tensor state = take(Tensor::create(HOPE_DTYPE_F32, {1, 4}));
  EXPECT_TRUE(bool(session.invoke(
      "forward", {tensorOf<float>({1, 1, 4}, {1, 1, 1, 1}), state})));
}

TEST_F(UpdatedWeights, AMutableBindingIsWrittenInPlace) {
  std::vector<float> w = {1, 2, 3, 4};
  Tensor wrapped = take(Tensor::wrap(HOPE_DTYPE_F32, {4}, w.data()));
  ASSERT_FALSE(session.setWeight("w", wrapped, HOPE_WEIGHT_MUTABLE));
  std::vector<Tensor> outputs = take(
      session.invoke("sgd_step", {tensorOf<float>({4}, {0.5, 1, 1.5, 2})}));
  EXPECT_EQ(valuesOf<float>(outputs[0]), (std::vector<float>{5}));
  EXPECT_EQ(w, (std::vector<float>{0.5, 1, 1.5, 2}));
  // The next call starts from the caller's memory as it is now.
  w = {0, 0, 0, 0};
  take(session.invoke("sgd_step", {tensorOf<float>({4}, {1, 1, 1, 1})}));
  EXPECT_EQ(w, (std::vector<float>{-1, -1, -1, -1}));
}

TEST_F(UpdatedWeights, AStridedBindingIsRefused) {
  float storage[] = {1, 0, 2, 0, 3, 0, 4, 0};
  Tensor strided = take(Tensor::wrap(HOPE_DTYPE_F32, {4}, storage, {2}));
  ASSERT_FALSE(session.setWeight("w", strided, HOPE_WEIGHT_MUTABLE));
  EXPECT_EQ(messageOf(session.invoke(
                "sgd_step", {tensorOf<float>({4}, {1, 1, 1, 1})})),
            "sgd_step: weight 'w' is updated in place by this entry point "
            "but its bound tensor is not dense (the update would go to a "
            "copy): bind a dense tensor");
}
