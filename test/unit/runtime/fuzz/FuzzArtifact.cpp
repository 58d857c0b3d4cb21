//===- FuzzArtifact.cpp - libFuzzer target: the artifact loader -----------===//
//
// The bytes as an artifact's ELF file: the reader of its headers, symbol
// table and `hope_manifest`, then the manifest parser on what it found.
//
//===----------------------------------------------------------------------===//

#include "ArtifactFile.h"
#include "Manifest.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace hope::rt;
  FileBytes file = FileBytes::fromBuffer(
      std::string(reinterpret_cast<const char *>(data), size), "fuzz.so");
  hope::Expected<ArtifactFile> artifact = parseArtifactFile(file);
  if (artifact)
    (void)parseManifest(artifact->manifest);
  return 0;
}
