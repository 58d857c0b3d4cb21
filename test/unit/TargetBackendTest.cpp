//===- TargetBackendTest.cpp - the registry of target backends ------------===//

#include "nl/Codegen/InitAllTargetBackends.h"
#include "nl/Codegen/Pipeline.h"
#include "nl/Codegen/TargetBackend.h"

#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::nl;

namespace {

SmallVector<StringRef> phaseNames(ArrayRef<CompilePhase> phases) {
  return llvm::map_to_vector(phases,
                             [](const CompilePhase &phase) { return phase.name; });
}

TEST(TargetBackendTest, RegistryFindsEachBackendOnce) {
  registerAllTargetBackends();
  // Registering again (a second tool set-up in one process) adds nothing.
  registerAllTargetBackends();
  EXPECT_EQ(getTargetBackendNames(), (SmallVector<StringRef>{"cpu", "cuda"}));
  const TargetBackend *cuda = lookupTargetBackend("cuda");
  ASSERT_NE(cuda, nullptr);
  EXPECT_EQ(cuda->getName(), "cuda");
  const TargetBackend *cpu = lookupTargetBackend("cpu");
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu->getName(), "cpu");
  EXPECT_EQ(lookupTargetBackend("tpu"), nullptr);
}

TEST(TargetBackendTest, CommonPhasesEndAtLinalgThenTheTargetsFollow) {
  registerAllTargetBackends();
  EXPECT_EQ(phaseNames(getCommonPhases()),
            (SmallVector<StringRef>{"levels", "memories", "linalg"}));
  const TargetBackend *cpu = lookupTargetBackend("cpu");
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(phaseNames(cpu->getPhases()),
            (SmallVector<StringRef>{"tiled", "bufferized", "loops", "llvm"}));
  EXPECT_EQ(cpu->getTranslationName(), "llvm-ir");
}

TEST(TargetBackendTest, CPUFactsNameTheirKindAndRejectUnknownCPUs) {
  registerAllTargetBackends();
  const TargetBackend *cpu = lookupTargetBackend("cpu");
  ASSERT_NE(cpu, nullptr);
  MLIRContext context;
  CompileOptions options;
  std::string error;
  FailureOr<DictionaryAttr> host =
      cpu->getTargetFacts(&context, options, error);
  ASSERT_TRUE(succeeded(host)) << error;
  EXPECT_EQ(host->getAs<StringAttr>("kind").getValue(), "cpu");
  EXPECT_TRUE(host->getAs<StringAttr>("triple"));
  EXPECT_TRUE(host->getAs<ArrayAttr>("features"));

  options.chip = "pentium9";
  EXPECT_TRUE(failed(cpu->getTargetFacts(&context, options, error)));
  EXPECT_NE(error.find("pentium9"), std::string::npos) << error;
}

} // namespace
