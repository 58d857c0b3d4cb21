//===- ToolSupport.h - what every command-line tool guards against --------===//
//
// The compiler's tools read files users hand them and run MLIR's recursive
// parser and passes on them. These helpers turn the inputs that would crash
// or hang them (a device, an endless stream, IR nested past the stack, an
// output folder that does not exist) into one-line errors, and point crash
// reports at this project.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_TOOLS_SUPPORT_TOOLSUPPORT_H
#define HOPE_TOOLS_SUPPORT_TOOLSUPPORT_H

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <memory>

namespace hope::tools {

/// The options of readInput (--max-input-size, --max-nesting): a tool that
/// hides unrelated options lists this category among its own.
llvm::cl::OptionCategory &getInputLimitsCategory();

/// Reads `path` ("-": stdin) if it is a regular file (or stdin) of at most
/// `maxBytes`; anything else (a device, a folder, a larger file or stream) is
/// an error naming it, found before reading more than `maxBytes` + 1 bytes.
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readRegularFile(llvm::StringRef path, uint64_t maxBytes);

/// An error naming the first place where `text` nests brackets ( [ { < deeper
/// than `maxDepth`, as "<name>:<line>:<column>: ...", outside string
/// literals and // comments. A cheap bound on the recursion of MLIR's parser
/// (one level of its stack per region, block list or attribute nesting).
llvm::Error checkNestingDepth(const llvm::MemoryBuffer &text,
                              unsigned maxDepth);

/// readRegularFile and checkNestingDepth with the limits of the options.
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readInput(llvm::StringRef path);

/// An error if `path` ("-": stdout) cannot be created: its folder is missing
/// or not writable, or it names a folder. Checked before a long compile.
llvm::Error checkOutputPath(llvm::StringRef path);

/// The stack of the thread runOnLargeStack starts, in bytes: parsing and
/// verifying IR nested --max-nesting deep fits in it.
constexpr unsigned kToolStackBytes = 512u << 20;

/// Runs `body` on a thread with a kToolStackBytes stack and returns its exit
/// code: MLIR's parser and passes recurse once per nesting level.
int runOnLargeStack(llvm::function_ref<int()> body);

/// Crash reports (LLVM's pretty stack trace) ask for a report to this
/// project, not to llvm-project.
void setBugReportMessage();

} // namespace hope::tools

#endif // HOPE_TOOLS_SUPPORT_TOOLSUPPORT_H
