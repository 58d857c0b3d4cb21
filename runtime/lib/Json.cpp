//===- Json.cpp - parsing untrusted JSON, bounded -------------------------===//

#include "Json.h"
#include "Status.h"

#include <set>
#include <vector>

using namespace hope;
using namespace hope::rt;

namespace {
/// Thrown from the parser's callback to stop it.
struct Refused {
  std::string message;
};
} // namespace

Expected<Json> rt::parseJson(std::string_view text) {
  // The keys seen in each open object, innermost last.
  std::vector<std::set<std::string>> keys;
  auto callback = [&](int depth, Json::parse_event_t event, Json &parsed) {
    switch (event) {
    case Json::parse_event_t::object_start:
    case Json::parse_event_t::array_start:
      if (depth >= kMaxJsonDepth)
        throw Refused{"nested deeper than " + std::to_string(kMaxJsonDepth) +
                      " levels"};
      if (event == Json::parse_event_t::object_start)
        keys.emplace_back();
      break;
    case Json::parse_event_t::object_end:
      keys.pop_back();
      break;
    case Json::parse_event_t::key:
      if (!keys.back().insert(parsed.get<std::string>()).second)
        throw Refused{"duplicate key '" + parsed.get<std::string>() + "'"};
      break;
    default:
      break;
    }
    return true;
  };
  try {
    return Json::parse(text.data(), text.data() + text.size(), callback);
  } catch (const Refused &refused) {
    return makeError(HOPE_INVALID_FORMAT, refused.message);
  } catch (const Json::exception &error) {
    return makeError(HOPE_INVALID_FORMAT,
                     std::string("not valid JSON: ") + error.what());
  } catch (const std::bad_alloc &) {
    return makeError(HOPE_OUT_OF_MEMORY, "out of memory parsing JSON");
  }
}

bool JsonReader::report(const std::string &what, const std::string &where) {
  if (message.empty())
    message = what + " at " + where;
  return false;
}

bool JsonReader::object(const Json &value, const std::string &where) {
  return value.is_object() || report("expected object", where);
}

bool JsonReader::read(const Json &value, const std::string &where,
                      std::string &out) {
  if (!value.is_string())
    return report("expected string", where);
  out = value.get<std::string>();
  return true;
}

bool JsonReader::read(const Json &value, const std::string &where,
                      bool &out) {
  if (!value.is_boolean())
    return report("expected boolean", where);
  out = value.get<bool>();
  return true;
}

bool JsonReader::read(const Json &value, const std::string &where,
                      int64_t &out) {
  if (value.is_number_integer()) {
    if (value.is_number_unsigned() &&
        value.get<uint64_t>() > uint64_t(INT64_MAX))
      return report("expected integer", where);
    out = value.get<int64_t>();
    return true;
  }
  return report("expected integer", where);
}

const Json *JsonReader::member(const Json &value, const std::string &where,
                               const char *key) {
  auto it = value.find(key);
  if (it == value.end()) {
    report("missing value", field(where, key));
    return nullptr;
  }
  return &*it;
}
