//===- ManifestTest.cpp - the manifest parser -----------------------------===//

#include "Manifest.h"

#include "TestUtil.h"

#include "llvm/Support/JSON.h"

#include <functional>

using namespace hope;
using namespace hope::rt;
using namespace hope::test;
using llvm::json::Array;
using llvm::json::Object;

namespace {

/// The example of docs/artifact-abi.md, plus a second entry point.
Object example() {
  auto tensor = [](llvm::StringRef name, llvm::StringRef role,
                   Array shape) -> llvm::json::Value {
    return Object{{"name", name},
                  {"role", role},
                  {"dtype", "f32"},
                  {"shape", std::move(shape)}};
  };
  return Object{
      {"format", "hope-artifact"},
      {"version", 4},
      {"services", 1},
      {"model", "titans_memory"},
      {"target", Object{{"kind", "cpu"},
                        {"triple", "x86_64-unknown-linux-gnu"},
                        {"cpu", "znver3"},
                        {"features", Array{"avx2", "fma"}}}},
      {"entry_points",
       Array{Object{
                 {"name", "forward"},
                 {"inputs",
                  Array{tensor("x", "input", Array{"B", "T", 384}),
                        tensor("w_k", "weight", Array{384, 384}),
                        tensor("memory.W_1", "state", Array{"B", 4, 384, 96})}},
                 {"outputs", Array{tensor("y", "output", Array{"B", "T", 384}),
                                   tensor("memory.W_1", "state",
                                          Array{"B", 4, 384, 96})}}},
             Object{{"name", "init"},
                    {"inputs", Array{tensor("w_k", "weight", Array{384, 384})}},
                    {"outputs", Array{tensor("memory.W_1", "state",
                                             Array{"B", 4, 384, 96})}}}}}};
}

Object &entry(Object &manifest, size_t i) {
  return *(*manifest.getArray("entry_points"))[i].getAsObject();
}
Object &input(Object &manifest, size_t i) {
  return *(*entry(manifest, 0).getArray("inputs"))[i].getAsObject();
}
Object &output(Object &manifest, size_t i) {
  return *(*entry(manifest, 0).getArray("outputs"))[i].getAsObject();
}

std::string text(Object manifest) {
  std::string json;
  llvm::raw_string_ostream(json) << llvm::json::Value(std::move(manifest));
  return json;
}

/// The message of parsing the example after `change`.
std::string errorAfter(const std::function<void(Object &)> &change) {
  Object manifest = example();
  change(manifest);
  hope::Expected<std::unique_ptr<Manifest>> parsed =
      parseManifest(text(std::move(manifest)));
  return messageOf(parsed);
}

TEST(Manifest, ParsesTheABIExample) {
  std::unique_ptr<Manifest> manifest = take(parseManifest(text(example())));
  EXPECT_EQ(manifest->model, "titans_memory");
  EXPECT_EQ(manifest->triple, "x86_64-unknown-linux-gnu");
  EXPECT_EQ(manifest->cpu, "znver3");
  EXPECT_EQ(manifest->kind, "cpu");
  EXPECT_EQ(manifest->features,
            (std::vector<std::string_view>{"avx2", "fma"}));
  ASSERT_EQ(manifest->entryPoints.size(), 2u);
  const EntryPoint &forward = manifest->entryPoints[0];
  EXPECT_EQ(forward.name, "forward");
  ASSERT_EQ(forward.inputs.size(), 3u);
  const TensorSpec &x = forward.inputs[0];
  EXPECT_EQ(x.role, HOPE_ROLE_INPUT);
  EXPECT_EQ(x.dtype, HOPE_DTYPE_F32);
  EXPECT_EQ(x.shape, (std::vector<int64_t>{-1, -1, 384}));
  EXPECT_STREQ(x.dimNames[0], "B");
  EXPECT_EQ(x.dimNames[2], nullptr);
  EXPECT_EQ(x.formatShape(), "[B, T, 384]");
  EXPECT_EQ(forward.inputs[1].role, HOPE_ROLE_WEIGHT);
  EXPECT_EQ(forward.outputs[1].describe(), "state 'memory.W_1'");
  EXPECT_EQ(manifest->find("init"), &manifest->entryPoints[1]);
  EXPECT_EQ(manifest->find("backward"), nullptr);
}

TEST(Manifest, EveryMissingOrIllTypedFieldIsNamed) {
  EXPECT_EQ(errorAfter([](Object &m) { m.erase("format"); }),
            "invalid manifest: missing value at manifest.format");
  EXPECT_EQ(errorAfter([](Object &m) { m["version"] = "1"; }),
            "invalid manifest: expected integer at manifest.version");
  EXPECT_EQ(errorAfter([](Object &m) { m.erase("services"); }),
            "invalid manifest: missing value at manifest.services");
  EXPECT_EQ(errorAfter([](Object &m) { m.erase("model"); }),
            "invalid manifest: missing value at manifest.model");
  EXPECT_EQ(errorAfter([](Object &m) { m["target"] = Array{}; }),
            "invalid manifest: expected object at manifest.target");
  EXPECT_EQ(errorAfter([](Object &m) { m.getObject("target")->erase("kind"); }),
            "invalid manifest: missing value at manifest.target.kind");
  EXPECT_EQ(errorAfter([](Object &m) { m.getObject("target")->erase("cpu"); }),
            "invalid manifest: missing value at manifest.target.cpu");
  EXPECT_EQ(errorAfter([](Object &m) {
              (*m.getObject("target"))["features"] = Array{"avx2", 3};
            }),
            "invalid manifest: expected string at "
            "manifest.target.features[1]");
  EXPECT_EQ(errorAfter([](Object &m) { m.erase("entry_points"); }),
            "invalid manifest: missing value at manifest.entry_points");
  EXPECT_EQ(errorAfter([](Object &m) {
              entry(m, 0)["preconditions"] = Array{Object{{"message", 1}}};
            }),
            "invalid manifest: expected string at "
            "manifest.entry_points[0].preconditions[0].message");
  EXPECT_EQ(errorAfter([](Object &m) { entry(m, 1).erase("outputs"); }),
            "invalid manifest: missing value at "
            "manifest.entry_points[1].outputs");
  EXPECT_EQ(errorAfter([](Object &m) { input(m, 1)["role"] = 3; }),
            "invalid manifest: expected string at "
            "manifest.entry_points[0].inputs[1].role");
  EXPECT_EQ(errorAfter([](Object &m) { input(m, 2).erase("dtype"); }),
            "invalid manifest: missing value at "
            "manifest.entry_points[0].inputs[2].dtype");
  EXPECT_EQ(
      errorAfter([](Object &m) { output(m, 0)["shape"] = Array{"B", 1.5}; }),
      "invalid manifest: expected an integer size or a dimension name "
      "at manifest.entry_points[0].outputs[0].shape[1]");
}

TEST(Manifest, EveryBadValueIsNamed) {
  EXPECT_EQ(errorAfter([](Object &m) { m["format"] = "onnx"; }),
            "invalid manifest: 'format' is 'onnx', not 'hope-artifact'");
  EXPECT_EQ(errorAfter([](Object &m) { m["version"] = 1; }),
            "unsupported manifest version 1 (this runtime reads version 4)");
  EXPECT_EQ(errorAfter([](Object &m) { m["version"] = 3; }),
            "unsupported manifest version 3 (this runtime reads version 4)");
  EXPECT_EQ(errorAfter([](Object &m) { m["services"] = 0; }),
            "invalid manifest: 'services' is 0, not a service table version "
            "(1 or more)");
  EXPECT_EQ(errorAfter([](Object &m) { m["services"] = 4; }),
            "the artifact needs service table version 4; this runtime "
            "provides 3");
  // Another target's artifact: refused by kind, whatever else it holds.
  EXPECT_EQ(errorAfter([](Object &m) {
              m["target"] = Object{{"kind", "rocm"}, {"arch", "gfx90a"}};
            }),
            "compiled for target 'rocm'; this runtime has no backend for it");
  EXPECT_EQ(errorAfter([](Object &m) {
              entry(m, 0)["preconditions"] =
                  Array{Object{{"message", "m"}, {"inputs", Array{"nope"}}}};
            }),
            "invalid manifest: entry point 'forward': a precondition reads "
            "'nope', which is not one of its inputs");
  EXPECT_EQ(errorAfter([](Object &m) { input(m, 0)["dtype"] = "f16"; }),
            "invalid manifest: entry point 'forward', input 'x' has dtype "
            "'f16' (expected f32, f64 or i64)");
  EXPECT_EQ(errorAfter([](Object &m) { input(m, 0)["role"] = "output"; }),
            "invalid manifest: entry point 'forward', input 'x' has role "
            "'output' (expected input, weight or state)");
  EXPECT_EQ(errorAfter([](Object &m) { output(m, 0)["role"] = "weight"; }),
            "invalid manifest: entry point 'forward', output 'y' has role "
            "'weight' (expected output or state)");
  EXPECT_EQ(errorAfter([](Object &m) { input(m, 1)["name"] = "x"; }),
            "invalid manifest: entry point 'forward', input 'x' is declared "
            "twice");
  EXPECT_EQ(errorAfter([](Object &m) { input(m, 0)["name"] = ""; }),
            "invalid manifest: entry point 'forward' has an input with an "
            "empty name");
  EXPECT_EQ(
      errorAfter([](Object &m) { input(m, 0)["shape"] = Array{"B", -3}; }),
      "invalid manifest: entry point 'forward', input 'x' has a "
      "negative size in its shape");
  EXPECT_EQ(errorAfter([](Object &m) { entry(m, 1)["name"] = "forward"; }),
            "invalid manifest: two entry points are named 'forward'");
  EXPECT_EQ(errorAfter([](Object &m) { entry(m, 1)["name"] = "run-fast"; }),
            "invalid manifest: entry point name 'run-fast' is not a C "
            "identifier (its symbol is hope_entry_<name>)");
  EXPECT_EQ(errorAfter([](Object &m) {
              (*(*entry(m, 1).getArray("inputs"))[0].getAsObject())["shape"] =
                  Array{384, 385};
            }),
            "invalid manifest: weight 'w_k' is f32 [384, 384] in entry point "
            "'forward' but f32 [384, 385] in entry point 'init'");
  // Only weights are updated in place (a training step's parameters).
  EXPECT_EQ(errorAfter([](Object &m) { input(m, 0)["updated"] = true; }),
            "invalid manifest: entry point 'forward', input 'x' is marked "
            "updated but only weights are updated in place");
  EXPECT_EQ(errorAfter([](Object &m) { output(m, 0)["updated"] = true; }),
            "invalid manifest: entry point 'forward', output 'y' is marked "
            "updated but only weights are updated in place");
  EXPECT_EQ(errorAfter([](Object &m) { input(m, 1)["updated"] = 1; }),
            "invalid manifest: expected boolean at "
            "manifest.entry_points[0].inputs[1].updated");
}

TEST(Manifest, ReadsTheUpdatedFlagOfWeights) {
  Object changed = example();
  input(changed, 1)["updated"] = true;
  std::unique_ptr<Manifest> manifest = take(parseManifest(text(changed)));
  EXPECT_FALSE(manifest->entryPoints[0].inputs[0].updated);
  EXPECT_TRUE(manifest->entryPoints[0].inputs[1].updated);
  EXPECT_FALSE(manifest->entryPoints[1].inputs[0].updated);
}

TEST(Manifest, MalformedJSON) {
  hope::Expected<std::unique_ptr<Manifest>> parsed = parseManifest("{\"a\":");
  EXPECT_EQ(messageOf(parsed).rfind("invalid manifest: not valid JSON: ", 0),
            0u)
      << messageOf(parsed);
  parsed = parseManifest("[]");
  EXPECT_EQ(messageOf(parsed), "invalid manifest: expected object at manifest");
  // Nesting deep enough to overflow a recursive parser's stack, and a key
  // given twice (which a plain parse would resolve silently).
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  parsed = parseManifest(deep);
  EXPECT_EQ(codeOf(parsed), HOPE_INVALID_FORMAT);
  EXPECT_EQ(messageOf(parsed),
            "invalid manifest: nested deeper than 64 levels");
  parsed = parseManifest("{\"format\": \"hope-artifact\", \"format\": \"x\"}");
  EXPECT_EQ(messageOf(parsed), "invalid manifest: duplicate key 'format'");
}

} // namespace

