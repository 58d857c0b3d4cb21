//===- HopeRunTest.cpp - hope-run, end to end on the fake artifact --------===//

#include "TestUtil.h"

#include "llvm/Support/Program.h"

using namespace hope;
using namespace hope::test;

namespace {

class HopeRun : public ::testing::Test {
protected:
  struct Result {
    int code;
    std::string out, err;
  };

  void SetUp() override {
    TensorMap weights = take(TensorMap::create());
    ASSERT_FALSE(weights.set("w", tensorOf<float>({4}, {1, 2, 3, 4})));
    ASSERT_FALSE(writeSafetensors(path("w.safetensors"), weights));
    TensorMap state = take(TensorMap::create());
    ASSERT_FALSE(
        state.set("state", take(Tensor::create(HOPE_DTYPE_F32, {1, 4}))));
    ASSERT_FALSE(writeSafetensors(path("s.safetensors"), state));
    ASSERT_FALSE(writeNpy(
        path("x.npy"), tensorOf<float>({1, 2, 4}, {1, 1, 1, 1, 2, 2, 2, 2})));
  }

  std::string path(llvm::StringRef name) const { return dir.path(name); }

  Result run(const std::vector<std::string> &args,
             std::optional<llvm::ArrayRef<llvm::StringRef>> env = std::nullopt) {
    std::vector<llvm::StringRef> argv = {HOPE_RUN_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out = path("stdout"), err = path("stderr");
    // Redirection does not truncate: start from no files.
    llvm::sys::fs::remove(out);
    llvm::sys::fs::remove(err);
    std::optional<llvm::StringRef> redirects[] = {
        llvm::StringRef(""), llvm::StringRef(out), llvm::StringRef(err)};
    std::string message;
    int code = llvm::sys::ExecuteAndWait(HOPE_RUN_PATH, argv, env, redirects,
                                         0, 0, &message);
    EXPECT_GE(code, 0) << "hope-run crashed or did not run: " << message;
    return {code, readFile(out), readFile(err)};
  }

  /// The error line of a run that must fail with exit code 1.
  std::string error(const std::vector<std::string> &args,
                    std::optional<llvm::ArrayRef<llvm::StringRef>> env =
                        std::nullopt) {
    Result result = run(args, env);
    EXPECT_EQ(result.code, 1);
    EXPECT_EQ(result.out, "");
    llvm::StringRef line(result.err);
    EXPECT_TRUE(line.consume_front("hope-run: error: ")) << result.err;
    EXPECT_TRUE(line.consume_back("\n")) << result.err;
    EXPECT_FALSE(line.contains('\n')) << "more than one line: " << result.err;
    return line.str();
  }

  const std::string module = std::string("--module=") + HOPE_FAKE_GOOD;
  TempDir dir;
};

TEST_F(HopeRun, Help) {
  Result result = run({"--help"});
  EXPECT_EQ(result.code, 0);
  EXPECT_NE(result.out.find("--input=<value>"), std::string::npos);
  EXPECT_NE(result.out.find("--state-out=<file>"), std::string::npos);
}

TEST_F(HopeRun, ListsTheEntryPoints) {
  Result result = run({module, "--list"});
  EXPECT_EQ(result.code, 0) << result.err;
  llvm::StringRef out(result.out);
  EXPECT_TRUE(out.starts_with("model fake ("));
  EXPECT_NE(out.find("forward\n"
                     "  inputs:\n"
                     "    x                input  f32 [B, T, 4]\n"
                     "    w                weight f32 [4]\n"
                     "    state            state  f32 [B, 4]\n"
                     "  outputs:\n"
                     "    y                output f32 [B, T, 4]\n"
                     "    state            state  f32 [B, 4]\n"
                     "stats\n"),
            std::string::npos)
      << result.out;
  EXPECT_NE(out.find("    k                input  i64 []\n"),
            std::string::npos);
}

TEST_F(HopeRun, StreamsThroughFiles) {
  for (int step = 1; step <= 2; ++step) {
    std::string in = step == 1 ? "s.safetensors" : "s1.safetensors";
    std::string out = "s" + std::to_string(step) + ".safetensors";
    Result result = run(
        {module, "--function=forward", "--weights=" + path("w.safetensors"),
         "--input=1x2x4xf32=@" + path("x.npy"), "--output=@" + path("y.npy"),
         "--state-in=" + path(in), "--state-out=" + path(out)});
    ASSERT_EQ(result.code, 0) << result.err;
    EXPECT_EQ(result.out, "");
    // y = x * w + state, with the state before this step (step - 1).
    float s = step - 1;
    EXPECT_EQ(valuesOf<float>(take(readNpy(path("y.npy")))),
              (std::vector<float>{1 + s, 2 + s, 3 + s, 4 + s, 2 + s, 4 + s,
                                  6 + s, 8 + s}));
    TensorMap state = take(readSafetensors(path(out)));
    ASSERT_EQ(state.size(), 1u);
    EXPECT_EQ(valuesOf<float>(take(state.find("state"))),
              std::vector<float>(4, float(step)));
  }
}

TEST_F(HopeRun, InlineInputsAndPrintedOutputs) {
  Result result =
      run({module, "--function=forward", "--weights=" + path("w.safetensors"),
           "--input=1x1x4xf32=1,2,3,4", "--state-in=" + path("s.safetensors"),
           "--output=-"});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out, "y: 1x1x4xf32=[[1 4 9 16]]\n");

