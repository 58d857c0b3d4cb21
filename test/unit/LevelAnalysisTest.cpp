//===- LevelAnalysisTest.cpp - the level structure of nested learning -----===//

#include "TestContext.h"
#include "nl/Analysis/LevelAnalysis.h"
#include "nl/Models/Models.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/STLExtras.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

using namespace mlir;
using namespace mlir::nl;

namespace {

using LevelMap = std::map<std::string, unsigned>;

/// Runs the analysis on `function`; on success returns component -> level.
/// Diagnostics are collected into `diagnostics`.
std::optional<LevelMap> analyze(Operation *function,
                                std::string *diagnostics = nullptr) {
  std::string sink;
  ScopedDiagnosticHandler handler(
      function->getContext(), [&](Diagnostic &diag) {
        (diagnostics ? *diagnostics : sink) += diag.str() + "\n";
        return success();
      });
  LevelAnalysis analysis(function);
  if (failed(analysis.verify()))
    return std::nullopt;
  LevelMap levels;
  for (auto [component, level] :
       llvm::zip(analysis.getComponents(), analysis.getLevels()))
    levels[component.name] = level;
  return levels;
}

func::FuncOp onlyFunction(ModuleOp module) {
  return *module.getOps<func::FuncOp>().begin();
}

// Two linear memories A and B of one chunk size; B's keys are A's reads at
// `point`, A's keys are B's reads at `backPoint` (or the input if empty).
std::string twoMemories(StringRef chunkA, StringRef chunkB, StringRef point,
                        StringRef backPoint, bool declareBFirst) {
  std::string memA = "  %a = nl.memory \"A\" init(%w : tensor<2x4x4xf32>) "
                     "{every = #nl.every<" +
                     chunkA.str() +
                     " tokens>, model = #nl.linear, objective = #nl.l2<>, "
                     "rule = #nl.momentum_gd<order = 0>} : !m\n";
  std::string memB = "  %b = nl.memory \"B\" init(%w : tensor<2x4x4xf32>) "
                     "{every = #nl.every<" +
                     chunkB.str() +
                     " tokens>, model = #nl.linear, objective = #nl.l2<>, "
                     "rule = #nl.momentum_gd<order = 0>} : !m\n";
  std::string text = "!m = !nl.memory<2 heads, 4 -> 4, f32>\n"
                     "func.func @f(%x: tensor<1x2x8x4xf32>, %w: "
                     "tensor<2x4x4xf32>, %eta: tensor<1x2x8xf32>) {\n";
  text += declareBFirst ? memB + memA : memA + memB;
  text += "  %ra = nl.read %a(%x) at " + point.str() +
          " : !m, tensor<1x2x8x4xf32>\n";
  text += "  nl.update %b keys(%ra) values(%x) lr(%eta) : !m, "
          "tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>\n";
  if (backPoint.empty()) {
    text += "  nl.update %a keys(%x) values(%x) lr(%eta) : !m, "
            "tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>\n";
  } else {
    text += "  %rb = nl.read %b(%x) at " + backPoint.str() +
            " : !m, tensor<1x2x8x4xf32>\n";
    text += "  nl.update %a keys(%rb) values(%x) lr(%eta) : !m, "
            "tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>\n";
  }
  text += "  return\n}\n";
  return text;
}

TEST(LevelAnalysis, HopeBlockLevelsFastestFirst) {
  auto context = hope::test::makeContext();
  OpBuilder builder(context.get());
  OwningOpRef<ModuleOp> module = ModuleOp::create(builder.getUnknownLoc());
  builder.setInsertionPointToEnd(module->getBody());
  func::FuncOp function = models::buildHopeBlock(
      builder, builder.getUnknownLoc(), models::HopeBlockConfig());
  std::optional<LevelMap> levels = analyze(function);
  ASSERT_TRUE(levels);
  LevelMap expected = {{"cms[0]", 1}, {"M_k", 2},    {"M_v", 2},
                       {"M_eta", 2},  {"M_alpha", 2}, {"cms[1]", 3},
                       {"M_mem", 4},  {"cms[2]", 5}};
  EXPECT_EQ(*levels, expected);
}

TEST(LevelAnalysis, TieBreakByDependenceNotChunkSize) {
  auto context = hope::test::makeContext();
  // Same chunk size; B reads A after A's update of the same token, so A is
  // faster, even though B is declared first.
  auto module = hope::test::parse(
      *context, twoMemories("16", "16", "after", "", /*declareBFirst=*/true));
  ASSERT_TRUE(module);
  std::optional<LevelMap> levels = analyze(onlyFunction(*module));
  ASSERT_TRUE(levels);
  EXPECT_EQ((*levels)["A"], 1u);
  EXPECT_EQ((*levels)["B"], 2u);
}

TEST(LevelAnalysis, ChunkStartReadIsNotASameTokenDependence) {
  auto context = hope::test::makeContext();
  auto module = hope::test::parse(
      *context, twoMemories("16", "16", "chunk_start", "", false));
  ASSERT_TRUE(module);
  std::optional<LevelMap> levels = analyze(onlyFunction(*module));
  ASSERT_TRUE(levels);
  EXPECT_EQ((*levels)["A"], 1u);
  EXPECT_EQ((*levels)["B"], 1u) << "no same-token dependence: one level";
}

TEST(LevelAnalysis, SameFrequencyTwoWayDependenceIsAnError) {
  auto context = hope::test::makeContext();
  auto module =
      hope::test::parse(*context, twoMemories("8", "8", "after", "after", false));
  ASSERT_TRUE(module);
  std::string diagnostics;
  EXPECT_FALSE(analyze(onlyFunction(*module), &diagnostics));
  EXPECT_NE(diagnostics.find("components 'A' and 'B' both update every 8 "
                             "tokens and each needs the other's state"),
            std::string::npos)
      << diagnostics;
}

TEST(LevelAnalysis, MutualChunkStartReadsAreLegal) {
  auto context = hope::test::makeContext();
  auto module = hope::test::parse(
      *context, twoMemories("8", "8", "chunk_start", "chunk_start", false));
  ASSERT_TRUE(module);
  std::optional<LevelMap> levels = analyze(onlyFunction(*module));
  ASSERT_TRUE(levels);
  EXPECT_EQ((*levels)["A"], (*levels)["B"]);
}

TEST(LevelAnalysis, ChunkSizesThatDoNotDivideAreAnError) {
  auto context = hope::test::makeContext();
  auto module = hope::test::parse(
      *context, twoMemories("8", "12", "chunk_start", "", false));
  ASSERT_TRUE(module);
  std::string diagnostics;
  EXPECT_FALSE(analyze(onlyFunction(*module), &diagnostics));
  EXPECT_NE(diagnostics.find("component 'B' (every 12 tokens) reads 'A' "
                             "(every 8 tokens)"),
            std::string::npos)
      << diagnostics;
}

/// Reorders the ops of `block` (but its terminator) into another order that
/// respects SSA dominance: a seeded random topological order.
void shuffleOps(Block &block, uint32_t seed) {
  SmallVector<Operation *> pending;
  for (Operation &op : block.without_terminator())
    pending.push_back(&op);
  llvm::DenseSet<Operation *> placed;
  std::mt19937 random(seed);
  Operation *terminator = block.getTerminator();
  while (!pending.empty()) {
    SmallVector<size_t> ready;
    for (auto [index, op] : llvm::enumerate(pending))
      if (llvm::all_of(op->getOperands(), [&](Value operand) {
            Operation *def = operand.getDefiningOp();
            return !def || def->getBlock() != &block || placed.contains(def);
          }))
        ready.push_back(index);
    size_t pick = ready[random() % ready.size()];
    Operation *op = pending[pick];
    op->moveBefore(terminator);
    placed.insert(op);
    pending.erase(pending.begin() + pick);
  }
}

TEST(LevelAnalysis, ShuffledOpsGiveTheSameLevels) {
  auto context = hope::test::makeContext();
  OpBuilder builder(context.get());
  OwningOpRef<ModuleOp> module = ModuleOp::create(builder.getUnknownLoc());
  builder.setInsertionPointToEnd(module->getBody());
  func::FuncOp function = models::buildHopeBlock(
      builder, builder.getUnknownLoc(), models::HopeBlockConfig());
  std::optional<LevelMap> original = analyze(function);
  ASSERT_TRUE(original);

  auto orderOf = [&]() {
    std::vector<Operation *> order;
    for (Operation &op : function.getBody().front())
      order.push_back(&op);
    return order;
  };
  std::vector<Operation *> before = orderOf();
  for (uint32_t seed : {1u, 2u, 3u}) {
    shuffleOps(function.getBody().front(), seed);
    ASSERT_TRUE(succeeded(mlir::verify(*module)));
    EXPECT_NE(orderOf(), before) << "the shuffle must change the order";
    std::optional<LevelMap> shuffled = analyze(function);
    ASSERT_TRUE(shuffled);
    EXPECT_EQ(*shuffled, *original) << "seed " << seed;
  }
}

constexpr const char *kOptimizerLevels = R"mlir(
func.func @train_step(%w: tensor<4x4xf32>, %u: tensor<4x4xf32>,
                      %g: tensor<4x4xf32>, %gu: tensor<4x4xf32>,
                      %m: tensor<4x4xf32>, %am: tensor<4x4xf32>,
                      %av: tensor<4x4xf32>, %t: tensor<i64>)
    -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  %m1 = nl.moment "W.momentum" %m, %g {every = #nl.every<1 steps>,
      decay = 0.9 : f64, scale = -0.01 : f64} : tensor<4x4xf32>
  %w1 = nl.param_update "W" %w with(%m1 : tensor<4x4xf32>) {
      every = #nl.every<1 steps>, rule = #nl.sgd_momentum} : tensor<4x4xf32>
  %am1 = nl.moment "U.m" %am, %gu {every = #nl.every<1 steps>,
      decay = 0.9 : f64, scale = 0.1 : f64} : tensor<4x4xf32>
  %av1 = nl.moment "U.v" %av, %gu {every = #nl.every<1 steps>,
      decay = 0.999 : f64, scale = 0.001 : f64, power = 2 : i64} : tensor<4x4xf32>
  %u1 = nl.param_update "U" %u with(%am1, %av1 : tensor<4x4xf32>, tensor<4x4xf32>)
      step(%t : tensor<i64>) {every = #nl.every<1 steps>,
      rule = #nl.adamw<lr = 1.0e-3, beta1 = 0.9, beta2 = 0.999, eps = 1.0e-8,
                       weight_decay = 0.01>} : tensor<4x4xf32>
  return %w1, %u1 : tensor<4x4xf32>, tensor<4x4xf32>
}
)mlir";