namespace {
/// The example as a CUDA artifact (docs/artifact-abi.md, "CUDA artifacts").
Object cudaExample() {
  Object manifest = example();
  manifest["version"] = 4;
  manifest["services"] = 2;
  manifest["target"] = Object{
      {"kind", "cuda"},
      {"chips", Array{"sm_80", "sm_90"}},
      {"ptx_version", "8.0"},
      {"host", Object{{"triple", "x86_64-unknown-linux-gnu"},
                      {"cpu", "x86-64"},
                      {"features", Array{}}}}};
  manifest["kernels"] =
      Array{Object{{"name", "memory_stage_0"},
                   {"block", Array{256, 1, 1}},
                   {"shared_bytes", 16384}},
            Object{{"name", "linear_1"},
                   {"block", Array{16, 16, 1}},
                   {"shared_bytes", 0}}};
  manifest["images"] = Array{
      Object{{"format", "cubin"}, {"chip", "sm_90"}, {"symbol", "hope_image_0"},
             {"bytes", 4096}},
      Object{{"format", "ptx"}, {"chip", "sm_80"}, {"symbol", "hope_image_1"},
             {"bytes", 9000}}};
  return manifest;
}

std::string cudaErrorAfter(const std::function<void(Object &)> &change) {
  Object manifest = cudaExample();
  change(manifest);
  return messageOf(parseManifest(text(std::move(manifest))));
}

Object &kernel(Object &manifest, size_t i) {
  return *(*manifest.getArray("kernels"))[i].getAsObject();
}
Object &image(Object &manifest, size_t i) {
  return *(*manifest.getArray("images"))[i].getAsObject();
}
} // namespace

