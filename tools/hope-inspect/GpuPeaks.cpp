//===- GpuPeaks.cpp - the documented peaks of the GPUs hope-inspect knows -===//
//
// Sources (docs/gpu-peaks.md): the NVIDIA H100 Tensor Core GPU datasheet
// and Hopper architecture whitepaper, the H200 datasheet, the A100 datasheet
// and Ampere architecture whitepaper, and the CUDA C++ Programming Guide's
// table of compute capabilities (shared memory and registers).
//
//===----------------------------------------------------------------------===//

#include "GpuPeaks.h"

#include "llvm/ADT/STLExtras.h"

using namespace hope::inspect;

static constexpr double kTera = 1e12;

static const GpuCard kCards[] = {
    {"h100-sxm", "NVIDIA H100 SXM5 80GB", "sm_90", 66.9 * kTera, 3.35 * kTera,
     132, 227, 228, 65536, 255, true},
    {"h100-pcie", "NVIDIA H100 PCIe 80GB", "sm_90", 51.2 * kTera, 2.0 * kTera,
     114, 227, 228, 65536, 255, false},
    {"h200-sxm", "NVIDIA H200 SXM 141GB", "sm_90", 66.9 * kTera, 4.8 * kTera,
     132, 227, 228, 65536, 255, false},
    {"a100-sxm-80gb", "NVIDIA A100 SXM4 80GB", "sm_80", 19.5 * kTera,
     2.039 * kTera, 108, 163, 164, 65536, 255, true},
    {"a100-pcie-40gb", "NVIDIA A100 PCIe 40GB", "sm_80", 19.5 * kTera,
     1.555 * kTera, 108, 163, 164, 65536, 255, false},
};

llvm::ArrayRef<GpuCard> hope::inspect::getGpuCards() { return kCards; }

const GpuCard *hope::inspect::findCard(llvm::StringRef name) {
  for (const GpuCard &card : kCards)
    if (card.name == name)
      return &card;
  return nullptr;
}

const GpuCard *hope::inspect::defaultCard(llvm::StringRef chip) {
  for (const GpuCard &card : kCards)
    if (card.chip == chip && card.chipDefault)
      return &card;
  return nullptr;
}
