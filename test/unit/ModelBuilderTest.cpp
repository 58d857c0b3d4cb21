//===- ModelBuilderTest.cpp - builders vs. the shipped .mlir files --------===//
//
// The C++ model builders and models/*.mlir describe the same IR: each
// builder's output for its default configuration must be equivalent, op for
// op, to the parsed file.
//
//===----------------------------------------------------------------------===//

#include "TestContext.h"
#include "nl/IR/NLOps.h"
#include "nl/Models/Models.h"

#include "mlir/IR/OperationSupport.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::nl;

namespace {

std::string printed(Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  op->print(os, OpPrintingFlags().printGenericOpForm());
  return text;
}

/// Parses models/<file> and returns its only function.
func::FuncOp parseModel(MLIRContext &context, StringRef file,
                        OwningOpRef<ModuleOp> &holder) {
  std::string path = std::string(HOPE_MODELS_DIR) + "/" + file.str();
  holder = parseSourceFile<ModuleOp>(path, &context);
  if (!holder)
    return {};
  auto functions = holder->getOps<func::FuncOp>();
  if (std::distance(functions.begin(), functions.end()) != 1)
    return {};
  return *functions.begin();
}

void expectEquivalent(func::FuncOp built, func::FuncOp parsed) {
  ASSERT_TRUE(succeeded(mlir::verify(built)));
  EXPECT_TRUE(OperationEquivalence::isEquivalentTo(
      built, parsed, OperationEquivalence::IgnoreLocations))
      << "built:\n"
      << printed(built) << "\nparsed:\n"
      << printed(parsed);
}

TEST(ModelBuilder, HopeBlockMatchesModelsFile) {
  auto context = hope::test::makeContext();
  OwningOpRef<ModuleOp> file;
  func::FuncOp parsed = parseModel(*context, "hope_block.mlir", file);
  ASSERT_TRUE(parsed) << "models/hope_block.mlir must hold one function";

  OpBuilder builder(context.get());
  OwningOpRef<ModuleOp> module = ModuleOp::create(builder.getUnknownLoc());
  builder.setInsertionPointToEnd(module->getBody());
  func::FuncOp built = models::buildHopeBlock(
      builder, builder.getUnknownLoc(), models::HopeBlockConfig());
  expectEquivalent(built, parsed);
}

TEST(ModelBuilder, TitansMemoryMatchesModelsFile) {
  auto context = hope::test::makeContext();
  OwningOpRef<ModuleOp> file;
  func::FuncOp parsed = parseModel(*context, "titans_memory.mlir", file);
  ASSERT_TRUE(parsed) << "models/titans_memory.mlir must hold one function";

  OpBuilder builder(context.get());
  OwningOpRef<ModuleOp> module = ModuleOp::create(builder.getUnknownLoc());
  builder.setInsertionPointToEnd(module->getBody());
  func::FuncOp built = models::buildTitansMemory(
      builder, builder.getUnknownLoc(), models::TitansMemoryConfig());
  expectEquivalent(built, parsed);
}

// The comparison itself must be able to fail: a different configuration
// is a different model.
TEST(ModelBuilder, DifferentConfigIsNotEquivalent) {
  auto context = hope::test::makeContext();
  OwningOpRef<ModuleOp> file;
  func::FuncOp parsed = parseModel(*context, "hope_block.mlir", file);
  ASSERT_TRUE(parsed);

  OpBuilder builder(context.get());
  OwningOpRef<ModuleOp> module = ModuleOp::create(builder.getUnknownLoc());
  builder.setInsertionPointToEnd(module->getBody());
  models::HopeBlockConfig config;
  config.titans.chunkMemory = 32;
  func::FuncOp built =
      models::buildHopeBlock(builder, builder.getUnknownLoc(), config);
  ASSERT_TRUE(succeeded(mlir::verify(built)));
  EXPECT_FALSE(OperationEquivalence::isEquivalentTo(
      built, parsed, OperationEquivalence::IgnoreLocations));
}

// Builders scale: a small HOPE block (the configuration tests use) verifies.
TEST(ModelBuilder, SmallHopeBlockVerifies) {
  auto context = hope::test::makeContext();
  OpBuilder builder(context.get());
  OwningOpRef<ModuleOp> module = ModuleOp::create(builder.getUnknownLoc());
  builder.setInsertionPointToEnd(module->getBody());
  models::HopeBlockConfig config;
  config.titans.width = 32;
  config.titans.heads = 2;
  config.titans.memoryHidden = 8;
  config.titans.chunkOther = 2;
  config.titans.chunkMemory = 4;
  config.cmsChunks = {1, 4};
  config.cmsHidden = 64;
  models::buildHopeBlock(builder, builder.getUnknownLoc(), config);
  EXPECT_TRUE(succeeded(mlir::verify(*module)));
}

} // namespace
