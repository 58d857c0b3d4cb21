//===- CudaManifest.cpp - the CUDA fields of an artifact's manifest -------===//
//
// docs/artifact-abi.md, "CUDA artifacts": the service table version, the
// chips and PTX version of the target, the kernels (launch numbers, block
// sizes, shared memory) and the images (which exported symbol holds the
// cubin or PTX of which chip). Everything is checked here so that the
// backend can trust it: names are C identifiers, block sizes are within
// the CUDA limits, every image's chip is one of the target's chips.
//
//===----------------------------------------------------------------------===//

#include "Json.h"
#include "Manifest.h"
#include "Status.h"

#include "hope/artifact.h"

#include <algorithm>
#include <set>

using namespace hope;
using namespace hope::rt;

namespace {
using Where = const std::string &;

bool isIdentifier(std::string_view name) {
  auto isAlpha = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  };
  return !name.empty() && isAlpha(name.front()) &&
         std::all_of(name.begin(), name.end(), [&](char c) {
           return isAlpha(c) || (c >= '0' && c <= '9');
         });
}

/// "sm_90", "sm_100", "sm_90a": NVIDIA's names of real architectures.
bool isChipName(std::string_view chip) {
  if (chip.substr(0, 3) != "sm_")
    return false;
  std::string_view rest = chip.substr(3);
  if (!rest.empty() && (rest.back() == 'a' || rest.back() == 'f'))
    rest.remove_suffix(1);
  return rest.size() >= 2 && rest.size() <= 3 &&
         std::all_of(rest.begin(), rest.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

/// The member `key` of `object` at `where` as a string/integer; absent is
/// an error unless `optional`.
bool readString(JsonReader &r, const Json &object, Where where,
                const char *key, std::string &out, bool optional = false) {
  if (optional && !object.contains(key))
    return true;
  const Json *member = r.member(object, where, key);
  return member && r.read(*member, JsonReader::field(where, key), out);
}
bool readInteger(JsonReader &r, const Json &object, Where where,
                 const char *key, int64_t &out) {
  const Json *member = r.member(object, where, key);
  return member && r.read(*member, JsonReader::field(where, key), out);
}
const Json *readArray(JsonReader &r, const Json &object, Where where,
                      const char *key) {
  const Json *member = r.member(object, where, key);
  if (member && !member->is_array()) {
    r.report("expected array", JsonReader::field(where, key));
    return nullptr;
  }
  return member;
}

Error invalid(const std::string &message) {
  return makeError(HOPE_INVALID_FORMAT, "invalid manifest: " + message);
}
} // namespace

Error rt::parseCudaManifest(JsonReader &r, const Json &root,
                            Manifest &manifest) {
  const std::string rootWhere = "manifest";
  const bool emulated = manifest.kind == "cuda-emulated";
  auto failed = [&] { return invalid(r.error()); };

  // The target: chips and PTX version (cuda only).
  const std::string targetWhere = JsonReader::field(rootWhere, "target");
  const Json &target = root["target"];
  std::set<std::string> chips;
  if (emulated) {
    if (target.contains("chips"))
      return invalid("a 'cuda-emulated' target has no 'chips' (its kernels "
                     "are host code)");
  } else {
    const Json *list = readArray(r, target, targetWhere, "chips");
    if (!list)
      return failed();
    if (list->empty())
      return invalid("target 'cuda' lists no chips");
    for (size_t i = 0; i < list->size(); ++i) {
      std::string chip;
      std::string where = JsonReader::element(
          JsonReader::field(targetWhere, "chips"), i);
      if (!r.read((*list)[i], where, chip))
        return failed();
      if (!isChipName(chip))
        return invalid("chip '" + chip + "' at " + where +
                       " is not an architecture name like sm_90");
      if (!chips.insert(chip).second)
        return invalid("chip '" + chip + "' is listed twice");
      manifest.chips.push_back(manifest.save(chip));
    }
    std::string ptx;
    if (!readString(r, target, targetWhere, "ptx_version", ptx))
      return failed();
    manifest.ptxVersion = manifest.save(ptx);
  }

  // The kernels.
  const Json *kernels = readArray(r, root, rootWhere, "kernels");
  if (!kernels)
    return failed();
  std::set<std::string> kernelNames;
  for (size_t i = 0; i < kernels->size(); ++i) {
    const Json &kernel = (*kernels)[i];
    std::string where =
        JsonReader::element(JsonReader::field(rootWhere, "kernels"), i);
    KernelSpec spec;
    std::string name;
    int64_t shared = 0;
    if (!r.object(kernel, where) || !readString(r, kernel, where, "name", name))
      return failed();
    const Json *block = readArray(r, kernel, where, "block");
    if (!block || !readInteger(r, kernel, where, "shared_bytes", shared))
      return failed();
    if (!isIdentifier(name))
      return invalid("kernel name '" + name + "' at " + where +
                     " is not a C identifier");
    if (!kernelNames.insert(name).second)
      return invalid("two kernels are named '" + name + "'");
    if (block->size() != 3)
      return invalid("kernel '" + name + "': 'block' has " +
                     std::to_string(block->size()) +
                     " sizes (expected 3: x, y, z)");
    int64_t threads = 1;
    for (size_t d = 0; d < 3; ++d) {
      int64_t size = 0;
      if (!r.read((*block)[d],
                  JsonReader::element(JsonReader::field(where, "block"), d),
                  size))
        return failed();
      // CUDA's limits: 1024 threads per block, z at most 64.
      if (size < 1 || size > (d == 2 ? 64 : 1024))
        return invalid("kernel '" + name + "': block size " +
                       std::to_string(size) + " in dimension " +
                       std::to_string(d) + " is out of CUDA's range");
      threads *= size;
      spec.block[d] = uint32_t(size);
    }
    if (threads > 1024)
      return invalid("kernel '" + name + "': a block of " +
                     std::to_string(threads) +
                     " threads exceeds CUDA's 1024");
    if (shared < 0 || shared > INT32_MAX)
      return invalid("kernel '" + name + "': shared_bytes " +
                     std::to_string(shared) + " is out of range");
    spec.name = manifest.save(name);
    spec.sharedBytes = uint32_t(shared);
    manifest.kernels.push_back(spec);
  }

  // The images.
  const Json *images = readArray(r, root, rootWhere, "images");
  if (!images)
    return failed();
  std::set<std::string> symbols, cubinChips, ptxChips;
  for (size_t i = 0; i < images->size(); ++i) {
    const Json &image = (*images)[i];
    std::string where =
        JsonReader::element(JsonReader::field(rootWhere, "images"), i);
    std::string format, chip, symbol;
    int64_t bytes = 0;
    if (!r.object(image, where) ||
        !readString(r, image, where, "format", format) ||
        !readString(r, image, where, "chip", chip, /*optional=*/emulated) ||
        !readString(r, image, where, "symbol", symbol) ||
        !readInteger(r, image, where, "bytes", bytes))
      return failed();
    if (emulated ? format != "emulated" : format != "cubin" && format != "ptx")
      return invalid("image " + std::to_string(i) + " has format '" + format +
                     "' (expected " +
                     (emulated ? "emulated" : "cubin or ptx") +
                     " for target '" + std::string(manifest.kind) + "')");
    if (!emulated) {
      if (!chips.count(chip))
        return invalid("image " + std::to_string(i) + " is for chip '" + chip +
                       "', which is not one of the target's chips");
      if (!(format == "cubin" ? cubinChips : ptxChips).insert(chip).second)
        return invalid("two " + format + " images for chip '" + chip + "'");
    } else if (!chip.empty()) {
      return invalid("image " + std::to_string(i) +
                     " of a 'cuda-emulated' target names a chip");
    }
    if (!isIdentifier(symbol))
      return invalid("image " + std::to_string(i) + ": symbol '" + symbol +
                     "' is not a C identifier");
    if (!symbols.insert(symbol).second)
      return invalid("two images are in symbol '" + symbol + "'");
    // The largest cubins of real models are a few MiB.
    if (bytes < 1 || bytes > (int64_t(1) << 30))
      return invalid("image " + std::to_string(i) + ": bytes " +
                     std::to_string(bytes) + " is out of range (1 to 2^30)");
    manifest.images.push_back({manifest.save(format), manifest.save(chip),
                               manifest.save(symbol), uint64_t(bytes)});
  }
  if (manifest.images.empty())
    return invalid("a '" + std::string(manifest.kind) +
                   "' artifact needs at least one image");
  if (emulated && manifest.images.size() != 1)
    return invalid("a 'cuda-emulated' artifact has exactly one image");
  return Error();
}
