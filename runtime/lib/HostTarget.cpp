//===- HostTarget.cpp - can this host run an artifact's code? -------------===//

#include "HostTarget.h"
#include "Status.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

using namespace hope;
using namespace hope::rt;

llvm::Error rt::checkHostTarget(const Manifest &manifest,
                                llvm::StringRef path) {
  llvm::Triple target(manifest.triple);
  llvm::Triple host(llvm::sys::getProcessTriple());
  if (target.getArch() == llvm::Triple::UnknownArch)
    return makeError(HOPE_INVALID_FORMAT,
                     path + ": invalid manifest: target triple '" +
                         manifest.triple + "' names no known architecture");
  if (target.getArch() != host.getArch())
    return makeError(HOPE_UNSUPPORTED, path + ": compiled for " +
                                           manifest.triple +
                                           " but this host is " + host.str());

  llvm::StringMap<bool> hostFeatures = llvm::sys::getHostCPUFeatures();
  llvm::SmallVector<llvm::StringRef> missing;
  for (llvm::StringRef feature : manifest.features) {
    llvm::StringRef name = feature;
    name.consume_front("+");
    if (!hostFeatures.lookup(name))
      missing.push_back(name);
  }
  if (missing.empty())
    return llvm::Error::success();
  return makeError(HOPE_UNSUPPORTED,
                   path + ": compiled for CPU features this host (" +
                       llvm::sys::getHostCPUName() +
                       ") lacks: " + llvm::join(missing, ", "));
}
