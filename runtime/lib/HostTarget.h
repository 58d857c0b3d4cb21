//===- HostTarget.h - can this host run an artifact's code? -----*- C++ -*-===//

#ifndef HOPE_RUNTIME_LIB_HOSTTARGET_H
#define HOPE_RUNTIME_LIB_HOSTTARGET_H

#include "Manifest.h"

#include <optional>
#include <string>

namespace hope::rt {

/// Checks that the host has the architecture of the manifest's triple and
/// every CPU feature of its `target.features` (LLVM's names, e.g. "avx2";
/// a leading '+' as in LLVM's feature strings is accepted). The error names
/// every missing feature.
Error checkHostTarget(const Manifest &manifest, const std::string &path);

/// Whether this host has the CPU feature `name` (LLVM's name); nullopt for
/// a name this runtime cannot query (on x86-64 none that LLVM reports for a
/// host; elsewhere every name: see HostFeatures.cpp).
std::optional<bool> hostHasFeature(const std::string &name);

/// The host CPU's name, for messages ("AMD Ryzen 9 7950X ..."; the
/// architecture where the CPU does not say).
std::string hostCPUName();

} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_HOSTTARGET_H
