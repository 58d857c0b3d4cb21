//===- ModuleTest.cpp - loading artifacts, good and bad -------------------===//

#include "TestUtil.h"

#include "HostTarget.h"
#include "hope/artifact.h"

#include "llvm/Support/FileSystem.h"

using namespace hope;
using namespace hope::test;

namespace {

std::string loadError(llvm::StringRef path) {
  hope::Expected<Module> module = Module::load(path);
  return messageOf(module);
}

std::string shape(const hope_param &param) {
  std::string text;
  for (size_t i = 0; i < param.rank; ++i)
    text +=
        (i ? "," : "") + (param.dim_names[i] ? std::string(param.dim_names[i])
                                             : std::to_string(param.shape[i]));
  return text;
}

TEST(Module, LoadsTheFakeArtifact) {
  Module module = take(Module::load(HOPE_FAKE_GOOD));
  EXPECT_EQ(module.model(), "fake");
  EXPECT_EQ(module.cpu(), "generic");
  // No parallel loops: it runs on the calling thread.
  EXPECT_EQ(module.threads(), 1);
  EXPECT_EQ(module.manifest().substr(0, 26), "{\"format\": \"hope-artifact\"");
  EXPECT_EQ(module.entryPoints(),
            (std::vector<std::string_view>{"forward", "stats", "echo"}));

  Signature forward = take(module.signature("forward"));
  ASSERT_EQ(forward.inputs.size(), 3u);
  ASSERT_EQ(forward.outputs.size(), 2u);
  EXPECT_STREQ(forward.inputs[0].name, "x");
  EXPECT_EQ(forward.inputs[0].role, HOPE_ROLE_INPUT);
  EXPECT_EQ(forward.inputs[0].dtype, HOPE_DTYPE_F32);
  EXPECT_EQ(shape(forward.inputs[0]), "B,T,4");
  EXPECT_EQ(forward.inputs[0].shape[0], -1);
  EXPECT_EQ(forward.inputs[0].shape[2], 4);
  EXPECT_EQ(forward.inputs[1].role, HOPE_ROLE_WEIGHT);
  EXPECT_EQ(forward.inputs[2].role, HOPE_ROLE_STATE);
  EXPECT_EQ(forward.outputs[1].role, HOPE_ROLE_STATE);

  Signature stats = take(module.signature("stats"));
  EXPECT_EQ(stats.inputs[1].dtype, HOPE_DTYPE_I64);
  EXPECT_EQ(stats.inputs[1].rank, 0u);
  EXPECT_EQ(stats.outputs[0].dtype, HOPE_DTYPE_F64);

  hope::Expected<Signature> missing = module.signature("backward");
  EXPECT_EQ(messageOf(missing), "no entry point 'backward' in " +
                                    std::string(HOPE_FAKE_GOOD) +
                                    " (entry points: forward, stats, echo)");
  hope_param param;
  hope_status *status = hope_module_input(module.get(), "forward", 3, &param);
  EXPECT_STREQ(hope_status_message(status),
               "hope_module_input: forward has 3 inputs, no index 3");
  hope_status_free(status);
}

TEST(Module, LoadsByARelativePath) {
  // dlopen would search the library path for a name without '/'.
  TempDir dir;
  ASSERT_FALSE(llvm::sys::fs::copy_file(HOPE_FAKE_GOOD, dir.path("fake.so")));
  llvm::SmallString<256> cwd;
  ASSERT_FALSE(llvm::sys::fs::current_path(cwd));
  ASSERT_FALSE(llvm::sys::fs::set_current_path(dir.path("")));
  hope::Expected<Module> module = Module::load("fake.so");
  ASSERT_FALSE(llvm::sys::fs::set_current_path(cwd));
  EXPECT_EQ(messageOf(module), "success");
}

TEST(Module, AnIllTypedManifestFieldIsNamed) {
  EXPECT_EQ(loadError(HOPE_FAKE_BAD_MANIFEST),
            std::string(HOPE_FAKE_BAD_MANIFEST) +
                ": invalid manifest: expected string at "
                "manifest.entry_points[0].inputs[0].role");
}

TEST(Module, AMissingEntrySymbolIsNamed) {
  hope::Expected<Module> module = Module::load(HOPE_FAKE_MISSING_ENTRY);
  EXPECT_EQ(codeOf(module), HOPE_NOT_FOUND);
  EXPECT_EQ(loadError(HOPE_FAKE_MISSING_ENTRY),
            std::string(HOPE_FAKE_MISSING_ENTRY) +
                ": no symbol 'hope_entry_backward' for entry point "
                "'backward'");
}

TEST(Module, ANewerServiceTableIsRefused) {
  hope::Expected<Module> module = Module::load(HOPE_FAKE_NEW_SERVICES);
  EXPECT_EQ(codeOf(module), HOPE_UNSUPPORTED);
  EXPECT_EQ(loadError(HOPE_FAKE_NEW_SERVICES),
            std::string(HOPE_FAKE_NEW_SERVICES) +
                ": the artifact needs service table version 99; this "
                "runtime provides " +
                std::to_string(HOPE_SERVICES_VERSION));
}

TEST(Module, EveryMissingCPUFeatureIsNamed) {
  // The made-up feature is missing everywhere; avx512vp2intersect on most.
  std::string missing = rt::hostHasFeature("avx512vp2intersect").value_or(false)
                            ? "hope-made-up-feature"
                            : "avx512vp2intersect, hope-made-up-feature";
  hope::Expected<Module> module = Module::load(HOPE_FAKE_MISSING_FEATURE);
  EXPECT_EQ(codeOf(module), HOPE_UNSUPPORTED);
  EXPECT_EQ(loadError(HOPE_FAKE_MISSING_FEATURE),
            std::string(HOPE_FAKE_MISSING_FEATURE) +
                ": compiled for CPU features this host (" +
                rt::hostCPUName() + ") lacks: " + missing);
}

TEST(Module, AVX10IsAFeatureTheRuntimeQueries) {
  // LLVM 22 lists avx10.1 among a Granite Rapids host's features; unknown,
  // it made every artifact compiled for such a host unloadable.
  EXPECT_TRUE(rt::hostHasFeature("avx10.1").has_value());
}

TEST(Module, FilesThatAreNotArtifacts) {
  TempDir dir;
  EXPECT_EQ(loadError(dir.path("none.so")), "cannot read artifact '" +
                                                dir.path("none.so") +
                                                "': No such file or directory");
  writeFile(dir.path("text.so"), "not a library\n");
  EXPECT_EQ(loadError(dir.path("text.so")),
            dir.path("text.so") +
                ": not a valid shared library: not an ELF file");
  writeFile(dir.path("empty.so"), "");
  EXPECT_EQ(loadError(dir.path("empty.so")),
            dir.path("empty.so") +
                ": not a valid shared library: not an ELF file");
  // A directory or a device is refused before anything is read (/dev/zero
  // would be read forever).
  EXPECT_EQ(loadError(dir.path("")), "cannot read artifact '" +
                                         dir.path("") +
                                         "': it is a directory, not a "
                                         "regular file");
  EXPECT_EQ(loadError("/dev/zero"),
            "cannot read artifact '/dev/zero': it is a character device, not "
            "a regular file");
}

TEST(Module, ALibraryForAnotherArchitecture) {
  TempDir dir;
  std::string bytes = readFile(HOPE_FAKE_GOOD);
  ASSERT_GT(bytes.size(), 20u);
  // e_machine, at byte 18: claim the other of x86-64 (62) and AArch64 (183).
#if defined(__x86_64__)
  bool x86 = true;
#else
  bool x86 = false;
#endif
  bytes[18] = char(x86 ? 183 : 62);
  bytes[19] = 0;
  writeFile(dir.path("other.so"), bytes);
  hope::Expected<Module> module = Module::load(dir.path("other.so"));
  EXPECT_EQ(codeOf(module), HOPE_UNSUPPORTED);
  EXPECT_EQ(loadError(dir.path("other.so")),
            dir.path("other.so") + ": is a library for " +
                (x86 ? "aarch64" : "x86_64") + " but this host is " +
                (x86 ? "x86_64" : "aarch64"));
}

TEST(Module, TruncatedArtifactsAreErrorsNotCrashes) {
  TempDir dir;
  std::string bytes = readFile(HOPE_FAKE_GOOD);
  // Every byte of the headers, then every 61st (a prime, to vary the
  // alignment), then the last bytes.
  std::vector<size_t> sizes;
  for (size_t size = 0; size < bytes.size(); ++size)
    if (size < 256 || size % 61 == 0 || size + 64 > bytes.size())
      sizes.push_back(size);
  for (size_t size : sizes) {
    // A new name each time: dlopen would return a library already loaded.
    std::string path = dir.path("cut" + std::to_string(size) + ".so");
    writeFile(path, bytes.substr(0, size));
    hope::Expected<Module> module = Module::load(path);
    ASSERT_FALSE(module) << "an artifact cut to " << size << " bytes loaded";
    hope_code code = codeOf(module);
    EXPECT_TRUE(code == HOPE_INVALID_FORMAT || code == HOPE_NOT_FOUND)
        << "size " << size << ", code " << code;
    llvm::sys::fs::remove(path);
  }
}

TEST(Module, OutlivesItsHandleWhileUsed) {
  // A session and outputs keep the module loaded after its release.
  hope_module *module = nullptr;
  ASSERT_EQ(hope_module_load(HOPE_FAKE_GOOD, &module), nullptr);
  hope_session *session = nullptr;
  ASSERT_EQ(hope_session_create(module, nullptr, &session), nullptr);
  hope_module_release(module);
  Tensor v = tensorOf<double>({2}, {1, 2});
  Tensor k = tensorOf<int64_t>({}, {3});
  hope_tensor *inputs[] = {v.get(), k.get()};
  hope_tensor *outputs[3] = {};
  ASSERT_EQ(hope_session_invoke(session, "stats", inputs, 2, outputs, 3),
            nullptr);
  hope_session_release(session);
  Tensor total(outputs[0]), pairs(outputs[1]), idx(outputs[2]);
  EXPECT_EQ(valuesOf<double>(total), std::vector<double>{9});
}

} // namespace
