//===- Formulas.h - the manifest's kernel cost formulas -------------------===//
//
// A formula (docs/artifact-abi.md, "Kernel costs") is a number, a dynamic
// size's name ("x[0]"), or a prefix expression: ["+", e...], ["*", e...],
// ["ceildiv", a, b], ["floordiv", a, b], ["max", a, b], ["min", a, b].
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_TOOLS_HOPE_INSPECT_FORMULAS_H
#define HOPE_TOOLS_HOPE_INSPECT_FORMULAS_H

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <set>
#include <string>

namespace hope::inspect {

/// The value of `formula` at `sizes`; an error names a size it lacks or a
/// malformed expression.
llvm::Expected<double> evaluate(const llvm::json::Value &formula,
                                const llvm::StringMap<double> &sizes);
/// Adds the size names `formula` mentions to `names`.
void collectSizes(const llvm::json::Value &formula, std::set<std::string> &names);
/// "ceildiv(384*x[0]*x[1], 256)".
std::string print(const llvm::json::Value &formula);

} // namespace hope::inspect

#endif // HOPE_TOOLS_HOPE_INSPECT_FORMULAS_H
