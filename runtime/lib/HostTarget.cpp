//===- HostTarget.cpp - can this host run an artifact's code? -------------===//

#include "HostTarget.h"
#include "Status.h"

using namespace hope;
using namespace hope::rt;

#if defined(__x86_64__)
static const char *const kHostArch = "x86_64";
#elif defined(__aarch64__)
static const char *const kHostArch = "aarch64";
#elif defined(__riscv)
static const char *const kHostArch = "riscv64";
#elif defined(__powerpc64__)
static const char *const kHostArch = "powerpc64le";
#endif

/// The architecture a target triple names ("x86_64-unknown-linux-gnu" ->
/// "x86_64"), with its common aliases folded; "" if it names none known.
static std::string archOf(const std::string &triple) {
  std::string arch = triple.substr(0, triple.find('-'));
  if (arch == "amd64" || arch == "x86-64")
    return "x86_64";
  if (arch == "arm64")
    return "aarch64";
  for (const char *known :
       {"x86_64", "aarch64", "riscv64", "powerpc64le", "powerpc64", "i386",
        "i686", "arm", "armv7", "riscv32", "aarch64_be", "s390x", "mips64",
        "mips64el", "loongarch64", "wasm32", "wasm64", "nvptx64", "amdgcn",
        "spirv64"})
    if (arch == known)
      return arch;
  return "";
}

Error rt::checkHostTarget(const Manifest &manifest, const std::string &path) {
  std::string triple(manifest.triple);
  std::string arch = archOf(triple);
  if (arch.empty())
    return makeError(HOPE_INVALID_FORMAT,
                     path + ": invalid manifest: target triple '" + triple +
                         "' names no known architecture");
  if (arch != kHostArch)
    return makeError(HOPE_UNSUPPORTED, path + ": compiled for " + triple +
                                           " but this host is " + kHostArch);

  std::vector<std::string> missing;
  for (std::string_view feature : manifest.features) {
    std::string name(feature.substr(feature.size() && feature[0] == '+'));
    // A feature the runtime cannot query on this host counts as missing
    // on x86-64 (where it knows every one LLVM reports); elsewhere the
    // check is left to the loader.
    std::optional<bool> present = hostHasFeature(name);
    if (present ? !*present : kHostArch == std::string("x86_64"))
      missing.push_back(name);
  }
  if (missing.empty())
    return Error();
  return makeError(HOPE_UNSUPPORTED, path +
                                         ": compiled for CPU features this "
                                         "host (" +
                                         hostCPUName() +
                                         ") lacks: " + join(missing));
}
