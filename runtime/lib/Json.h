//===- Json.h - parsing untrusted JSON, bounded ------------------*- C++ -*-===//
//
// Manifests and safetensors headers come from files a user names. The
// parser bounds nesting (a deeply nested file is an error, not a stack
// overflow in a later recursive walk) and refuses duplicate keys (which a
// plain parse resolves silently, last one wins).
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_RUNTIME_LIB_JSON_H
#define HOPE_RUNTIME_LIB_JSON_H

#include "hope/runtime.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace hope::rt {

using Json = nlohmann::json;

/// The deepest nesting of arrays and objects accepted.
constexpr int kMaxJsonDepth = 64;

/// Parses `text`. The error (HOPE_INVALID_FORMAT) has no prefix: "not valid
/// JSON: ...", "nested deeper than 64 levels", "duplicate key 'x'".
Expected<Json> parseJson(std::string_view text);

/// Reads typed fields of a parsed document, naming the path of the first
/// missing or ill-typed one: "missing value at manifest.target.cpu".
class JsonReader {
public:
  /// The error reported, if any ("expected string at manifest.model").
  const std::string &error() const { return message; }
  bool failed() const { return !message.empty(); }

  /// Each returns false (reporting once) if `value` is not of its type.
  bool object(const Json &value, const std::string &where);
  bool read(const Json &value, const std::string &where, std::string &out);
  bool read(const Json &value, const std::string &where, int64_t &out);
  bool read(const Json &value, const std::string &where, bool &out);
  /// The member `key` of the object `value`, which must exist.
  const Json *member(const Json &value, const std::string &where,
                     const char *key);

  /// `where` + "." + key, `where` + "[i]".
  static std::string field(const std::string &where, const char *key) {
    return where + "." + key;
  }
  static std::string element(const std::string &where, size_t index) {
    return where + "[" + std::to_string(index) + "]";
  }

  /// Reports `what` at `where` ("expected ... at where").
  bool report(const std::string &what, const std::string &where);

private:
  std::string message;
};

} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_JSON_H
