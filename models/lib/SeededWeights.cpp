//===- SeededWeights.cpp - portable seeded initial weights ----------------===//
//
// Philox4x32-10, the Box-Muller transform and the initialisation rules; the
// file comment of nl/Models/SeededWeights.h is the specification.
//
//===----------------------------------------------------------------------===//

#include "nl/Models/SeededWeights.h"
#include "PortableMath.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

#pragma STDC FP_CONTRACT OFF

using namespace mlir::nl::models;

//===----------------------------------------------------------------------===//
// Philox4x32-10
//===----------------------------------------------------------------------===//

namespace {
constexpr uint32_t kPhiloxM0 = 0xD2511F53, kPhiloxM1 = 0xCD9E8D57;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9, kPhiloxW1 = 0xBB67AE85;

PhiloxCounter philoxRound(const PhiloxCounter &x, const PhiloxKey &key) {
  uint64_t product0 = uint64_t(kPhiloxM0) * x[0];
  uint64_t product1 = uint64_t(kPhiloxM1) * x[2];
  auto hi = [](uint64_t p) { return static_cast<uint32_t>(p >> 32); };
  auto lo = [](uint64_t p) { return static_cast<uint32_t>(p); };
  return {hi(product1) ^ x[1] ^ key[0], lo(product1),
          hi(product0) ^ x[3] ^ key[1], lo(product0)};
}
} // namespace

PhiloxCounter mlir::nl::models::philox4x32_10(PhiloxCounter counter,
                                              PhiloxKey key) {
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key[0] += kPhiloxW0;
      key[1] += kPhiloxW1;
    }
    counter = philoxRound(counter, key);
  }
  return counter;
}

uint64_t mlir::nl::models::hashTensorName(llvm::StringRef name) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char byte : name) {
    hash ^= byte;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

//===----------------------------------------------------------------------===//
// Normals
//===----------------------------------------------------------------------===//

NormalStream::NormalStream(uint64_t seed, llvm::StringRef name)
    : key{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)},
      nameHash(hashTensorName(name)) {}

std::array<double, 2> NormalStream::pair(uint64_t block) const {
  PhiloxCounter bits = philox4x32_10(
      {static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32),
       static_cast<uint32_t>(nameHash), static_cast<uint32_t>(nameHash >> 32)},
      key);
  uint64_t w0 = bits[0] | uint64_t(bits[1]) << 32;
  uint64_t w1 = bits[2] | uint64_t(bits[3]) << 32;
  constexpr double kUlp = 0x1p-53;
  double u1 = static_cast<double>((w0 >> 11) + 1) * kUlp; // (0, 1]
  double u2 = static_cast<double>(w1 >> 11) * kUlp;       // [0, 1)
  double radius = std::sqrt(-2.0 * portable::log(u1));
  double sine, cosine;
  portable::sinCosTurns(u2, sine, cosine);
  return {radius * cosine, radius * sine};
}

double NormalStream::operator[](uint64_t index) const {
  return pair(index / 2)[index % 2];
}

void NormalStream::fill(llvm::MutableArrayRef<double> out,
                        uint64_t first) const {
  size_t i = 0;
  if (first % 2 && !out.empty())
    out[i++] = (*this)[first];
  for (; i + 1 < out.size(); i += 2) {
    std::array<double, 2> normals = pair((first + i) / 2);
    out[i] = normals[0];
    out[i + 1] = normals[1];
  }
  if (i < out.size())
    out[i] = (*this)[first + i];
}

//===----------------------------------------------------------------------===//
// Initialisation rules
//===----------------------------------------------------------------------===//

WeightKind mlir::nl::models::classifyWeight(llvm::StringRef name,
                                            llvm::ArrayRef<int64_t> shape) {
  if (name.ends_with("norm") || name.ends_with("norm_scale"))
    return WeightKind::NormScale;
  if (name.ends_with("conv"))
    return WeightKind::Conv;
  // A norm's gamma (its scale minus 1) is small whatever its shape.
  if (name.ends_with("gamma"))
    return WeightKind::Vector;
  return shape.size() >= 2 ? WeightKind::Matrix : WeightKind::Vector;
}

llvm::StringRef mlir::nl::models::getWeightKindName(WeightKind kind) {
  switch (kind) {
  case WeightKind::NormScale:
    return "norm scale";
  case WeightKind::Conv:
    return "conv";
  case WeightKind::Matrix:
    return "matrix";
  case WeightKind::Vector:
    return "vector";
  }
  llvm_unreachable("unknown weight kind");
}

/// The last dimension: a matrix's fan-in, a convolution's window.
static int64_t lastDim(llvm::ArrayRef<int64_t> shape) {
  return shape.empty() || shape.back() <= 0 ? 1 : shape.back();
}

