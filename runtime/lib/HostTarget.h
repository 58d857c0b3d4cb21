//===- HostTarget.h - can this host run an artifact's code? -----*- C++ -*-===//

#ifndef HOPE_RUNTIME_LIB_HOSTTARGET_H
#define HOPE_RUNTIME_LIB_HOSTTARGET_H

#include "Manifest.h"

namespace hope::rt {

/// Checks that the host has the architecture of the manifest's triple and
/// every CPU feature of its `target.features` (LLVM's names, e.g. "avx2";
/// a leading '+' as in LLVM's feature strings is accepted). The error names
/// every missing feature.
llvm::Error checkHostTarget(const Manifest &manifest, llvm::StringRef path);

} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_HOSTTARGET_H
