//===- ArtifactFile.h - an artifact's ELF file, before loading --*- C++ -*-===//
//
// The manifest and the exported symbols are read from the file itself, not
// through dlopen: a library built for CPU features this host lacks could
// fault in its constructors, and a truncated one could fault inside the
// dynamic loader. So the file is validated first, and loaded only if sound.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_RUNTIME_LIB_ARTIFACTFILE_H
#define HOPE_RUNTIME_LIB_ARTIFACTFILE_H

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Error.h"

#include <string>

namespace hope::rt {

struct ArtifactFile {
  /// The text of `hope_manifest`, up to its NUL.
  std::string manifest;
  /// Every function or object the library defines and exports.
  llvm::StringSet<> symbols;
};

/// Reads the artifact at `path`. Checks that it is an ELF shared library
/// for this host's architecture whose headers and loadable segments lie
/// inside the file, and that it defines a NUL-terminated `hope_manifest`.
llvm::Expected<ArtifactFile> readArtifactFile(llvm::StringRef path);

} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_ARTIFACTFILE_H
