//===- HostFeatures.cpp - the host CPU's instruction-set features ---------===//
//
// Artifacts list the CPU features they were compiled for under LLVM's names
// (the names LLVM's host query reports). On x86-64 each name maps to its
// CPUID bit (Intel SDM vol. 2, CPUID; AMD APM vol. 3), and, for the vector
// extensions, to the register state the OS must save (XCR0), as a feature
// the OS does not enable cannot be used. Elsewhere no feature is queried:
// the loader's own checks apply.
//
//===----------------------------------------------------------------------===//

#include "HostTarget.h"

#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

using namespace hope;
using namespace hope::rt;

#if defined(__x86_64__)
namespace {
enum Register { EAX, EBX, ECX, EDX };
/// Register state the OS must enable for a feature to be usable.
enum State { NONE, AVX, AVX512, AMX };

struct FeatureBit {
  const char *name;
  unsigned leaf, subleaf;
  Register reg;
  unsigned bit;
  State state;
};

// clang-format off
const FeatureBit kFeatures[] = {
    {"sse3", 1, 0, ECX, 0, NONE},       {"pclmul", 1, 0, ECX, 1, NONE},
    {"ssse3", 1, 0, ECX, 9, NONE},      {"fma", 1, 0, ECX, 12, AVX},
    {"cx16", 1, 0, ECX, 13, NONE},      {"sse4.1", 1, 0, ECX, 19, NONE},
    {"sse4.2", 1, 0, ECX, 20, NONE},    {"crc32", 1, 0, ECX, 20, NONE},
    {"movbe", 1, 0, ECX, 22, NONE},     {"popcnt", 1, 0, ECX, 23, NONE},
    {"aes", 1, 0, ECX, 25, NONE},       {"xsave", 1, 0, ECX, 26, NONE},
    {"avx", 1, 0, ECX, 28, AVX},        {"f16c", 1, 0, ECX, 29, AVX},
    {"rdrnd", 1, 0, ECX, 30, NONE},
    {"cx8", 1, 0, EDX, 8, NONE},        {"cmov", 1, 0, EDX, 15, NONE},
    {"mmx", 1, 0, EDX, 23, NONE},       {"fxsr", 1, 0, EDX, 24, NONE},
    {"sse", 1, 0, EDX, 25, NONE},       {"sse2", 1, 0, EDX, 26, NONE},
    {"fsgsbase", 7, 0, EBX, 0, NONE},   {"sgx", 7, 0, EBX, 2, NONE},
    {"bmi", 7, 0, EBX, 3, NONE},        {"avx2", 7, 0, EBX, 5, AVX},
    {"bmi2", 7, 0, EBX, 8, NONE},       {"invpcid", 7, 0, EBX, 10, NONE},
    {"rtm", 7, 0, EBX, 11, NONE},       {"avx512f", 7, 0, EBX, 16, AVX512},
    {"avx512dq", 7, 0, EBX, 17, AVX512}, {"rdseed", 7, 0, EBX, 18, NONE},
    {"adx", 7, 0, EBX, 19, NONE},       {"avx512ifma", 7, 0, EBX, 21, AVX512},
    {"clflushopt", 7, 0, EBX, 23, NONE}, {"clwb", 7, 0, EBX, 24, NONE},
    {"avx512cd", 7, 0, EBX, 28, AVX512}, {"sha", 7, 0, EBX, 29, NONE},
    {"avx512bw", 7, 0, EBX, 30, AVX512}, {"avx512vl", 7, 0, EBX, 31, AVX512},
    {"avx512vbmi", 7, 0, ECX, 1, AVX512}, {"pku", 7, 0, ECX, 4, NONE},
    {"waitpkg", 7, 0, ECX, 5, NONE},    {"avx512vbmi2", 7, 0, ECX, 6, AVX512},
    {"shstk", 7, 0, ECX, 7, NONE},      {"gfni", 7, 0, ECX, 8, NONE},
    {"vaes", 7, 0, ECX, 9, AVX},        {"vpclmulqdq", 7, 0, ECX, 10, AVX},
    {"avx512vnni", 7, 0, ECX, 11, AVX512},
    {"avx512bitalg", 7, 0, ECX, 12, AVX512},
    {"avx512vpopcntdq", 7, 0, ECX, 14, AVX512},
    {"rdpid", 7, 0, ECX, 22, NONE},     {"kl", 7, 0, ECX, 23, NONE},
    {"cldemote", 7, 0, ECX, 25, NONE},  {"movdiri", 7, 0, ECX, 27, NONE},
    {"movdir64b", 7, 0, ECX, 28, NONE}, {"enqcmd", 7, 0, ECX, 29, NONE},
    {"uintr", 7, 0, EDX, 5, NONE},
    {"avx512vp2intersect", 7, 0, EDX, 8, AVX512},
    {"serialize", 7, 0, EDX, 14, NONE}, {"tsxldtrk", 7, 0, EDX, 16, NONE},
    {"pconfig", 7, 0, EDX, 18, NONE},   {"amx-bf16", 7, 0, EDX, 22, AMX},
    {"avx512fp16", 7, 0, EDX, 23, AVX512}, {"amx-tile", 7, 0, EDX, 24, AMX},
    {"amx-int8", 7, 0, EDX, 25, AMX},
    {"sha512", 7, 1, EAX, 0, AVX},      {"sm3", 7, 1, EAX, 1, AVX},
    {"sm4", 7, 1, EAX, 2, AVX},         {"raoint", 7, 1, EAX, 3, NONE},
    {"avxvnni", 7, 1, EAX, 4, AVX},     {"avx512bf16", 7, 1, EAX, 5, AVX512},
    {"cmpccxadd", 7, 1, EAX, 7, NONE},  {"amx-fp16", 7, 1, EAX, 21, AMX},
    {"hreset", 7, 1, EAX, 22, NONE},    {"avxifma", 7, 1, EAX, 23, AVX},
    {"avxvnniint8", 7, 1, EDX, 4, AVX}, {"avxneconvert", 7, 1, EDX, 5, AVX},
    {"amx-complex", 7, 1, EDX, 8, AMX}, {"avxvnniint16", 7, 1, EDX, 10, AVX},
    {"prefetchi", 7, 1, EDX, 14, NONE}, {"usermsr", 7, 1, EDX, 15, NONE},
    // AVX10 (Granite Rapids): every version so far includes 10.1.
    {"avx10.1", 7, 1, EDX, 19, AVX512},
    {"xsaveopt", 0xd, 1, EAX, 0, NONE}, {"xsavec", 0xd, 1, EAX, 1, NONE},
    {"xsaves", 0xd, 1, EAX, 3, NONE},
    {"sahf", 0x80000001, 0, ECX, 0, NONE},
    {"lzcnt", 0x80000001, 0, ECX, 5, NONE},
    {"sse4a", 0x80000001, 0, ECX, 6, NONE},
    {"prfchw", 0x80000001, 0, ECX, 8, NONE},
    {"xop", 0x80000001, 0, ECX, 11, AVX},
    {"lwp", 0x80000001, 0, ECX, 15, NONE},
    {"fma4", 0x80000001, 0, ECX, 16, AVX},
    {"tbm", 0x80000001, 0, ECX, 21, NONE},
    {"mwaitx", 0x80000001, 0, ECX, 29, NONE},
    {"64bit", 0x80000001, 0, EDX, 29, NONE},
    {"clzero", 0x80000008, 0, EBX, 0, NONE},
    {"rdpru", 0x80000008, 0, EBX, 4, NONE},
    {"wbnoinvd", 0x80000008, 0, EBX, 9, NONE},
};
// clang-format on

/// The register state the OS saves (XCR0), or 0 without OSXSAVE.
uint64_t enabledState() {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 27)))
    return 0;
  unsigned low, high;
  __asm__("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
  return (uint64_t(high) << 32) | low;
}

