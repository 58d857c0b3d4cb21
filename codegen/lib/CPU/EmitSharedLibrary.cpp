//===- EmitSharedLibrary.cpp - LLVM dialect -> .so ------------------------===//

#include "nl/Codegen/CPU/CPUBackend.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"

using namespace mlir;
using namespace mlir::nl;

namespace {

std::unique_ptr<llvm::TargetMachine>
createTargetMachine(const CPUTarget &target, unsigned optLevel,
                    Location loc) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  std::string error;
  llvm::Triple triple(target.triple);
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!llvmTarget) {
    emitError(loc) << "no LLVM target for '" << target.triple << "': " << error;
    return nullptr;
  }
  llvm::TargetOptions options;
  // Contract a*b+c into FMAs, as -ffp-contract=fast does for C.
  options.AllowFPOpFusion = llvm::FPOpFusion::Fast;
  return std::unique_ptr<llvm::TargetMachine>(llvmTarget->createTargetMachine(
      triple, target.cpu, target.featureString(), options, llvm::Reloc::PIC_,
      std::nullopt,
      optLevel >= 3   ? llvm::CodeGenOptLevel::Aggressive
      : optLevel == 0 ? llvm::CodeGenOptLevel::None
                                     : llvm::CodeGenOptLevel::Default));
}

/// Translates and optimises; keeps `llvmContext` owning the result.
std::unique_ptr<llvm::Module> translate(ModuleOp module,
                                        llvm::TargetMachine &machine,
                                        unsigned optLevel,
                                        llvm::LLVMContext &llvmContext) {
  registerBuiltinDialectTranslation(*module.getContext());
  registerLLVMDialectTranslation(*module.getContext());
  registerOpenMPDialectTranslation(*module.getContext());
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext);
  if (!llvmModule) {
    module.emitError("translation to LLVM IR failed");
    return nullptr;
  }
  llvmModule->setDataLayout(machine.createDataLayout());
  llvmModule->setTargetTriple(machine.getTargetTriple());
  auto optimize = makeOptimizingTransformer(optLevel, /*sizeLevel=*/0,
                                            &machine);
  if (llvm::Error error = optimize(llvmModule.get())) {
    module.emitError("LLVM optimisation failed: ")
        << llvm::toString(std::move(error));
    return nullptr;
  }
  return llvmModule;
}

/// A module translated and optimised for a target machine, and what owns it.
struct OptimizedModule {
  std::unique_ptr<llvm::TargetMachine> machine;
  std::unique_ptr<llvm::LLVMContext> context;
  std::unique_ptr<llvm::Module> module;
};

FailureOr<OptimizedModule> translateAndOptimize(ModuleOp module,
                                               const CPUTarget &target,
                                               unsigned optLevel) {
  OptimizedModule result;
  result.machine = createTargetMachine(target, optLevel, module.getLoc());
  if (!result.machine)
    return failure();
  result.context = std::make_unique<llvm::LLVMContext>();
  result.module =
      translate(module, *result.machine, optLevel, *result.context);
  if (!result.module)
    return failure();
  return result;
}

} // namespace

FailureOr<CPUTarget> CPUTarget::named(StringRef cpu, std::string &error) {
  llvm::InitializeNativeTarget();
  CPUTarget target;
  target.triple = llvm::sys::getProcessTriple();
  target.cpu = cpu.str();
  llvm::Triple triple(target.triple);
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!llvmTarget)
    return failure();
  // Ask a generic subtarget whether the name is valid first: creating one
  // for an unknown CPU prints LLVM's own warning.
  std::unique_ptr<llvm::MCSubtargetInfo> generic(
      llvmTarget->createMCSubtargetInfo(triple, "", ""));
  if (!generic || !generic->isCPUStringValid(cpu)) {
    error = "LLVM does not know the CPU '" + cpu.str() + "' for " +
            target.triple;
    return failure();
  }
  std::unique_ptr<llvm::MCSubtargetInfo> subtarget(
      llvmTarget->createMCSubtargetInfo(triple, cpu, ""));
  // Record instruction-set features only (those a CPU reports, as the host
  // query lists them), not LLVM's tuning flags.
  llvm::StringMap<bool> isaFeatures = llvm::sys::getHostCPUFeatures();
  for (const llvm::SubtargetFeatureKV &feature :
       subtarget->getAllProcessorFeatures())
    if (isaFeatures.contains(feature.Key) &&
        subtarget->checkFeatures(std::string("+") + feature.Key))
      target.features.push_back(feature.Key);
  llvm::sort(target.features);
  return target;
}

FailureOr<std::string>
mlir::nl::translateToOptimizedLLVMIR(ModuleOp module, const CPUTarget &target,
                                     unsigned optLevel) {
  FailureOr<OptimizedModule> optimized =
      translateAndOptimize(module, target, optLevel);
  if (failed(optimized))
    return failure();
  std::string text;
  llvm::raw_string_ostream os(text);
  optimized->module->print(os, nullptr);
  return text;
}

LogicalResult mlir::nl::emitSharedLibrary(ModuleOp module,
                                          const CPUTarget &target,
                                          unsigned optLevel,
                                          StringRef outputPath) {
  Location loc = module.getLoc();
  FailureOr<OptimizedModule> optimized =
      translateAndOptimize(module, target, optLevel);
  if (failed(optimized))
    return failure();
  llvm::TargetMachine *machine = optimized->machine.get();
  llvm::Module *llvmModule = optimized->module.get();

  // Object file in a temporary, removed whatever happens.
  llvm::SmallString<128> objectPath;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
          "hope-artifact", "o", objectPath))
    return emitError(loc) << "cannot create a temporary object file: "
                          << ec.message();
  auto removeObject = llvm::make_scope_exit(
      [&] { llvm::sys::fs::remove(objectPath); });
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(objectPath, ec, llvm::sys::fs::OF_None);
    if (ec)
      return emitError(loc) << "cannot write '" << objectPath
                            << "': " << ec.message();
    llvm::legacy::PassManager codegen;
    if (machine->addPassesToEmitFile(codegen, os, nullptr,
                                     llvm::CodeGenFileType::ObjectFile))
      return emitError(loc) << "the target cannot emit object files";
    codegen.run(*llvmModule);
  }
  // Parallel loops call the OpenMP runtime (libomp.so.5: on Debian 12 libomp5-19's).
  bool usesOpenMP = llvm::any_of(llvmModule->functions(), [](auto &function) {
    return function.isDeclaration() &&
           function.getName().starts_with("__kmpc_");
  });

  // Link with the LLVM 22 toolchain the project builds with.
  llvm::ErrorOr<std::string> clang = llvm::sys::findProgramByName("clang-22");
  std::string linker =
      clang ? *clang : std::string("/usr/lib/llvm-22/bin/clang");
  if (!llvm::sys::fs::can_execute(linker))
    return emitError(loc) << "cannot link the artifact: clang-22 not found "
                             "(install Debian's clang-22 and lld-22)";
  llvm::SmallVector<llvm::StringRef> argv = {
      linker, "-shared", "-fuse-ld=lld", "-o", outputPath, objectPath, "-lm"};
  if (usesOpenMP)
    argv.push_back("-lomp");
  std::string message;
  int status = llvm::sys::ExecuteAndWait(linker, argv, std::nullopt, {}, 0, 0,
                                         &message);
  if (status != 0)
    return emitError(loc) << "linking '" << outputPath << "' failed (exit "
                          << status << ")" << (message.empty() ? "" : ": ")
                          << message;
  return success();
}