TEST(Manifest, ParsesACudaArtifact) {
  std::unique_ptr<Manifest> manifest = take(parseManifest(text(cudaExample())));
  EXPECT_TRUE(manifest->isCuda());
  EXPECT_EQ(manifest->services, 2);
  EXPECT_EQ(manifest->triple, "x86_64-unknown-linux-gnu"); // target.host
  EXPECT_EQ(manifest->cpu, "x86-64");
  EXPECT_EQ(manifest->chips, (std::vector<std::string_view>{"sm_80", "sm_90"}));
  EXPECT_EQ(manifest->ptxVersion, "8.0");
  ASSERT_EQ(manifest->kernels.size(), 2u);
  EXPECT_EQ(manifest->kernels[1].name, "linear_1");
  EXPECT_EQ(manifest->kernels[1].block[1], 16u);
  EXPECT_EQ(manifest->kernels[0].sharedBytes, 16384u);
  ASSERT_EQ(manifest->images.size(), 2u);
  EXPECT_EQ(manifest->images[1].format, "ptx");
  EXPECT_EQ(manifest->images[1].chip, "sm_80");
  EXPECT_EQ(manifest->images[1].symbol, "hope_image_1");
  EXPECT_EQ(manifest->images[1].bytes, 9000u);
}

// hope-inspect's fields (docs/artifact-abi.md, "Kernel costs") are the
// compiler's and the tool's: the runtime reads past them.
TEST(Manifest, IgnoresTheKernelCostFields) {
  Object example = cudaExample();
  Object &first = kernel(example, 0);
  first["entry_point"] = "forward";
  first["grid"] = Array{"x[0]", 4, 1};
  first["flops"] = Array{"*", 4096.5, "x[0]", Array{"ceildiv", "x[1]", 8}};
  first["bytes_read"] = Array{"+", 16384, Array{"*", 256, "x[0]"}};
  first["bytes_written"] = 0;
  first["resources"] =
      Object{{"sm_90", Object{{"registers", 40}, {"spill_stores", 0},
                              {"spill_loads", 0}, {"shared_bytes", 16384},
                              {"barriers", 1}, {"stack_bytes", 0}}}};
  std::unique_ptr<Manifest> manifest = take(parseManifest(text(example)));
  ASSERT_EQ(manifest->kernels.size(), 2u);
  EXPECT_EQ(manifest->kernels[0].name, "memory_stage_0");
  EXPECT_EQ(manifest->kernels[0].block[0], 256u);
  EXPECT_EQ(manifest->kernels[0].sharedBytes, 16384u);
}

