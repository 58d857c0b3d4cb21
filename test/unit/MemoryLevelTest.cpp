//===- MemoryLevelTest.cpp - the builder of one memory level --------------===//
//
// buildMemoryLevel verifies for every model, objective, rule and variant the
// dialect expresses, forms one level, and names its state through the
// dialect's state layout. That it writes the parity tests' functions
// (test/parity/memory_ir.py) is checked on both sides' output, generated,
// by test/parity/test_memory_builder.py.
//
//===----------------------------------------------------------------------===//

#include "nl/Models/MemoryLevel.h"
#include "TestContext.h"
#include "nl/Analysis/LevelAnalysis.h"
#include "nl/IR/NLOps.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::nl;
using namespace mlir::nl::models;

namespace {

using Config = MemoryLevelConfig;

/// Builds `config` into a fresh module.
struct Built {
  OwningOpRef<ModuleOp> module;
  func::FuncOp function;
};
Built build(MLIRContext &context, const Config &config,
            StringRef name = "memory_level") {
  OpBuilder builder(&context);
  Built built{ModuleOp::create(builder.getUnknownLoc()), {}};
  builder.setInsertionPointToEnd(built.module->getBody());
  built.function =
      buildMemoryLevel(builder, builder.getUnknownLoc(), config, name);
  return built;
}

/// The names of a function's arguments or results for one role attribute.
std::vector<std::string> roleNames(func::FuncOp function, StringRef role,
                                   bool results) {
  std::vector<std::string> names;
  unsigned count =
      results ? function.getNumResults() : function.getNumArguments();
  for (unsigned i = 0; i < count; ++i) {
    auto name = results ? function.getResultAttrOfType<StringAttr>(i, role)
                        : function.getArgAttrOfType<StringAttr>(i, role);
    if (name)
      names.push_back(name.str());
  }
  return names;
}

TEST(MemoryLevel, SignatureNamesStateThroughTheDialectLayout) {
  auto context = hope::test::makeContext();
  Config config;
  config.name = "M_k";
  config.model = Config::Model::MLP;
  config.depth = 3;
  config.inputWidth = 8;
  config.outputWidth = 1;
  config.residual = Residual::Learned;
  config.norm = MemoryNorm::Post;
  config.rule = Config::Rule::DGD;
  config.dgdMomentum = true;
  Built built = build(*context, config);
  ASSERT_TRUE(succeeded(verify(*built.module)));

  std::vector<std::string> state;
  for (const MemoryStateParam &param :
       getMemoryStateLayout(getMemoryModelAttr(context.get(), config), 8, 1))
    state.push_back("M_k." + param.name);
  EXPECT_EQ(state, (std::vector<std::string>{"M_k.W_1", "M_k.W_2", "M_k.W_3",
                                             "M_k.W_skip", "M_k.norm_scale"}));
  EXPECT_EQ(roleNames(built.function, "nl.input", false),
            (std::vector<std::string>{"keys", "values", "lr", "retention",
                                      "momentum0", "queries"}));
  EXPECT_EQ(roleNames(built.function, "nl.weight", false), state);
  EXPECT_EQ(roleNames(built.function, "nl.output", true),
            (std::vector<std::string>{"y"}));
  EXPECT_EQ(roleNames(built.function, "nl.state", true), state);
  // Initial state per head, final state per sequence.
  auto init = cast<RankedTensorType>(built.function.getArgumentTypes()[6]);
  EXPECT_EQ(init.getShape(), (ArrayRef<int64_t>{2, 16, 8}));
  auto final = cast<RankedTensorType>(built.function.getResultTypes()[1]);
  EXPECT_EQ(final.getShape(),
            (ArrayRef<int64_t>{ShapedType::kDynamic, 2, 16, 8}));
}

/// A name for a variant, and how it changes the default config.
struct Variant {
  const char *name;
  void (*apply)(Config &);
};

const Variant kModels[] = {
    {"linear", [](Config &) {}},
    {"mlp", [](Config &c) { c.model = Config::Model::MLP; }},
    {"mlp_skip_rate",
     [](Config &c) {
       c.model = Config::Model::MLP;
       c.residual = Residual::Learned;
       c.outputWidth = 1;
     }},
    {"mlp_noskip_gelu",
     [](Config &c) {
       c.model = Config::Model::MLP;
       c.residual = Residual::None;
       c.activation = Activation::GELU;
       c.outputWidth = 5;
     }},
    {"mlp_depth3_pre_norm",
     [](Config &c) {
       c.model = Config::Model::MLP;
       c.depth = 3;
       c.activation = Activation::Sigmoid;
       c.norm = MemoryNorm::Pre;
     }},
    {"mlp_depth1_post_norm",
     [](Config &c) {
       c.model = Config::Model::MLP;
       c.depth = 1;
       c.norm = MemoryNorm::Post;
     }},
};
const Variant kObjectives[] = {
    {"l2", [](Config &) {}},
    {"l2_mean_half",
     [](Config &c) {
       c.reduction = Reduction::Mean;
       c.half = true;
     }},
    {"dot", [](Config &c) { c.objective = Config::Objective::Dot; }},
};
const Variant kRules[] = {
    {"gd", [](Config &c) { c.order = 0; }},
    {"momentum", [](Config &) {}},
    {"momentum2_chunk_rates",
     [](Config &c) {
       c.order = 2;
       c.lrGranularity = RateGranularity::Chunk;
       c.retentionGranularity = RateGranularity::Chunk;
       c.momentumGranularity = RateGranularity::Chunk;
     }},
    {"muon", [](Config &c) { c.newtonSchulz = true; }},
    {"dgd", [](Config &c) { c.rule = Config::Rule::DGD; }},
    {"dgd_momentum_normalized",
     [](Config &c) {
       c.rule = Config::Rule::DGD;
       c.dgdMomentum = true;
       c.stepSize = StepSize::Normalized;
       c.retentionGranularity = RateGranularity::Chunk;
     }},
};
const Variant kForms[] = {
    {"token_c1_after", [](Config &) {}},
    {"token_c4_chunk_start_f64",
     [](Config &c) {
       c.chunk = 4;
       c.readPoint = ReadPoint::ChunkStart;
       c.dtype = Config::Dtype::F64;
     }},
    {"token_no_retention",
     [](Config &c) {
       c.chunk = 2;
       c.retention = false;
     }},
    {"aggregated_period8",
     [](Config &c) {
       c.chunk = 4;
       c.linearizationPeriod = 8;
       c.retentionGranularity = c.momentumGranularity = RateGranularity::Chunk;
     }},
    {"aggregated_sequence_4heads",
     [](Config &c) {
       c.chunk = 2;
       c.heads = 4;
       c.linearizationPeriod = 0;
       c.retentionGranularity = c.momentumGranularity = RateGranularity::Chunk;
     }},
};

// Every combination the dialect accepts verifies and is one level of the
// configured chunk size; DGD with the chunk-aggregated variant is rejected.
TEST(MemoryLevel, EveryVariantVerifiesAndFormsOneLevel) {
  auto context = hope::test::makeContext();
  int built = 0;
  for (const Variant &model : kModels)
    for (const Variant &objective : kObjectives)
      for (const Variant &rule : kRules)
        for (const Variant &form : kForms) {
          Config config;
          for (const Variant *variant : {&model, &objective, &rule, &form})
            variant->apply(config);
          std::string name = std::string(model.name) + "/" + objective.name +
                             "/" + rule.name + "/" + form.name;
          std::string diagnostics;
          ScopedDiagnosticHandler handler(context.get(), [&](Diagnostic &d) {
            diagnostics += d.str() + "\n";
            return success();
          });
          Built level = build(*context, config);
          bool rejected = config.rule == Config::Rule::DGD &&
                          config.linearizationPeriod.has_value();
          if (rejected) {
            EXPECT_TRUE(failed(verify(*level.module))) << name;
            EXPECT_NE(diagnostics.find("DGD is not defined"), std::string::npos)
                << name;
            continue;
          }
          ASSERT_TRUE(succeeded(verify(*level.module)))
              << name << ": " << diagnostics;
          LevelAnalysis analysis(level.function);
          ASSERT_TRUE(succeeded(analysis.verify())) << name;
          ASSERT_EQ(analysis.getComponents().size(), 1u) << name;
          EXPECT_EQ(analysis.getComponents()[0].name, "M") << name;
          EXPECT_EQ(analysis.getComponents()[0].frequency.getPeriod(),
                    config.chunk)
              << name;
          EXPECT_EQ(analysis.getNumLevels(), 1u) << name;
          ++built;
        }
  EXPECT_GT(built, 400);
}

// Inconsistent configurations are the verifier's to report.
TEST(MemoryLevel, IdentityResidualNeedsEqualWidths) {
  auto context = hope::test::makeContext();
  std::string diagnostics;
  ScopedDiagnosticHandler handler(context.get(), [&](Diagnostic &d) {
    diagnostics += d.str();
    return success();
  });
  Config config;
  config.model = Config::Model::MLP;
  config.outputWidth = 4;
  Built level = build(*context, config);
  EXPECT_TRUE(failed(verify(*level.module)));
  EXPECT_NE(diagnostics.find("residual = identity needs equal input and "
                             "output widths"),
            std::string::npos)
      << diagnostics;
}

} // namespace
