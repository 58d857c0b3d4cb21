//===- FuzzSafetensors.cpp - libFuzzer target: the safetensors reader -----===//
//
// Weights and state files: the header's validation, then every tensor read.
//
//===----------------------------------------------------------------------===//

#include "Safetensors.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace hope::rt;
  hope::Expected<SafetensorsFile> file = SafetensorsFile::parse(
      FileBytes::fromBuffer(
          std::string(reinterpret_cast<const char *>(data), size),
          "fuzz.safetensors"));
  if (!file)
    return 0;
  for (const SafetensorsEntry &entry : file->entries())
    (void)file->load(entry);
  return 0;
}
