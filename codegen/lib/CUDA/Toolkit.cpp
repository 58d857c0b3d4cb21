//===- Toolkit.cpp - where the CUDA toolkit is ------------------------===//

#include "Toolkit.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

std::string nl::cuda::toolkitRoot(StringRef option) {
  if (!option.empty())
    return option.str();
  for (const char *name : {"CUDA_ROOT", "CUDA_HOME"})
    if (std::optional<std::string> value = llvm::sys::Process::GetEnv(name))
      if (!value->empty())
        return *value;
  return "/usr/local/cuda";
}

FailureOr<nl::cuda::PtxasOutput> nl::cuda::runPtxas(StringRef root,
                                                   StringRef ptx,
                                                   StringRef chip,
                                                   std::string &error) {
  SmallString<128> bin(root);
  llvm::sys::path::append(bin, "bin");
  llvm::ErrorOr<std::string> ptxas =
      llvm::sys::findProgramByName("ptxas", {bin.str()});
  if (!ptxas)
    ptxas = llvm::sys::findProgramByName("ptxas");
  if (!ptxas) {
    error = ("ptxas not found in " + root + "/bin or on PATH (set --toolkit "
             "or CUDA_ROOT)")
                .str();
    return failure();
  }
  SmallString<128> input, output, log;
  auto temporary = [&](StringRef suffix, SmallString<128> &path) {
    return llvm::sys::fs::createTemporaryFile("hope-kernel", suffix, path);
  };
  if (temporary("ptx", input) || temporary("cubin", output) ||
      temporary("log", log)) {
    error = "cannot create a temporary file";
    return failure();
  }
  llvm::scope_exit cleanup([&] {
    llvm::sys::fs::remove(input);
    llvm::sys::fs::remove(output);
    llvm::sys::fs::remove(log);
  });
  {
    std::error_code code;
    llvm::raw_fd_ostream os(input, code);
    if (code) {
      error = ("cannot write " + input + ": " + code.message()).str();
      return failure();
    }
    os << ptx;
  }
  std::string arch = ("-arch=" + chip).str();
  SmallVector<StringRef> args = {*ptxas, "-v", "-O3", arch, input, "-o", output};
  std::optional<StringRef> redirects[] = {std::nullopt, StringRef(log),
                                          StringRef(log)};
  std::string message;
  int status = llvm::sys::ExecuteAndWait(*ptxas, args, std::nullopt,
                                         redirects, 0, 0, &message);
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> report =
      llvm::MemoryBuffer::getFile(log);
  PtxasOutput result;
  result.report = report ? (*report)->getBuffer().str() : "";
  if (status != 0) {
    error = ("ptxas failed for " + chip + ": " + message + "\n" +
             result.report)
                .str();
    return failure();
  }
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> cubin =
      llvm::MemoryBuffer::getFile(output, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!cubin) {
    error = ("ptxas wrote no cubin for " + chip).str();
    return failure();
  }
  result.cubin = (*cubin)->getBuffer().str();
  return result;
}