  // Without --output every output is printed; rank 0 and i64 too.
  result =
      run({module, "--function=stats", "--input=3xf64=1,2,4", "--input=i64=2"});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out, "total: f64=14\n"
                        "pairs: 3x2xf64=[1 2][2 4][4 8]\n"
                        "idx: 3xi64=0 1 2\n");

  // One value fills the shape; a .npy file alone gives its own type. An
  // artifact without parallel loops takes --num-threads and ignores it.
  result = run({module, "--function=echo", "--num-threads=3",
                "--input=3xf32=0.5"});
  EXPECT_EQ(result.out, "b: 3xf32=0.5 0.5 0.5\n");
  ASSERT_FALSE(writeNpy(path("a.npy"), tensorOf<float>({2}, {-1, 7})));
  result = run(
      {module, "--function=echo", "--input=@" + path("a.npy"), "--output="});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out, "");
}

TEST_F(HopeRun, EveryMistakeIsOneLine) {
  std::string echo = "--function=echo";
  EXPECT_EQ(error({"--function=echo"}), "--module is required");
  EXPECT_EQ(error({"--module=" + path("none.so")}),
            "cannot read artifact '" + path("none.so") +
                "': No such file or directory");
  EXPECT_EQ(error({module}),
            "--function is required (entry points: forward, stats, echo)");
  EXPECT_EQ(error({module, "--function=nope"}),
            "no entry point 'nope' in " + std::string(HOPE_FAKE_GOOD) +
                " (entry points: forward, stats, echo)");
  EXPECT_EQ(error({module, echo}),
            "echo takes 1 inputs (a) but 0 --input were given");
  EXPECT_EQ(error({module, echo, "--input=2xf16=1,2"}),
            "--input=2xf16=1,2: '2xf16' does not end in a type (f32, f64 or "
            "i64)");
  EXPECT_EQ(error({module, echo, "--input=2x-1xf32=1"}),
            "--input=2x-1xf32=1: '-1' in '2x-1xf32' is not a size");
  EXPECT_EQ(error({module, "--function=stats", "--input=2xf64=1,2",
                   "--input=i64=-1"}),
            "stats: input 'k' breaks a precondition: k must not be negative");
  EXPECT_EQ(error({module, echo, "--input=3xf32=1,2"}),
            "--input=3xf32=1,2: 3xf32 has 3 elements but 2 values were given");
  EXPECT_EQ(error({module, echo, "--input=2xf32=1,abc"}),
            "--input=2xf32=1,abc: 'abc' is not a number");
  EXPECT_EQ(error({module, echo, "--input=2xf32"}),
            "--input=2xf32: expected SHAPExTYPE=VALUES, SHAPExTYPE=@file.npy "
            "or @file.npy");
  EXPECT_EQ(error({module, echo, "--input=1x2x4xf32=@" + path("x.npy")}),
            "echo: input 'a' has shape [1, 2, 4] but the artifact expects "
            "[N]");
  EXPECT_EQ(error({module, echo, "--input=8xf32=@" + path("x.npy")}),
            "--input=8xf32=@" + path("x.npy") + ": " + path("x.npy") +
                " holds 1x2x4xf32, not 8xf32");
  EXPECT_EQ(error({module, echo, "--input=1xf32=1", "--output=y.npy"}),
            "--output=y.npy: expected @file.npy, - or nothing");
  EXPECT_EQ(
      error({module, echo, "--input=1xf32=1", "--output=-", "--output=-"}),
      "echo has 1 outputs but 2 --output were given");

  std::string forward = "--function=forward";
  std::string weights = "--weights=" + path("w.safetensors");
  std::string x = "--input=1x2x4xf32=@" + path("x.npy");
  EXPECT_EQ(error({module, forward, weights, x}),
            "forward has state inputs (state): pass them with "
            "--state-in=FILE");
  EXPECT_EQ(error({module, forward, x, "--state-in=" + path("s.safetensors")}),
            "forward needs weights (w): pass them with --weights=FILE");
  EXPECT_EQ(error({module, forward, weights, "--input=1x2x5xf32=0",
                   "--state-in=" + path("s.safetensors")}),
            "forward: input 'x' has shape [1, 2, 5] but the artifact expects "
            "[B, T, 4]");

  // A state file of another model.
  TensorMap other = take(TensorMap::create());
  ASSERT_FALSE(
      other.set("memory.W_1", take(Tensor::create(HOPE_DTYPE_F32, {1, 4}))));
  ASSERT_FALSE(writeSafetensors(path("other.safetensors"), other));
  EXPECT_EQ(error({module, forward, weights, x,
                   "--state-in=" + path("other.safetensors")}),
            path("other.safetensors") +
                ": tensor 'memory.W_1' is not a state of forward (states: "
                "state)");
  TensorMap none = take(TensorMap::create());
  ASSERT_FALSE(writeSafetensors(path("none.safetensors"), none));
  EXPECT_EQ(error({module, forward, weights, x,
                   "--state-in=" + path("none.safetensors")}),
            path("none.safetensors") +
                ": no tensor 'state' (a state of forward)");
  TensorMap wide = take(TensorMap::create());
  ASSERT_FALSE(wide.set("state", take(Tensor::create(HOPE_DTYPE_F32, {1, 8}))));
  ASSERT_FALSE(writeSafetensors(path("wide.safetensors"), wide));
  EXPECT_EQ(error({module, forward, weights, x,
                   "--state-in=" + path("wide.safetensors")}),
            "forward: state 'state' has shape [1, 8] but the artifact "
            "expects [B, 4]");

  // A truncated weights file.
  std::string bytes = readFile(path("w.safetensors"));
  writeFile(path("cut.safetensors"), llvm::StringRef(bytes).drop_back(3));
  EXPECT_EQ(error({module, forward, "--weights=" + path("cut.safetensors")}),
            path("cut.safetensors") +
                ": tensor 'w' has data_offsets [0, 16] past the end of the "
                "data (13 bytes; truncated file?)");

  EXPECT_EQ(error({"--module=" + std::string(HOPE_FAKE_MISSING_ENTRY)}),
            std::string(HOPE_FAKE_MISSING_ENTRY) +
                ": no symbol 'hope_entry_backward' for entry point "
                "'backward'");
  // An unknown flag: llvm::cl's own message, exit code 1.
  EXPECT_EQ(run({module, "--bogus"}).code, 1);
}

