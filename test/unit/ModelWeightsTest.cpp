//===- ModelWeightsTest.cpp - the weights a model declares ----------------===//

#include "nl/Models/ModelWeights.h"
#include "TestContext.h"
#include "nl/Models/MemoryLevel.h"
#include "nl/Models/Models.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::nl::models;

namespace {

// One weight per `nl.weight` argument, in argument order, with its shape.
TEST(ModelWeights, HopeBlockWeightsAreItsWeightArguments) {
  auto context = hope::test::makeContext();
  OpBuilder builder(context.get());
  OwningOpRef<ModuleOp> module = ModuleOp::create(builder.getUnknownLoc());
  builder.setInsertionPointToEnd(module->getBody());
  func::FuncOp function =
      buildHopeBlock(builder, builder.getUnknownLoc(), HopeBlockConfig());

  FailureOr<SmallVector<WeightSpec>> weights = collectWeights(*module);
  ASSERT_TRUE(succeeded(weights));
  // x is an input; every other argument is a weight.
  ASSERT_EQ(weights->size(), function.getNumArguments() - 1);
  ASSERT_EQ(weights->size(), 25u);
  for (auto [index, weight] : llvm::enumerate(*weights)) {
    unsigned argument = index + 1;
    EXPECT_EQ(
        weight.name,
        function.getArgAttrOfType<StringAttr>(argument, "nl.weight").str());
    EXPECT_EQ(ArrayRef<int64_t>(weight.shape),
              cast<RankedTensorType>(function.getArgumentTypes()[argument])
                  .getShape());
    EXPECT_FALSE(weight.isF64);
  }
  EXPECT_EQ((*weights)[0].name, "titans_norm");
  EXPECT_EQ((*weights)[1].getNumElements(), 512 * 4);
}

TEST(ModelWeights, MemoryLevelStateIsF64Weights) {
  auto context = hope::test::makeContext();
  OpBuilder builder(context.get());
  OwningOpRef<ModuleOp> module = ModuleOp::create(builder.getUnknownLoc());
  builder.setInsertionPointToEnd(module->getBody());
  MemoryLevelConfig config;
  config.dtype = MemoryLevelConfig::Dtype::F64;
  config.model = MemoryLevelConfig::Model::MLP;
  buildMemoryLevel(builder, builder.getUnknownLoc(), config);
  FailureOr<SmallVector<WeightSpec>> weights = collectWeights(*module);
  ASSERT_TRUE(succeeded(weights));
  ASSERT_EQ(weights->size(), 2u);
  EXPECT_EQ((*weights)[0].name, "M.W_1");
  EXPECT_EQ((*weights)[0].shape, (SmallVector<int64_t>{2, 16, 8}));
  EXPECT_TRUE((*weights)[0].isF64);
  EXPECT_EQ((*weights)[1].name, "M.W_2");
}

TEST(ModelWeights, RejectsDynamicWeights) {
  auto context = hope::test::makeContext();
  OwningOpRef<ModuleOp> module = hope::test::parse(*context, R"mlir(
    func.func @f(%w: tensor<?x4xf32> {nl.weight = "w"}) { return }
  )mlir");
  ASSERT_TRUE(module);
  std::string diagnostics;
  ScopedDiagnosticHandler handler(context.get(), [&](Diagnostic &d) {
    diagnostics += d.str();
    return success();
  });
  EXPECT_TRUE(failed(collectWeights(*module)));
  EXPECT_NE(diagnostics.find("weight 'w' of @f must be a static f32 or f64 "
                             "tensor"),
            std::string::npos)
      << diagnostics;
}

// A weight shared by two functions is one tensor; a clash is an error.
TEST(ModelWeights, SharedNamesMustAgree) {
  auto context = hope::test::makeContext();
  OwningOpRef<ModuleOp> shared = hope::test::parse(*context, R"mlir(
    func.func @f(%w: tensor<4xf32> {nl.weight = "w"}) { return }
    func.func @g(%w: tensor<4xf32> {nl.weight = "w"}, %v: tensor<2xf64> {nl.weight = "v"}) { return }
  )mlir");
  ASSERT_TRUE(shared);
  FailureOr<SmallVector<WeightSpec>> weights = collectWeights(*shared);
  ASSERT_TRUE(succeeded(weights));
  ASSERT_EQ(weights->size(), 2u);
  EXPECT_EQ((*weights)[1].name, "v");

  OwningOpRef<ModuleOp> clash = hope::test::parse(*context, R"mlir(
    func.func @f(%w: tensor<4xf32> {nl.weight = "w"}) { return }
    func.func @g(%w: tensor<5xf32> {nl.weight = "w"}) { return }
  )mlir");
  ASSERT_TRUE(clash);
  ScopedDiagnosticHandler handler(context.get(),
                                  [](Diagnostic &) { return success(); });
  EXPECT_TRUE(failed(collectWeights(*clash)));
}

// Each named HOPE language model has the size it is documented to have
// (docs/models.md), within 2%.
TEST(ModelWeights, HopeLMSizesMatchTheirTargets) {
  auto context = hope::test::makeContext();
  int checked = 0;
  for (const NamedHopeLMConfig &named : getHopeLMConfigs()) {
    OpBuilder builder(context.get());
    OwningOpRef<ModuleOp> module = ModuleOp::create(builder.getUnknownLoc());
    builder.setInsertionPointToEnd(module->getBody());
    buildHopeLM(builder, builder.getUnknownLoc(), named.config);
    ASSERT_TRUE(succeeded(mlir::verify(*module))) << named.name;
    FailureOr<SmallVector<WeightSpec>> weights = collectWeights(*module);
    ASSERT_TRUE(succeeded(weights)) << named.name;
    int64_t parameters = 0;
    for (const WeightSpec &weight : *weights)
      parameters += weight.getNumElements();
    if (named.targetParameters == 0)
      continue; // tiny, small: no target
    double ratio = static_cast<double>(parameters) / named.targetParameters;
    EXPECT_NEAR(ratio, 1.0, 0.02)
        << named.name << ": " << parameters << " parameters";
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

// --conv-init=token-shift and --kv-branch-scale record themselves on the
// weights they start (nl.init, nl.init_scale), which the dialect accepts and
// collectWeights reads back; every other weight keeps the default.
TEST(ModelWeights, InitialisationsAreRecordedOnTheirWeights) {
  auto context = hope::test::makeContext();
  OpBuilder builder(context.get());
  OwningOpRef<ModuleOp> module = ModuleOp::create(builder.getUnknownLoc());
  builder.setInsertionPointToEnd(module->getBody());
  HopeLMConfig lm = getHopeLMConfigs().front().config; // tiny
  ASSERT_EQ(lm.layers, 2);
  lm.block.titans.tokenShiftConv = true;
  lm.block.titans.keyValueBranchScale = 4;
  buildHopeLM(builder, builder.getUnknownLoc(), lm);
  ASSERT_TRUE(succeeded(mlir::verify(*module)));
  FailureOr<SmallVector<WeightSpec>> weights = collectWeights(*module);
  ASSERT_TRUE(succeeded(weights));
  int shifted = 0, scaled = 0;
  for (const WeightSpec &weight : *weights) {
    StringRef name = weight.name;
    bool isConv = name.ends_with(".conv");
    bool isBranch = name.ends_with(".mk_w2") || name.ends_with(".mv_w2");
    EXPECT_EQ(weight.init.rule,
              isConv ? InitRule::TokenShift : InitRule::Seeded)
        << name.str();
    EXPECT_EQ(weight.init.scale, isBranch ? 4.0 : 1.0) << name.str();
    shifted += isConv;
    scaled += isBranch;
  }
  EXPECT_EQ(shifted, 2);
  EXPECT_EQ(scaled, 4);
}

} // namespace
