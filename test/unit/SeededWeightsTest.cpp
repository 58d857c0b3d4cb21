//===- SeededWeightsTest.cpp - the portable seeded weight generator -------===//
//
// Philox4x32-10 against its published known answers, the normals against a
// libm Box-Muller and against golden values, determinism, order
// independence and the initialisation rules (nl/Models/SeededWeights.h).
//
//===----------------------------------------------------------------------===//

#include "nl/Models/SeededWeights.h"

#include "PortableMath.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

using namespace mlir::nl::models;

namespace {

// Random123's known-answer vectors (its tests/kat_vectors): the generator is
// Philox4x32-10 itself, not a look-alike.
TEST(SeededWeights, PhiloxKnownAnswers) {
  EXPECT_EQ(philox4x32_10({0, 0, 0, 0}, {0, 0}),
            (PhiloxCounter{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(philox4x32_10({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
                          {0xffffffff, 0xffffffff}),
            (PhiloxCounter{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(philox4x32_10({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
                          {0xa4093822, 0x299f31d0}),
            (PhiloxCounter{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

// Golden values. Hard-coding numbers is right here, and only here: the
// generator is a deterministic function whose output must never change (a
// change would silently change every seeded weights file and every result
// computed from one). They were computed once with this implementation and
// cross-checked against an independent Python reimplementation (libm's log,
// cos, sin), which agrees to 4 ulps. If this test fails, the generator
// changed: that is a breaking change, not a test to update.
TEST(SeededWeights, GoldenNormalsOfSeed0NameW) {
  const double golden[8] = {
      -0x1.0fc60c31fcddp+1,  -0x1.53dfa4b96d2b4p+0, 0x1.749e276733c38p+0,
      -0x1.74a160ad2dbb7p-1, 0x1.9464d0d9ba548p+0,  0x1.54641e3d240f5p+0,
      -0x1.b6ba823a50a6cp-1, 0x1.ab8624e511304p-2,
  };
  NormalStream stream(0, "w");
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(stream[i], golden[i]) << "normal " << i;
  // The f32 tensor holds the same numbers rounded (a rank-1 "w" is a vector:
  // std 0.1).
  std::vector<float> f32 = SeededWeights(0).generateF32("w", {8});
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(f32[i], static_cast<float>(golden[i] * 0.1)) << "value " << i;
}

// The transform is Box-Muller: the normals agree with one computed with
// libm from the same uniforms, to rounding.
TEST(SeededWeights, NormalsAreBoxMullerOfPhilox) {
  const uint64_t seed = 0x123456789abcdefULL;
  NormalStream stream(seed, "M.W_1");
  uint64_t hash = hashTensorName("M.W_1");
  for (uint64_t block = 0; block < 5000; ++block) {
    PhiloxCounter bits = philox4x32_10(
        {static_cast<uint32_t>(block), 0, static_cast<uint32_t>(hash),
         static_cast<uint32_t>(hash >> 32)},
        {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)});
    uint64_t w0 = bits[0] | uint64_t(bits[1]) << 32;
    uint64_t w1 = bits[2] | uint64_t(bits[3]) << 32;
    double u1 = static_cast<double>((w0 >> 11) + 1) * 0x1p-53;
    double u2 = static_cast<double>(w1 >> 11) * 0x1p-53;
    double r = std::sqrt(-2.0 * std::log(u1));
    double angle = 2.0 * M_PI * u2;
    EXPECT_NEAR(stream[2 * block], r * std::cos(angle), 1e-14 * (1 + r));
    EXPECT_NEAR(stream[2 * block + 1], r * std::sin(angle), 1e-14 * (1 + r));
  }
}

TEST(SeededWeights, PortableMathIsAccurate) {
  for (int i = 1; i <= 20000; ++i) {
    double x = std::pow(2.0, -53.0 * i / 20000.0) * (1.0 + 0.37 * (i % 7));
    x = std::min(x, 1.0);
    EXPECT_NEAR(portable::log(x), std::log(x),
                4 * std::numeric_limits<double>::epsilon() *
                    std::max(1.0, std::fabs(std::log(x))))
        << x;
    double turns = (i - 1) / 20000.0, sine, cosine;
    portable::sinCosTurns(turns, sine, cosine);
    EXPECT_NEAR(sine, std::sin(2 * M_PI * turns), 1e-15) << turns;
    EXPECT_NEAR(cosine, std::cos(2 * M_PI * turns), 1e-15) << turns;
  }
  EXPECT_EQ(portable::log(1.0), 0.0);
}

TEST(SeededWeights, StandardNormalMoments) {
  NormalStream stream(42, "moments");
  std::vector<double> values(200000);
  stream.fill(values);
  double sum = 0, squares = 0;
  for (double value : values) {
    sum += value;
    squares += value * value;
  }
  double mean = sum / values.size();
  double variance = squares / values.size() - mean * mean;
  EXPECT_LT(std::fabs(mean), 0.01);
  EXPECT_NEAR(variance, 1.0, 0.02);
}

TEST(SeededWeights, FillMatchesIndexingAtAnyOffset) {
  NormalStream stream(5, "x");
  for (uint64_t first : {0, 1, 2, 7}) {
    std::vector<double> values(9);
    stream.fill(values, first);
    for (size_t i = 0; i < values.size(); ++i)
      EXPECT_EQ(values[i], stream[first + i]) << first << " + " << i;
  }
}

// Two generators of one seed give the same bits; another seed or another
// name gives other values.
TEST(SeededWeights, DeterministicAcrossInstances) {
  SeededWeights first(7), second(7), other(8);
  for (const char *name : {"w_q", "M.W_1", "cms0_in", "conv"}) {
    std::vector<double> a = first.generateF64(name, {16, 8});
    EXPECT_EQ(a, second.generateF64(name, {16, 8})) << name;
    EXPECT_EQ(first.generateF32(name, {16, 8}),
              second.generateF32(name, {16, 8}))
        << name;
    EXPECT_NE(a, other.generateF64(name, {16, 8})) << name;
  }
  EXPECT_NE(first.generateF64("w_q", {16, 8}),
            first.generateF64("w_k", {16, 8}));
}

// A tensor depends on the seed and its own name only: generating a set of
// tensors in any order, or a subset, gives the same tensors.
TEST(SeededWeights, IndependentOfGenerationOrder) {
  const std::vector<std::pair<std::string, std::vector<int64_t>>> tensors = {
      {"w_k", {6, 4}}, {"w_v", {6, 4}}, {"M.W_1", {2, 3, 4}}, {"b_lr", {5}}};
  SeededWeights generator(11);
  std::map<std::string, std::vector<double>> forward, backward;
  for (const auto &[name, shape] : tensors)
    forward[name] = generator.generateF64(name, shape);
  SeededWeights fresh(11);
  for (auto it = tensors.rbegin(); it != tensors.rend(); ++it)
    backward[it->first] = fresh.generateF64(it->first, it->second);
  EXPECT_EQ(forward, backward);
  EXPECT_EQ(SeededWeights(11).generateF64("M.W_1", {2, 3, 4}),
            forward["M.W_1"]);
}

TEST(SeededWeights, InitialisationByKind) {
  EXPECT_EQ(classifyWeight("titans_norm", {512}), WeightKind::NormScale);
  EXPECT_EQ(classifyWeight("mem_norm", {4, 96}), WeightKind::NormScale);
  EXPECT_EQ(classifyWeight("M.norm_scale", {2, 8}), WeightKind::NormScale);
  EXPECT_EQ(classifyWeight("conv", {512, 4}), WeightKind::Conv);
  EXPECT_EQ(classifyWeight("w_q", {512, 512}), WeightKind::Matrix);
  EXPECT_EQ(classifyWeight("mk_w1", {8, 64, 64}), WeightKind::Matrix);
  EXPECT_EQ(classifyWeight("b_lr", {4}), WeightKind::Vector);

  SeededWeights generator(3);
  std::vector<double> ones = generator.generateF64("cms0_norm", {32});
  EXPECT_TRUE(llvm::all_of(ones, [](double v) { return v == 1.0; }));

  // Every other kind is std * the name's normals.
  auto expectScaled = [&](const char *name, std::vector<int64_t> shape,
                          double std) {
    std::vector<double> values = generator.generateF64(name, shape);
    NormalStream stream(3, name);
    for (size_t i = 0; i < values.size(); ++i)
      ASSERT_EQ(values[i], stream[i] * std) << name << " " << i;
  };
  expectScaled("conv", {32, 4}, 0.25);
  expectScaled("w_q", {32, 16}, 0.25);
  expectScaled("mk_w1", {2, 16, 64}, 0.125);
  expectScaled("b_lr", {8}, 0.1);
  EXPECT_EQ(describeWeightInit(WeightKind::Matrix, {32, 16}), "N(0, 1/16)");
  EXPECT_EQ(describeWeightInit(WeightKind::Conv, {32, 4}), "N(0, 1/16)");
}

// A token shift: in each channel one tap is 1, the previous token's (W-2)
// for even channels and the current token's (W-1) for odd ones; no seed
// enters.
TEST(SeededWeights, TokenShiftConvolution) {
  WeightInit shift{InitRule::TokenShift};
  std::vector<double> taps = SeededWeights(5).generateF64("conv", {3, 4}, shift);
  EXPECT_EQ(taps, (std::vector<double>{0, 0, 1, 0, //
                                       0, 0, 0, 1, //
                                       0, 0, 1, 0}));
  EXPECT_EQ(SeededWeights(6).generateF64("layer1.conv", {3, 4}, shift), taps);
  std::vector<float> scaled = SeededWeights(0).generateF32(
      "conv", {2, 2}, WeightInit{InitRule::TokenShift, 0.5});
  EXPECT_EQ(scaled, (std::vector<float>{0.5f, 0, 0, 0.5f}));
  EXPECT_EQ(describeWeightInit(WeightKind::Conv, {3, 4}, shift),
            "token shift");
}

// A scale multiplies the kind's values, std * z_i, in binary64; scale 1 is
// the kind's values bit for bit.
TEST(SeededWeights, ScaledSeededValues) {
  SeededWeights generator(9);
  std::vector<double> plain = generator.generateF64("mk_w2", {2, 8, 16});
  std::vector<double> scaled =
      generator.generateF64("mk_w2", {2, 8, 16}, WeightInit{InitRule::Seeded, 3});
  ASSERT_EQ(plain.size(), scaled.size());
  for (size_t i = 0; i < plain.size(); ++i)
    ASSERT_EQ(scaled[i], plain[i] * 3) << i;
  EXPECT_EQ(generator.generateF64("mk_w2", {2, 8, 16}, WeightInit()), plain);
  EXPECT_EQ(generator.generateF32("cms0_norm", {4}, WeightInit{InitRule::Seeded, 2}),
            (std::vector<float>(4, 2.0f)));
  EXPECT_EQ(describeWeightInit(WeightKind::Matrix, {2, 8, 16},
                               WeightInit{InitRule::Seeded, 4}),
            "N(0, 1/16) x 4");
}

TEST(SeededWeights, InitRulesAndTheirShapes) {
  EXPECT_EQ(parseInitRule("token_shift"), InitRule::TokenShift);
  EXPECT_EQ(parseInitRule("seeded"), InitRule::Seeded);
  EXPECT_EQ(parseInitRule("shift"), std::nullopt);
  WeightInit shift{InitRule::TokenShift};
  EXPECT_EQ(checkWeightInit(shift, {32, 4}), std::nullopt);
  EXPECT_NE(checkWeightInit(shift, {32, 1}), std::nullopt);
  EXPECT_NE(checkWeightInit(shift, {2, 32, 4}), std::nullopt);
  EXPECT_NE(checkWeightInit(WeightInit{InitRule::Seeded, INFINITY}, {4}),
            std::nullopt);
  EXPECT_EQ(checkWeightInit(WeightInit{InitRule::Seeded, -2}, {4}),
            std::nullopt);
}

} // namespace
