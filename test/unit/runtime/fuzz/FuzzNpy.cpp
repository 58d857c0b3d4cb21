//===- FuzzNpy.cpp - libFuzzer target: the .npy reader --------------------===//

#include "Npy.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace hope::rt;
  (void)parseNpy(FileBytes::fromBuffer(
      std::string(reinterpret_cast<const char *>(data), size), "fuzz.npy"));
  return 0;
}
