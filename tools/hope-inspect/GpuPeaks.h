//===- GpuPeaks.h - the documented peaks of the GPUs hope-inspect knows ---===//
//
// The figures behind hope-inspect's time bounds, from NVIDIA's datasheets and
// whitepapers; docs/gpu-peaks.md lists each with its source. A chip
// (sm_90) picks its default card; --card picks another of the same chip.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_TOOLS_HOPE_INSPECT_GPUPEAKS_H
#define HOPE_TOOLS_HOPE_INSPECT_GPUPEAKS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>

namespace hope::inspect {

struct GpuCard {
  /// --card's name, e.g. "h100-sxm".
  llvm::StringLiteral name;
  /// NVIDIA's product name.
  llvm::StringLiteral product;
  /// The architecture ptxas compiles for it.
  llvm::StringLiteral chip;
  /// Peak FP32 (non-tensor) FLOP/s and DRAM bytes/s.
  double fp32FlopsPerSecond;
  double dramBytesPerSecond;
  int64_t sms;
  /// Shared memory a block may use and an SM has, in KiB.
  int64_t sharedKiBPerBlock;
  int64_t sharedKiBPerSM;
  /// 32-bit registers per SM and at most per thread.
  int64_t registersPerSM;
  int64_t registersPerThread;
  /// Whether --chip picks this card when --card is not given.
  bool chipDefault;
};

/// Every card, in docs/gpu-peaks.md's order.
llvm::ArrayRef<GpuCard> getGpuCards();
/// The card named `name`, or null.
const GpuCard *findCard(llvm::StringRef name);
/// The card `chip` uses by default, or null.
const GpuCard *defaultCard(llvm::StringRef chip);

} // namespace hope::inspect

#endif // HOPE_TOOLS_HOPE_INSPECT_GPUPEAKS_H