TEST(Manifest, EveryBadCudaValueIsNamed) {
  EXPECT_EQ(cudaErrorAfter([](Object &m) { m.erase("services"); }),
            "invalid manifest: missing value at manifest.services");
  EXPECT_EQ(cudaErrorAfter([](Object &m) { m["services"] = 4; }),
            "the artifact needs service table version 4; this runtime "
            "provides 3");
  EXPECT_EQ(cudaErrorAfter([](Object &m) {
              m.getObject("target")->erase("host");
            }),
            "invalid manifest: missing value at manifest.target.host");
  EXPECT_EQ(cudaErrorAfter([](Object &m) {
              (*m.getObject("target"))["chips"] = Array{"sm_90", "volta"};
            }),
            "invalid manifest: chip 'volta' at manifest.target.chips[1] is not "
            "an architecture name like sm_90");
  EXPECT_EQ(cudaErrorAfter([](Object &m) {
              (*m.getObject("target"))["kind"] = "cuda-emulated";
            }),
            "invalid manifest: a 'cuda-emulated' target has no 'chips' (its "
            "kernels are host code)");
  EXPECT_EQ(cudaErrorAfter([](Object &m) { m.erase("kernels"); }),
            "invalid manifest: missing value at manifest.kernels");
  EXPECT_EQ(cudaErrorAfter([](Object &m) {
              kernel(m, 1)["block"] = Array{64, 32, 1};
            }),
            "invalid manifest: kernel 'linear_1': a block of 2048 threads "
            "exceeds CUDA's 1024");
  EXPECT_EQ(cudaErrorAfter([](Object &m) {
              kernel(m, 1)["block"] = Array{1, 1};
            }),
            "invalid manifest: kernel 'linear_1': 'block' has 2 sizes "
            "(expected 3: x, y, z)");
  EXPECT_EQ(cudaErrorAfter([](Object &m) { kernel(m, 1)["name"] = "a-b"; }),
            "invalid manifest: kernel name 'a-b' at manifest.kernels[1] is not "
            "a C identifier");
  EXPECT_EQ(cudaErrorAfter([](Object &m) {
              kernel(m, 1)["name"] = "memory_stage_0";
            }),
            "invalid manifest: two kernels are named 'memory_stage_0'");
  EXPECT_EQ(cudaErrorAfter([](Object &m) {
              kernel(m, 0)["shared_bytes"] = -1;
            }),
            "invalid manifest: kernel 'memory_stage_0': shared_bytes -1 is out "
            "of range");
  EXPECT_EQ(cudaErrorAfter([](Object &m) { image(m, 1)["chip"] = "sm_75"; }),
            "invalid manifest: image 1 is for chip 'sm_75', which is not one "
            "of the target's chips");
  EXPECT_EQ(cudaErrorAfter([](Object &m) { image(m, 0)["format"] = "fatbin"; }),
            "invalid manifest: image 0 has format 'fatbin' (expected cubin or "
            "ptx for target 'cuda')");
  EXPECT_EQ(cudaErrorAfter([](Object &m) {
              image(m, 1)["symbol"] = "hope_image_0";
            }),
            "invalid manifest: two images are in symbol 'hope_image_0'");
  EXPECT_EQ(cudaErrorAfter([](Object &m) { image(m, 1)["bytes"] = 0; }),
            "invalid manifest: image 1: bytes 0 is out of range (1 to 2^30)");
  EXPECT_EQ(cudaErrorAfter([](Object &m) { m["images"] = Array{}; }),
            "invalid manifest: a 'cuda' artifact needs at least one image");
}