double mlir::nl::models::getWeightStd(WeightKind kind,
                                      llvm::ArrayRef<int64_t> shape) {
  switch (kind) {
  case WeightKind::NormScale:
    return 0.0;
  case WeightKind::Conv:
    return 1.0 / static_cast<double>(lastDim(shape));
  case WeightKind::Matrix:
    return 1.0 / std::sqrt(static_cast<double>(lastDim(shape)));
  case WeightKind::Vector:
    return 0.1;
  }
  llvm_unreachable("unknown weight kind");
}

std::string
mlir::nl::models::describeWeightInit(WeightKind kind,
                                     llvm::ArrayRef<int64_t> shape) {
  switch (kind) {
  case WeightKind::NormScale:
    return "ones";
  case WeightKind::Conv:
    return llvm::formatv("N(0, 1/{0})", lastDim(shape) * lastDim(shape));
  case WeightKind::Matrix:
    return llvm::formatv("N(0, 1/{0})", lastDim(shape));
  case WeightKind::Vector:
    return "N(0, 0.01)";
  }
  llvm_unreachable("unknown weight kind");
}

//===----------------------------------------------------------------------===//
// A weight's own initialisation
//===----------------------------------------------------------------------===//

llvm::StringRef mlir::nl::models::getInitRuleName(InitRule rule) {
  switch (rule) {
  case InitRule::Seeded:
    return "seeded";
  case InitRule::TokenShift:
    return "token_shift";
  }
  llvm_unreachable("unknown init rule");
}

std::optional<InitRule> mlir::nl::models::parseInitRule(llvm::StringRef name) {
  for (InitRule rule : {InitRule::Seeded, InitRule::TokenShift})
    if (name == getInitRuleName(rule))
      return rule;
  return std::nullopt;
}

std::optional<std::string>
mlir::nl::models::checkWeightInit(const WeightInit &init,
                                  llvm::ArrayRef<int64_t> shape) {
  if (!std::isfinite(init.scale))
    return llvm::formatv("the scale must be finite, got {0}",
                         llvm::format("%g", init.scale))
        .str();
  if (init.rule == InitRule::TokenShift &&
      (shape.size() != 2 || shape[0] < 1 || shape[1] < 2))
    return std::string("token_shift initialises a causal convolution's taps "
                       "[D, W] with W >= 2");
  return std::nullopt;
}

std::string
mlir::nl::models::describeWeightInit(WeightKind kind,
                                     llvm::ArrayRef<int64_t> shape,
                                     const WeightInit &init) {
  std::string text = init.rule == InitRule::TokenShift
                         ? std::string("token shift")
                         : describeWeightInit(kind, shape);
  if (init.scale != 1.0)
    text += llvm::formatv(" x {0}", llvm::format("%g", init.scale)).str();
  return text;
}

/// Taps [D, W] of a token shift: even channels the previous token, odd ones
/// the current token.
static std::vector<double> tokenShift(llvm::ArrayRef<int64_t> shape) {
  const int64_t channels = shape[0], window = shape[1];
  std::vector<double> taps(static_cast<size_t>(channels * window), 0.0);
  for (int64_t channel = 0; channel < channels; ++channel)
    taps[channel * window + window - 2 + channel % 2] = 1.0;
  return taps;
}

//===----------------------------------------------------------------------===//
// SeededWeights
//===----------------------------------------------------------------------===//

std::vector<double>
SeededWeights::generateF64(llvm::StringRef name, llvm::ArrayRef<int64_t> shape,
                           const WeightInit &init) const {
  assert(!checkWeightInit(init, shape) && "invalid weight initialisation");
  size_t count = 1;
  for (int64_t size : shape)
    count *= static_cast<size_t>(size < 0 ? 0 : size);
  WeightKind kind = classifyWeight(name, shape);
  std::vector<double> values;
  if (init.rule == InitRule::TokenShift) {
    values = tokenShift(shape);
  } else if (kind == WeightKind::NormScale) {
    values.assign(count, 1.0);
  } else {
    values.resize(count);
    NormalStream(seed, name).fill(values);
    double deviation = getWeightStd(kind, shape);
    for (double &value : values)
      value *= deviation;
  }
  if (init.scale != 1.0)
    for (double &value : values)
      value *= init.scale;
  return values;
}

std::vector<float>
SeededWeights::generateF32(llvm::StringRef name, llvm::ArrayRef<int64_t> shape,
                           const WeightInit &init) const {
  std::vector<double> values = generateF64(name, shape, init);
  return std::vector<float>(values.begin(), values.end());
}
