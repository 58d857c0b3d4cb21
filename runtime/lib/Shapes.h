//===- Shapes.h - matching shapes against a manifest's ----------*- C++ -*-===//

#ifndef HOPE_RUNTIME_LIB_SHAPES_H
#define HOPE_RUNTIME_LIB_SHAPES_H

#include "Manifest.h"
#include "Tensor.h"

#include <map>
#include <optional>
#include <string>

namespace hope::rt {

/// Whether `shape` has the rank and the static sizes of `spec` (symbolic
/// sizes match anything).
bool matchesStatically(const TensorSpec &spec, Shape shape);

/// The sizes of symbolic dimensions, bound by the first tensor that has one.
class DimBindings {
public:
  /// Matches `shape` against `spec`, binding its new symbolic sizes (only if
  /// it matches). Returns nullopt on a match; else why not: "" for a wrong
  /// rank or static size, or " (B = 2 from input 'x')" for a symbolic size
  /// bound differently before.
  std::optional<std::string> match(const TensorSpec &spec, Shape shape,
                                   const std::string &source);

private:
  struct Binding {
    int64_t size;
    std::string source;
  };
  std::map<std::string, Binding> bindings;
};

} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_SHAPES_H
