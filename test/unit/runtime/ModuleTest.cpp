//===- ModuleTest.cpp - loading artifacts, good and bad -------------------===//

#include "TestUtil.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Process.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

using namespace hope;
using namespace hope::test;

namespace {

std::string loadError(llvm::StringRef path) {
  llvm::Expected<Module> module = Module::load(path);
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
  // No parallel loops: it runs on the calling thread, whatever is set.
  ASSERT_FALSE(module.setThreads(3));
  EXPECT_EQ(module.threads(), 1);
  EXPECT_TRUE(module.manifest().starts_with("{\"format\": \"hope-artifact\""));
  EXPECT_EQ(module.entryPoints(),
            (std::vector<llvm::StringRef>{"forward", "stats", "echo"}));

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

  llvm::Expected<Signature> missing = module.signature("backward");
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
  llvm::Expected<Module> module = Module::load("fake.so");
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
  llvm::Expected<Module> module = Module::load(HOPE_FAKE_MISSING_ENTRY);
  EXPECT_EQ(codeOf(module), HOPE_NOT_FOUND);
  EXPECT_EQ(loadError(HOPE_FAKE_MISSING_ENTRY),
            std::string(HOPE_FAKE_MISSING_ENTRY) +
                ": no symbol 'hope_entry_backward' for entry point "
                "'backward'");
}

TEST(Module, EveryMissingCPUFeatureIsNamed) {
  // The made-up feature is missing everywhere; avx512vp2intersect on most.
  llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
  std::string missing = host.lookup("avx512vp2intersect")
                            ? "hope-made-up-feature"
                            : "avx512vp2intersect, hope-made-up-feature";
  llvm::Expected<Module> module = Module::load(HOPE_FAKE_MISSING_FEATURE);
  EXPECT_EQ(codeOf(module), HOPE_UNSUPPORTED);
  EXPECT_EQ(loadError(HOPE_FAKE_MISSING_FEATURE),
            std::string(HOPE_FAKE_MISSING_FEATURE) +
                ": compiled for CPU features this host (" +
                llvm::sys::getHostCPUName().str() + ") lacks: " + missing);
}

TEST(Module, FilesThatAreNotArtifacts) {
  TempDir dir;
  EXPECT_EQ(loadError(dir.path("none.so")), "cannot read artifact '" +
                                                dir.path("none.so") +
                                                "': No such file or directory");
  writeFile(dir.path("text.so"), "not a library\n");
  EXPECT_EQ(loadError(dir.path("text.so")),
            dir.path("text.so") + ": not a valid shared library: The file "
                                  "was not recognized as a valid object file");
  writeFile(dir.path("empty.so"), "");
  EXPECT_EQ(loadError(dir.path("empty.so")),
            dir.path("empty.so") + ": not a valid shared library: The file "
                                   "was not recognized as a valid object "
                                   "file");
}

TEST(Module, ALibraryForAnotherArchitecture) {
  TempDir dir;
  std::string bytes = readFile(HOPE_FAKE_GOOD);
  ASSERT_GT(bytes.size(), 20u);
  // e_machine, at byte 18: claim the other of x86-64 (62) and AArch64 (183).
  llvm::Triple host(llvm::sys::getProcessTriple());
  bool x86 = host.getArch() == llvm::Triple::x86_64;
  bytes[18] = char(x86 ? 183 : 62);
  bytes[19] = 0;
  writeFile(dir.path("other.so"), bytes);
  llvm::Expected<Module> module = Module::load(dir.path("other.so"));
  EXPECT_EQ(codeOf(module), HOPE_UNSUPPORTED);
  EXPECT_EQ(loadError(dir.path("other.so")),
            dir.path("other.so") + ": is a library for " +
                (x86 ? "aarch64" : "x86_64") + " but this host is " +
                host.getArchName().str());
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
    writeFile(path, llvm::StringRef(bytes).take_front(size));
    llvm::Expected<Module> module = Module::load(path);
    ASSERT_FALSE(module) << "an artifact cut to " << size << " bytes loaded";
    hope_code code = hope::codeOf(module.takeError());
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
  ASSERT_EQ(hope_session_create(module, &session), nullptr);
  ASSERT_EQ(hope_module_release(module), nullptr);
  Tensor v = tensorOf<double>({2}, {1, 2});
  Tensor k = tensorOf<int64_t>({}, {3});
  hope_tensor *inputs[] = {v.get(), k.get()};
  hope_tensor *outputs[3] = {};
  ASSERT_EQ(hope_session_invoke(session, "stats", inputs, 2, outputs, 3),
            nullptr);
  ASSERT_EQ(hope_session_release(session), nullptr);
  Tensor total(outputs[0]), pairs(outputs[1]), idx(outputs[2]);
  EXPECT_EQ(valuesOf<double>(total), std::vector<double>{9});
}

} // namespace
