//===- FuzzArtifact.cpp - libFuzzer target: the artifact loader -----------===//
//
// The bytes as an artifact's ELF file: the reader of its headers, symbol
// table and `hope_manifest`, then the manifest parser on what it found, and
// for a CUDA artifact the reader of its images.
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
  if (!artifact)
    return 0;
  hope::Expected<std::unique_ptr<Manifest>> manifest =
      parseManifest(artifact->manifest);
  // A CUDA artifact's images, read by symbol as the runtime loads them.
  if (manifest)
    for (const ImageSpec &image : (*manifest)->images)
      (void)artifact->symbolBytes(std::string(image.symbol), image.bytes,
                                  "image");
  return 0;
}
