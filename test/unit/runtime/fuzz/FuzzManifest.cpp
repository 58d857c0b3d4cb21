//===- FuzzManifest.cpp - libFuzzer target: the manifest parser -----------===//

#include "Manifest.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  (void)hope::rt::parseManifest(
      std::string_view(reinterpret_cast<const char *>(data), size));
  return 0;
}
