//===- KernelResources.cpp - nl-cuda-kernel-resources ---------------------===//
//
// The manifest's kernels get, per chip, what ptxas says each uses
// (registers, spills, shared memory, barriers), from `ptxas -v` on the PTX
// image of that chip, and the costs nl-cuda-kernel-costs recorded.
//
//===----------------------------------------------------------------------===//

#include "Toolkit.h"
#include "nl/Codegen/CUDA/InspectPasses.h"
#include "nl/IR/NLDialect.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Regex.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLCUDAKERNELRESOURCES
#include "nl/Codegen/CUDA/InspectPasses.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;

namespace {

/// What ptxas reports for one kernel.
struct Resources {
  int64_t registers = 0, spillStores = 0, spillLoads = 0, sharedBytes = 0,
          barriers = 0, stackBytes = 0;
};

/// Parses `ptxas -v`'s report: per kernel, the lines after "Compiling entry
/// function 'NAME' for 'sm_NN'".
llvm::StringMap<Resources> parseReport(StringRef report) {
  llvm::StringMap<Resources> kernels;
  Resources *current = nullptr;
  llvm::Regex entry("Compiling entry function '([A-Za-z0-9_$.]+)'");
  llvm::Regex frame("([0-9]+) bytes stack frame, ([0-9]+) bytes spill "
                    "stores, ([0-9]+) bytes spill loads");
  llvm::Regex registers("Used ([0-9]+) registers");
  llvm::Regex barriers("used ([0-9]+) barriers");
  llvm::Regex shared("([0-9]+) bytes smem");
  auto number = [](StringRef text) {
    int64_t value = 0;
    (void)text.getAsInteger(10, value);
    return value;
  };
  SmallVector<StringRef> lines;
  report.split(lines, '\n');
  for (StringRef line : lines) {
    SmallVector<StringRef> match;
    if (entry.match(line, &match)) {
      current = &kernels[match[1]];
      continue;
    }
    if (!current)
      continue;
    if (frame.match(line, &match)) {
      current->stackBytes = number(match[1]);
      current->spillStores = number(match[2]);
      current->spillLoads = number(match[3]);
    }
    if (registers.match(line, &match))
      current->registers = number(match[1]);
    if (barriers.match(line, &match))
      current->barriers = number(match[1]);
    if (shared.match(line, &match))
      current->sharedBytes = number(match[1]);
  }
  return kernels;
}

struct KernelResourcesPass
    : nl::impl::NLCUDAKernelResourcesBase<KernelResourcesPass> {
  using Base::Base;

  /// Runs `ptxas -v` on `ptx` for `chip`; its report, or failure after an
  /// error on `module`.
  FailureOr<std::string> runPtxas(ModuleOp module, StringRef ptx,
                                  StringRef chip) {
    std::string error;
    FailureOr<cuda::PtxasOutput> output =
        cuda::runPtxas(cuda::toolkitRoot(toolkit), ptx, chip, error);
    if (failed(output)) {
      module.emitError("nl-cuda-kernel-resources: ") << error;
      return failure();
    }
    return output->report;
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    Builder b(ctx);
    auto fields = module->getAttrOfType<DictionaryAttr>(
        NLDialect::getManifestFieldsAttrName());
    ArrayAttr kernels = fields ? fields.getAs<ArrayAttr>("kernels") : nullptr;
    ArrayAttr images = fields ? fields.getAs<ArrayAttr>("images") : nullptr;
    if (!kernels || !images) {
      module.emitError("no kernels or images in nl.manifest_fields: run "
                       "nl-cuda-serialize-kernels first");
      return signalPassFailure();
    }

    DictionaryAttr recorded = fields.getAs<DictionaryAttr>("ptxas_reports");
    // chip -> kernel -> resources, from each chip's PTX image.
    llvm::StringMap<llvm::StringMap<Resources>> byChip;
    SmallVector<std::string> chips;
    for (auto image : images.getAsRange<DictionaryAttr>()) {
      auto format = image.getAs<StringAttr>("format");
      auto chip = image.getAs<StringAttr>("chip");
      auto symbol = image.getAs<StringAttr>("symbol");
      if (!format || format.getValue() != "ptx" || !chip || !symbol)
        continue;
      auto global = module.lookupSymbol<LLVM::GlobalOp>(symbol.getValue());
      auto bytes = global ? dyn_cast_or_null<StringAttr>(global.getValueOrNull())
                          : StringAttr();
      if (!bytes) {
        module.emitError("image ") << symbol << " is not in the module";
        return signalPassFailure();
      }
      // nl-cuda-serialize-kernels recorded the report of the ptxas run
      // that made the chip's cubin from this PTX; else ptxas runs again.
      FailureOr<std::string> report =
          recorded && recorded.getAs<StringAttr>(chip)
              ? FailureOr<std::string>(
                    recorded.getAs<StringAttr>(chip).getValue().str())
              : runPtxas(module, bytes.getValue().rtrim(StringRef("\0", 1)),
                         chip.getValue());
      if (failed(report))
        return signalPassFailure();
      byChip[chip.getValue()] = parseReport(*report);
      chips.push_back(chip.str());
    }

    DictionaryAttr costs = fields.getAs<DictionaryAttr>("kernel_costs");
    SmallVector<Attribute> updated;
    for (auto kernel : kernels.getAsRange<DictionaryAttr>()) {
      NamedAttrList entry(kernel);
      StringRef name = kernel.getAs<StringAttr>("name").getValue();
      if (auto cost = costs ? costs.getAs<DictionaryAttr>(name)
                            : DictionaryAttr())
        for (NamedAttribute fact : cost)
          entry.set(fact.getName(), fact.getValue());
      NamedAttrList resources;
      for (const std::string &chip : chips) {
        auto found = byChip[chip].find(name);
        if (found == byChip[chip].end())
          continue;
        const Resources &r = found->second;
        resources.set(
            chip,
            b.getDictionaryAttr(
                {b.getNamedAttr("registers", b.getI64IntegerAttr(r.registers)),
                 b.getNamedAttr("spill_stores",
                                b.getI64IntegerAttr(r.spillStores)),
                 b.getNamedAttr("spill_loads",
                                b.getI64IntegerAttr(r.spillLoads)),
                 b.getNamedAttr("shared_bytes",
                                b.getI64IntegerAttr(r.sharedBytes)),
                 b.getNamedAttr("barriers", b.getI64IntegerAttr(r.barriers)),
                 b.getNamedAttr("stack_bytes",
                                b.getI64IntegerAttr(r.stackBytes))}));
      }
      entry.set("resources", resources.getDictionary(ctx));
      updated.push_back(entry.getDictionary(ctx));
    }

    NamedAttrList newFields(fields);
    newFields.set("kernels", b.getArrayAttr(updated));
    newFields.erase("kernel_costs");
    newFields.erase("ptxas_reports");
    module->setAttr(NLDialect::getManifestFieldsAttrName(),
                    newFields.getDictionary(ctx));
  }
};

} // namespace
