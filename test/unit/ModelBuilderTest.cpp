//===- ModelBuilderTest.cpp - the model builders --------------------------===//
//
// The builders' IR verifies. (That the default configs are models/*.mlir,
// themselves builder output, is test/Models/hope-models-defaults.mlir: it
// detects change only.)
//
//===----------------------------------------------------------------------===//

#include "TestContext.h"
#include "nl/IR/NLOps.h"
#include "nl/Models/Models.h"

#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::nl;

namespace {

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