TEST(LevelAnalysis, OptimizersAreLevelsBelowTheirWeights) {
  auto context = hope::test::makeContext();
  std::string text = kOptimizerLevels;
  auto module = hope::test::parse(*context, text);
  ASSERT_TRUE(module);
  std::optional<LevelMap> levels = analyze(onlyFunction(*module));
  ASSERT_TRUE(levels);
  // Momentum is one level faster than W; Adam's two moments share a level
  // (same frequency, no dependence) below U.
  EXPECT_EQ((*levels)["W.momentum"], 1u);
  EXPECT_EQ((*levels)["U.m"], 1u);
  EXPECT_EQ((*levels)["U.v"], 1u);
  EXPECT_EQ((*levels)["W"], 2u);
  EXPECT_EQ((*levels)["U"], 2u);
}

TEST(LevelAnalysis, TokenLevelsAreFasterThanStepLevels) {
  auto context = hope::test::makeContext();
  auto module = hope::test::parse(*context, R"mlir(
!m = !nl.memory<1 heads, 2 -> 2, f32>
func.func @f(%x: tensor<1x1x4x2xf32>, %w: tensor<1x2x2xf32>,
             %eta: tensor<1x1x4xf32>, %p: tensor<2x2xf32>, %g: tensor<2x2xf32>,
             %s: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %s1 = nl.moment "P.m" %s, %g {every = #nl.every<1 steps>, decay = 0.9 : f64,
      scale = -0.1 : f64} : tensor<2x2xf32>
  %p1 = nl.param_update "P" %p with(%s1 : tensor<2x2xf32>) {
      every = #nl.every<1 steps>, rule = #nl.sgd_momentum} : tensor<2x2xf32>
  %a = nl.memory "A" init(%w : tensor<1x2x2xf32>) {every = #nl.every<4096 tokens>,
      model = #nl.linear, objective = #nl.dot, rule = #nl.dgd<>} : !m
  nl.update %a keys(%x) values(%x) lr(%eta)
      : !m, tensor<1x1x4x2xf32>, tensor<1x1x4x2xf32>, tensor<1x1x4xf32>
  return %p1 : tensor<2x2xf32>
}
)mlir");
  ASSERT_TRUE(module);
  std::optional<LevelMap> levels = analyze(onlyFunction(*module));
  ASSERT_TRUE(levels);
  EXPECT_EQ((*levels)["A"], 1u);
  EXPECT_EQ((*levels)["P.m"], 2u);
  EXPECT_EQ((*levels)["P"], 3u);
}

} // namespace
