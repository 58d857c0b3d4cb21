//===- Safetensors.cpp - the safetensors format: reader and writer --------===//

#include "Safetensors.h"
#include "Status.h"

#include "Json.h"

#include <algorithm>
#include <cstring>

using namespace hope;
using namespace hope::rt;

/// Bytes per element of every byte-sized safetensors dtype; 0 if unknown.
static size_t fileDTypeSize(const std::string &dtype) {
  for (const char *name : {"BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0"})
    if (dtype == name)
      return 1;
  for (const char *name : {"I16", "U16", "F16", "BF16"})
    if (dtype == name)
      return 2;
  for (const char *name : {"I32", "U32", "F32"})
    if (dtype == name)
      return 4;
  for (const char *name : {"I64", "U64", "F64", "C64"})
    if (dtype == name)
      return 8;
  return 0;
}

static std::optional<hope_dtype> runtimeDType(const std::string &dtype) {
  if (dtype == "F32")
    return HOPE_DTYPE_F32;
  if (dtype == "F64")
    return HOPE_DTYPE_F64;
  if (dtype == "I64")
    return HOPE_DTYPE_I64;
  return std::nullopt;
}

static const char *fileDType(hope_dtype dtype) {
  switch (dtype) {
  case HOPE_DTYPE_F32:
    return "F32";
  case HOPE_DTYPE_F64:
    return "F64";
  case HOPE_DTYPE_I64:
    return "I64";
  default:
    return "";
  }
}

/// A non-negative integer of a JSON array, or nothing.
static std::optional<int64_t> nonNegative(const Json &value) {
  if (!value.is_number_integer())
    return std::nullopt;
  if (value.is_number_unsigned())
    return value.get<uint64_t>() <= uint64_t(INT64_MAX)
               ? std::optional<int64_t>(value.get<int64_t>())
               : std::nullopt;
  int64_t integer = value.get<int64_t>();
  return integer < 0 ? std::nullopt : std::optional<int64_t>(integer);
}

static uint64_t read64le(const char *p) {
  uint64_t value = 0;
  for (size_t i = 8; i-- > 0;)
    value = (value << 8) | uint8_t(p[i]);
  return value;
}

Expected<SafetensorsFile> SafetensorsFile::open(const std::string &path) {
  Expected<FileBytes> file = FileBytes::open(path);
  if (!file)
    return file.takeError();
  return parse(std::move(*file));
}

Expected<SafetensorsFile> SafetensorsFile::parse(FileBytes bytes) {
  const std::string path = bytes.name();
  const std::string_view file = bytes.bytes();
  auto fail = [&](const std::string &message) {
    return makeError(HOPE_INVALID_FORMAT, path + ": " + message);
  };

  if (file.size() < 8)
    return fail("file is " + std::to_string(file.size()) +
                " bytes long, too short for the 8-byte header length");
  uint64_t headerSize = read64le(file.data());
  if (headerSize > file.size() - 8)
    return fail("header length " + std::to_string(headerSize) +
                " exceeds the " + std::to_string(file.size() - 8) +
                " bytes after it (truncated file?)");
  std::string_view header = file.substr(8, headerSize);
  std::string_view data = file.substr(8 + headerSize);

  Expected<Json> json = parseJson(header);
  if (!json)
    return fail("header: " + json.getError().message());
  if (!json->is_object())
    return fail("header is not a JSON object");

  // Visit names in order so that the first error reported is stable (the
  // object's keys are sorted).
  std::vector<std::string> names;
  for (const auto &member : json->items())
    names.push_back(member.key());

  SafetensorsFile result;
  struct Range {
    uint64_t begin, end;
  };
  std::vector<Range> ranges;
  for (const std::string &name : names) {
    const Json &value = (*json)[name];
    if (name == "__metadata__") {
      if (!value.is_object() ||
          std::any_of(value.begin(), value.end(),
                      [](const Json &member) { return !member.is_string(); }))
        return fail("__metadata__ must map strings to strings");
      continue;
    }
    auto bad = [&](const std::string &message) {
      return fail("tensor '" + name + "' " + message);
    };
    if (!value.is_object())
      return bad("is not described by a JSON object");

    auto dtypeField = value.find("dtype");
    if (dtypeField == value.end() || !dtypeField->is_string())
      return bad("has no string field 'dtype'");
    std::string dtype = dtypeField->get<std::string>();
    size_t itemSize = fileDTypeSize(dtype);
    if (!itemSize)
      return bad("has an unknown dtype '" + dtype + "'");

    auto shapeArray = value.find("shape");
    if (shapeArray == value.end() || !shapeArray->is_array())
      return bad("has no array field 'shape'");
    std::vector<int64_t> shape;
    for (const Json &size : *shapeArray) {
      std::optional<int64_t> dim = nonNegative(size);
      if (!dim)
        return bad("has a 'shape' that is not a list of non-negative "
                   "integers");
      shape.push_back(*dim);
    }

    auto offsets = value.find("data_offsets");
    std::optional<int64_t> begin, end;
    if (offsets != value.end() && offsets->is_array() && offsets->size() == 2) {
      begin = nonNegative((*offsets)[0]);
      end = nonNegative((*offsets)[1]);
    }
    if (!begin || !end)
      return bad("has no field 'data_offsets' of two non-negative integers");
    std::string range = "data_offsets [" + std::to_string(*begin) + ", " +
                        std::to_string(*end) + "]";
    if (*begin > *end)
      return bad("has " + range + " that end before they begin");
    if (uint64_t(*end) > data.size())
      return bad("has " + range + " past the end of the data (" +
                 std::to_string(data.size()) + " bytes; truncated file?)");

    int64_t bytes = 1;
    bool overflow = false;
    for (int64_t dim : shape)
      overflow |= __builtin_mul_overflow(bytes, dim, &bytes);
    overflow |= __builtin_mul_overflow(bytes, int64_t(itemSize), &bytes);
    if (overflow || bytes != *end - *begin)
      return bad("has dtype " + dtype + " and shape " + formatShape(shape) +
                 " but " + range + " hold " + std::to_string(*end - *begin) +
                 " bytes");

    result.tensors.push_back(
        {name, dtype, shape, data.substr(*begin, *end - *begin)});
    ranges.push_back({uint64_t(*begin), uint64_t(*end)});
  }

  // Sort by position, then require the ranges to tile the data exactly.
  std::vector<size_t> order(ranges.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::make_pair(ranges[a].begin, ranges[a].end) <
           std::make_pair(ranges[b].begin, ranges[b].end);
  });
  uint64_t cursor = 0;
  for (size_t k = 0; k < order.size(); ++k) {
    const Range &range = ranges[order[k]];
    if (range.begin < cursor)
      return fail("tensors '" + result.tensors[order[k - 1]].name + "' and '" +
                  result.tensors[order[k]].name + "' overlap");
    if (range.begin > cursor)
      return fail("data bytes [" + std::to_string(cursor) + ", " +
                  std::to_string(range.begin) + ") belong to no tensor");
    cursor = range.end;
  }
  if (cursor != data.size())
    return fail("the last " + std::to_string(data.size() - cursor) +
                " data bytes belong to no tensor");

  std::vector<SafetensorsEntry> sorted;
  for (size_t i : order)
    sorted.push_back(std::move(result.tensors[i]));
  result.tensors = std::move(sorted);
  result.file = std::move(bytes);
  return result;
}

