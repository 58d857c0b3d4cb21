//===- SeededWeights.h - portable seeded initial weights --------*- C++ -*-===//
//
// Reproducible weights for the models (semantics doc, section 8): the seed
// drives a generator implemented here, never std::normal_distribution (whose
// output differs between standard libraries), so one seed gives the same bits
// on every platform and with every compiler.
//
// The generator
// -------------
// - Bits: Philox4x32-10 (Salmon, Moraes, Dror, Shaw: "Parallel random
//   numbers: as easy as 1, 2, 3", SC'11), a counter-based generator: block j
//   of a stream is philox(counter, key), a pure function.
// - Stream of a tensor: key = (low, high 32 bits of the seed); counter =
//   (low, high 32 bits of j, low, high 32 bits of FNV-1a-64(name)). A tensor's
//   values therefore depend on the seed and its own name only: not on which
//   other tensors exist or in which order they are generated.
// - Uniforms of block j = (x0, x1, x2, x3): w0 = x0 | x1 << 32,
//   w1 = x2 | x3 << 32, u1 = ((w0 >> 11) + 1) 2^-53 in (0, 1],
//   u2 = (w1 >> 11) 2^-53 in [0, 1).
// - Normals, Box-Muller: z_{2j} = r cos(2 pi u2), z_{2j+1} = r sin(2 pi u2),
//   r = sqrt(-2 ln u1). ln, sin and cos are computed here (PortableMath.h)
//   from +, -, *, / in IEEE binary64 without contraction into FMAs; the only
//   library calls, sqrt, frexp and floor, are exact or correctly rounded by
//   IEEE 754, so no libm approximation is involved.
// - Element i of a tensor (row-major) is std * z_i in binary64; an f32
//   tensor holds the same values rounded to the nearest float.
//
// Initial values by kind (classifyWeight, from the name and shape)
// -----------------------------------------------------------------
// - norm scale (name ends in "norm" or "norm_scale": RMSNorm and LayerNorm
//   scales, e.g. "titans_norm", "cms0_norm", "mem_norm", "M.norm_scale"):
//   exactly 1;
// - conv (name ends in "conv", a depthwise kernel [D, W]): N(0, 1/W^2), i.e.
//   std 1/W, so that a window of W taps starts small;
// - matrix (rank >= 2, e.g. a projection [out, in] or a per-head memory
//   state [H, out, in]): N(0, 1/fan_in), fan_in = the last dimension (the
//   input width of W x);
// - vector (any other tensor of rank <= 1, e.g. a bias, and a norm's gamma,
//   the scale minus 1, of any rank: a name ending in "gamma"): N(0, 0.01).
//
// A weight's own initialisation (WeightInit: the argument attributes
// `nl.init` and `nl.init_scale` of the model IR, the manifest's `init` and
// `init_scale`) replaces or scales its kind's values:
// - rule "token_shift" (a depthwise causal convolution [D, W], W >= 2): the
//   convolution starts as a token shift: even channels take the previous
//   token (tap W-2 is 1), odd channels the current one (tap W-1 is 1), every
//   other tap 0; no random values;
// - scale s: every value of the rule (std * z_i, or a tap) times s in
//   binary64 (default 1).
//
//===----------------------------------------------------------------------===//

#ifndef NL_MODELS_SEEDEDWEIGHTS_H
#define NL_MODELS_SEEDEDWEIGHTS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::nl::models {

using PhiloxCounter = std::array<uint32_t, 4>;
using PhiloxKey = std::array<uint32_t, 2>;

/// One block of Philox4x32 with 10 rounds.
PhiloxCounter philox4x32_10(PhiloxCounter counter, PhiloxKey key);

/// FNV-1a, 64 bits, of the name's bytes.
uint64_t hashTensorName(llvm::StringRef name);

/// The standard normals of one tensor: a pure function of (seed, name,
/// index).
class NormalStream {
public:
  NormalStream(uint64_t seed, llvm::StringRef name);
  /// The index-th standard normal of the stream.
  double operator[](uint64_t index) const;
  /// Normals first, first + 1, ... into `out`.
  void fill(llvm::MutableArrayRef<double> out, uint64_t first = 0) const;

private:
  /// Both normals of block `block`.
  std::array<double, 2> pair(uint64_t block) const;

  PhiloxKey key;
  uint64_t nameHash;
};

/// How a weight is initialised (see the file comment).
enum class WeightKind { NormScale, Conv, Matrix, Vector };

WeightKind classifyWeight(llvm::StringRef name, llvm::ArrayRef<int64_t> shape);
/// "norm scale", "conv", "matrix", "vector".
llvm::StringRef getWeightKindName(WeightKind kind);
/// The standard deviation of a weight of this kind and shape (0 for a norm
/// scale, which is constant).
double getWeightStd(WeightKind kind, llvm::ArrayRef<int64_t> shape);
/// "ones", "N(0, 1/64)", ...: the rule, for listings.
std::string describeWeightInit(WeightKind kind, llvm::ArrayRef<int64_t> shape);

/// How a weight starts beside its kind's rule (see the file comment).
enum class InitRule { Seeded, TokenShift };

struct WeightInit {
  InitRule rule = InitRule::Seeded;
  double scale = 1.0;

  bool isDefault() const { return rule == InitRule::Seeded && scale == 1.0; }
};

/// The argument attributes of a weight in the model IR that record its
/// initialisation (the nl dialect verifies them): the rule's name, a string,
/// and the scale, a float. The manifest's keys drop the "nl." prefix.
inline constexpr llvm::StringLiteral kInitRuleAttrName = "nl.init";
inline constexpr llvm::StringLiteral kInitScaleAttrName = "nl.init_scale";

/// "seeded", "token_shift".
llvm::StringRef getInitRuleName(InitRule rule);
std::optional<InitRule> parseInitRule(llvm::StringRef name);
/// Why `init` cannot initialise a tensor of `shape` (a token shift needs
/// [D, W] with W >= 2; a scale must be finite), or nullopt when it can.
std::optional<std::string> checkWeightInit(const WeightInit &init,
                                           llvm::ArrayRef<int64_t> shape);
/// describeWeightInit with the weight's own initialisation: "token shift",
/// "N(0, 1/16) x 4", ...
std::string describeWeightInit(WeightKind kind, llvm::ArrayRef<int64_t> shape,
                               const WeightInit &init);

/// The initial weights of one seed.
class SeededWeights {
public:
  explicit SeededWeights(uint64_t seed) : seed(seed) {}
  uint64_t getSeed() const { return seed; }

  /// The tensor `name` of `shape`, row-major, initialised by its kind and
  /// `init` (which checkWeightInit must accept).
  std::vector<double> generateF64(llvm::StringRef name,
                                  llvm::ArrayRef<int64_t> shape,
                                  const WeightInit &init = {}) const;
  /// The same values rounded to float.
  std::vector<float> generateF32(llvm::StringRef name,
                                 llvm::ArrayRef<int64_t> shape,
                                 const WeightInit &init = {}) const;

private:
  uint64_t seed;
};

} // namespace mlir::nl::models

#endif // NL_MODELS_SEEDEDWEIGHTS_H
