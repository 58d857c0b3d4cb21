//===- ArtifactFile.h - an artifact's ELF file, before loading --*- C++ -*-===//
//
// The manifest and the exported symbols are read from the file itself, not
// through dlopen: a library built for CPU features this host lacks could
// fault in its constructors, and a truncated one could fault inside the
// dynamic loader. So the file is validated first, and loaded only if sound.
// The file is untrusted: every offset and size it holds is checked against
// its length before use.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_RUNTIME_LIB_ARTIFACTFILE_H
#define HOPE_RUNTIME_LIB_ARTIFACTFILE_H

#include "File.h"

#include <map>
#include <set>
#include <string>

namespace hope::rt {

struct ArtifactFile {
  /// The text of `hope_manifest`, up to its NUL.
  std::string manifest;
  /// Every function or object the library defines and exports.
  std::set<std::string> symbols;
  /// The file range (offset, size) of each exported symbol whose bytes lie
  /// inside its section's data in the file (the images of CUDA artifacts).
  std::map<std::string, std::pair<uint64_t, uint64_t>> ranges;
  /// The file's bytes, which the ranges index.
  FileBytes file;

  /// The bytes of the exported data symbol `name`, which must hold
  /// `expected` bytes; errors name the file and `what` ("image 0").
  Expected<std::string_view> symbolBytes(const std::string &name,
                                         uint64_t expected,
                                         const std::string &what) const;
};

/// Reads the artifact at `path`. Checks that it is a 64-bit little-endian
/// ELF shared library for this host's architecture whose headers and
/// loadable segments lie inside the file, and that it defines a
/// NUL-terminated `hope_manifest`.
Expected<ArtifactFile> readArtifactFile(const std::string &path);
/// The same on bytes already read (named `file.name()` in messages).
Expected<ArtifactFile> parseArtifactFile(const FileBytes &file);

} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_ARTIFACTFILE_H