bool stateEnabled(State state) {
  static const uint64_t xcr0 = enabledState();
  switch (state) {
  case NONE:
    return true;
  case AVX: // SSE and AVX (YMM) state
    return (xcr0 & 0x6) == 0x6;
  case AVX512: // and the opmask and ZMM state
    return (xcr0 & 0xe6) == 0xe6;
  case AMX: // tile configuration and data
    return (xcr0 & 0x60000) == 0x60000;
  }
  return false;
}
} // namespace

std::optional<bool> rt::hostHasFeature(const std::string &name) {
  for (const FeatureBit &feature : kFeatures) {
    if (name != feature.name)
      continue;
    unsigned regs[4] = {};
    if (!__get_cpuid_count(feature.leaf, feature.subleaf, &regs[EAX],
                           &regs[EBX], &regs[ECX], &regs[EDX]))
      return false;
    return (regs[feature.reg] >> feature.bit & 1) &&
           stateEnabled(feature.state);
  }
  return std::nullopt;
}

std::string rt::hostCPUName() {
  unsigned regs[12] = {};
  for (unsigned i = 0; i < 3; ++i)
    if (!__get_cpuid(0x80000002 + i, &regs[4 * i], &regs[4 * i + 1],
                     &regs[4 * i + 2], &regs[4 * i + 3]))
      return "x86_64";
  char brand[49] = {};
  std::memcpy(brand, regs, 48);
  std::string name(brand);
  size_t start = name.find_first_not_of(' ');
  size_t end = name.find_last_not_of(' ');
  return start == std::string::npos ? "x86_64"
                                    : name.substr(start, end - start + 1);
}

#else

std::optional<bool> rt::hostHasFeature(const std::string &) {
  return std::nullopt;
}

std::string rt::hostCPUName() {
#if defined(__aarch64__)
  return "aarch64";
#else
  return "this CPU";
#endif
}

#endif