const SafetensorsEntry *SafetensorsFile::find(std::string_view name) const {
  for (const SafetensorsEntry &entry : tensors)
    if (entry.name == name)
      return &entry;
  return nullptr;
}

Expected<TensorRef> SafetensorsFile::load(const SafetensorsEntry &entry) const {
  // The file is little-endian, as is every host this runtime targets.
  std::optional<hope_dtype> dtype = runtimeDType(entry.dtype);
  if (!dtype)
    return makeError(HOPE_UNSUPPORTED,
                     path() + ": tensor '" + entry.name + "' has dtype " +
                         entry.dtype +
                         ", which the runtime does not read (F32, F64, I64)");
  Expected<TensorRef> tensor = allocateTensor(*dtype, entry.shape);
  if (!tensor)
    return tensor.takeError();
  if (!entry.bytes.empty())
    std::memcpy((*tensor)->data, entry.bytes.data(), entry.bytes.size());
  return tensor;
}

Expected<TensorMapRef> rt::readSafetensors(const std::string &path) {
  Expected<SafetensorsFile> file = SafetensorsFile::open(path);
  if (!file)
    return file.takeError();
  TensorMapRef map(new hope_tensor_map);
  for (const SafetensorsEntry &entry : file->entries()) {
    Expected<TensorRef> tensor = file->load(entry);
    if (!tensor)
      return tensor.takeError();
    map->set(entry.name, std::move(*tensor));
  }
  return map;
}

Error rt::writeSafetensors(const std::string &path,
                           const hope_tensor_map &map) {
  // Lay the tensors out back to back, in order.
  Json header = Json::object();
  std::vector<TensorRef> dense;
  uint64_t offset = 0;
  for (const auto &[name, tensor] : map.entries) {
    if (name == "__metadata__")
      return makeError(HOPE_INVALID_ARGUMENT,
                       path + ": the tensor name '__metadata__' is reserved");
    Expected<TensorRef> contiguous = toDense(tensor);
    if (!contiguous)
      return contiguous.takeError();
    uint64_t bytes = numElements(*tensor) * sizeOf(tensor->dtype);
    header[name] = {{"dtype", fileDType(tensor->dtype)},
                    {"shape", tensor->shape},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    dense.push_back(std::move(*contiguous));
  }
  // Names are the caller's bytes: invalid UTF-8 is replaced, not thrown.
  std::string text =
      header.dump(-1, ' ', false, Json::error_handler_t::replace);
  // Pad with spaces so that the data starts 8-byte aligned, as the
  // reference writer does.
  text.append((8 - text.size() % 8) % 8, ' ');

  return writeFileAtomically(path, [&](const auto &out) {
    char size[8];
    uint64_t length = text.size();
    for (size_t i = 0; i < 8; ++i, length >>= 8)
      size[i] = char(length & 0xff);
    out(size, 8);
    out(text.data(), text.size());
    for (const TensorRef &tensor : dense)
      out(tensor->data, numElements(*tensor) * sizeOf(tensor->dtype));
  });
}