TEST_F(HopeRun, ListingAlignsAndEscapesNames) {
  // A long name widens its column; a control character (ESC) from the file
  // is printed escaped, not sent to the terminal.
  Result result =
      run({std::string("--module=") + HOPE_FAKE_ODD_NAMES, "--list"});
  EXPECT_EQ(result.code, 0) << result.err;
  std::string name = "a_long_input_name_with_escape\\1B[31m";
  EXPECT_NE(result.out.find("forward\n"
                            "  inputs:\n"
                            "    " + name + " input  f32 [B, T, 4]\n"
                            "    w" + std::string(name.size() - 1, ' ') +
                            " weight f32 [4]\n"),
            std::string::npos)
      << result.out;
  EXPECT_EQ(result.out.find('\x1b'), std::string::npos);
  // Errors that name it escape it alike.
  EXPECT_EQ(error({std::string("--module=") + HOPE_FAKE_ODD_NAMES,
                   "--function=forward", "--weights=" + path("w.safetensors"),
                   "--state-in=" + path("s.safetensors")}),
            "forward takes 1 inputs (" + name +
                ") but 0 --input were given");
}

TEST_F(HopeRun, BadInputIsRefusedBeforeRunning) {
  std::string echo = "--function=echo", one = "--input=1xf32=1";
  // Thread counts OpenMP would abort or hang on.
  EXPECT_EQ(error({module, echo, one, "--num-threads=100000"}),
            "--num-threads=100000 is out of range (0 for the default, or 1 "
            "to 1024)");
  EXPECT_EQ(error({module, echo, one, "--num-threads=-2"}),
            "--num-threads=-2 is out of range (0 for the default, or 1 to "
            "1024)");
  for (llvm::StringRef value : {"abc", "100000", "0", "4,x"}) {
    std::string variable = ("OMP_NUM_THREADS=" + value).str();
    llvm::StringRef env[] = {variable};
    EXPECT_EQ(error({module, echo, one}, env),
              "OMP_NUM_THREADS='" + value.str() +
                  "' is not a thread count from 1 to 1024 (or a "
                  "comma-separated list of them)");
  }
  // Devices and folders where files are expected: refused, not read.
  EXPECT_EQ(error({"--module=/dev/zero"}),
            "cannot read artifact '/dev/zero': it is a character device, not "
            "a regular file");
  std::string forward = "--function=forward";
  std::string x = "--input=1x2x4xf32=@" + path("x.npy");
  std::string state = "--state-in=" + path("s.safetensors");
  EXPECT_EQ(error({module, forward, "--weights=/dev/zero", x, state}),
            "cannot read '/dev/zero': it is a character device, not a "
            "regular file");
  EXPECT_EQ(error({module, echo, "--input=@/dev/zero"}),
            "--input=@/dev/zero: cannot read '/dev/zero': it is a character "
            "device, not a regular file");
  EXPECT_EQ(error({module, echo, "--input=@" + path("")}),
            "--input=@" + path("") + ": cannot read '" + path("") +
                "': it is a directory, not a regular file");
  std::string weights = "--weights=" + path("w.safetensors");
  EXPECT_EQ(error({module, forward, weights, x, "--state-in=/dev/zero"}),
            "cannot read '/dev/zero': it is a character device, not a "
            "regular file");

  // Where results go is checked before the run.
  std::string missing = path("no/such/folder/y.npy");
  EXPECT_EQ(error({module, echo, one, "--output=@" + missing}),
            "--output=" + missing + ": no folder '" + path("no/such/folder") +
                "'");
  EXPECT_EQ(error({module, forward, weights, x, state,
                   "--state-out=" + path("no/s.safetensors")}),
            "--state-out=" + path("no/s.safetensors") + ": no folder '" +
                path("no") + "'");
  EXPECT_EQ(error({module, echo, one, "--state-out=" + path("s2.safetensors")}),
            "--state-out=" + path("s2.safetensors") +
                ": echo has no state outputs");
  EXPECT_FALSE(llvm::sys::fs::exists(path("s2.safetensors")));

  // A weights file with tensors the artifact does not have (another model).
  TensorMap extra = take(TensorMap::create());
  ASSERT_FALSE(extra.set("w", tensorOf<float>({4}, {1, 2, 3, 4})));
  ASSERT_FALSE(extra.set("layers.2.w", tensorOf<float>({1}, {0})));
  ASSERT_FALSE(writeSafetensors(path("extra.safetensors"), extra));
  EXPECT_EQ(error({module, forward, "--weights=" + path("extra.safetensors"),
                   x, state}),
            path("extra.safetensors") +
                ": tensor 'layers.2.w' is not a weight of " +
                std::string(HOPE_FAKE_GOOD) + " (a file for another model?)");
}

} // namespace
