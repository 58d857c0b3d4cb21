//===- CompileCache.cpp - hope-compile --train into a cache folder --------===//

#include "CompileCache.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/xxhash.h"

#include <unistd.h>

using namespace llvm;

namespace hope::train {

std::vector<std::string> getTrainingFlags(const CompileOptions &options) {
  return {"--train",
          "--optimizer=" + options.optimizer,
          formatv("--weight-decay={0}", format("%.17g", options.weightDecay)),
          formatv("--clip={0}", format("%.17g", options.clip)),
          "--warmup=" + std::to_string(options.warmup),
          "--total-steps=" + std::to_string(options.totalSteps)};
}

std::string getCachedArtifactName(StringRef modulePath, StringRef moduleBytes,
                                  const CompileOptions &options) {
  std::string key = moduleBytes.str();
  for (const std::string &flag : getTrainingFlags(options))
    key += '\0' + flag;
  return (sys::path::stem(modulePath) + "-train-" +
          utohexstr(xxh3_64bits(key), /*LowerCase=*/true, 16) + ".so")
      .str();
}

Expected<std::string> compileForTraining(StringRef compiler,
                                         StringRef modulePath,
                                         const CompileOptions &options,
                                         StringRef cacheDir, raw_ostream &log) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> module =
      MemoryBuffer::getFile(modulePath, /*IsText=*/false,
                            /*RequiresNullTerminator=*/false);
  if (!module)
    return createStringError("--module=" + modulePath + ": " +
                             module.getError().message());
  SmallString<256> artifact(cacheDir);
  sys::path::append(artifact, getCachedArtifactName(
                                  modulePath, (*module)->getBuffer(), options));
  if (sys::fs::exists(artifact)) {
    log << "hope-train: using the cached artifact " << artifact << "\n";
    return std::string(artifact);
  }
  if (std::error_code error = sys::fs::create_directories(cacheDir))
    return createStringError("cannot create " + cacheDir + ": " +
                             error.message());
  if (!sys::fs::can_execute(compiler))
    return createStringError("cannot run " + compiler +
                             " (hope-compile is expected beside hope-train)");
  // A partial artifact never carries the cached name: compile to a
  // temporary one, then rename.
  std::string temporary =
      (artifact + ".tmp" + Twine(::getpid()) + ".so").str();
  std::vector<std::string> args = {compiler.str(), modulePath.str()};
  for (std::string &flag : getTrainingFlags(options))
    args.push_back(std::move(flag));
  args.push_back("-o");
  args.push_back(temporary);
  std::vector<StringRef> argv(args.begin(), args.end());
  log << "hope-train: compiling: " << join(argv, " ") << "\n";
  log.flush();
  std::string message;
  int code = sys::ExecuteAndWait(compiler, argv, std::nullopt, {}, 0, 0,
                                 &message);
  if (code != 0) {
    sys::fs::remove(temporary);
    return createStringError(
        "hope-compile --train failed on " + modulePath +
        (message.empty() ? " (exit code " + std::to_string(code) + ")"
                         : ": " + message));
  }
  if (std::error_code error = sys::fs::rename(temporary, artifact))
    return createStringError("cannot rename " + temporary + ": " +
                             error.message());
  return std::string(artifact);
}

} // namespace hope::train
