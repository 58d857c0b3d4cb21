//===- Safetensors.cpp - the safetensors format: reader and writer --------===//

#include "Safetensors.h"
#include "Status.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstring>

using namespace hope;
using namespace hope::rt;

/// Bytes per element of every byte-sized safetensors dtype; 0 if unknown.
static size_t fileDTypeSize(llvm::StringRef dtype) {
  return llvm::StringSwitch<size_t>(dtype)
      .Cases({"BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0"}, 1)
      .Cases({"I16", "U16", "F16", "BF16"}, 2)
      .Cases({"I32", "U32", "F32"}, 4)
      .Cases({"I64", "U64", "F64", "C64"}, 8)
      .Default(0);
}

static std::optional<hope_dtype> runtimeDType(llvm::StringRef dtype) {
  return llvm::StringSwitch<std::optional<hope_dtype>>(dtype)
      .Case("F32", HOPE_DTYPE_F32)
      .Case("F64", HOPE_DTYPE_F64)
      .Case("I64", HOPE_DTYPE_I64)
      .Default(std::nullopt);
}

static llvm::StringRef fileDType(hope_dtype dtype) {
  switch (dtype) {
  case HOPE_DTYPE_F32:
    return "F32";
  case HOPE_DTYPE_F64:
    return "F64";
  case HOPE_DTYPE_I64:
    return "I64";
  }
  return "";
}

/// A non-negative integer of a JSON array, or nothing.
static std::optional<int64_t> nonNegative(const llvm::json::Value &value) {
  std::optional<int64_t> integer = value.getAsInteger();
  if (!integer || *integer < 0)
    return std::nullopt;
  return integer;
}

llvm::Expected<SafetensorsFile> SafetensorsFile::open(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError(codeOf(buffer.getError()),
                     "cannot read '" + path +
                         "': " + buffer.getError().message());
  return parse(std::move(*buffer));
}

llvm::Expected<SafetensorsFile>
SafetensorsFile::parse(std::unique_ptr<llvm::MemoryBuffer> buffer) {
  const std::string path = buffer->getBufferIdentifier().str();
  const llvm::StringRef file = buffer->getBuffer();
  auto fail = [&](const llvm::Twine &message) {
    return makeError(HOPE_INVALID_FORMAT, path + ": " + message);
  };

  if (file.size() < 8)
    return fail("file is " + llvm::Twine(file.size()) +
                " bytes long, too short for the 8-byte header length");
  uint64_t headerSize = llvm::support::endian::read64le(file.data());
  if (headerSize > file.size() - 8)
    return fail("header length " + llvm::Twine(headerSize) + " exceeds the " +
                llvm::Twine(file.size() - 8) +
                " bytes after it (truncated file?)");
  llvm::StringRef header = file.substr(8, headerSize);
  llvm::StringRef data = file.substr(8 + headerSize);

  llvm::Expected<llvm::json::Value> json = llvm::json::parse(header);
  if (!json)
    return fail("header is not valid JSON: " + toString(json.takeError()));
  const llvm::json::Object *object = json->getAsObject();
  if (!object)
    return fail("header is not a JSON object");

  // Visit names in order so that the first error reported is stable.
  std::vector<std::string> names;
  for (const auto &member : *object)
    names.push_back(member.first.str());
  llvm::sort(names);

  SafetensorsFile result;
  struct Range {
    uint64_t begin, end;
  };
  std::vector<Range> ranges;
  for (const std::string &name : names) {
    const llvm::json::Value &value = *object->get(name);
    if (name == "__metadata__") {
      const llvm::json::Object *metadata = value.getAsObject();
      if (!metadata || llvm::any_of(*metadata, [](const auto &member) {
            return !member.second.getAsString();
          }))
        return fail("__metadata__ must map strings to strings");
      continue;
    }
    auto bad = [&](const llvm::Twine &message) {
      return fail("tensor '" + name + "' " + message);
    };
    const llvm::json::Object *fields = value.getAsObject();
    if (!fields)
      return bad("is not described by a JSON object");

    std::optional<llvm::StringRef> dtype = fields->getString("dtype");
    if (!dtype)
      return bad("has no string field 'dtype'");
    size_t itemSize = fileDTypeSize(*dtype);
    if (!itemSize)
      return bad("has an unknown dtype '" + *dtype + "'");

    const llvm::json::Array *shapeArray = fields->getArray("shape");
    if (!shapeArray)
      return bad("has no array field 'shape'");
    llvm::SmallVector<int64_t, 4> shape;
    for (const llvm::json::Value &size : *shapeArray) {
      std::optional<int64_t> dim = nonNegative(size);
      if (!dim)
        return bad("has a 'shape' that is not a list of non-negative "
                   "integers");
      shape.push_back(*dim);
    }

    const llvm::json::Array *offsets = fields->getArray("data_offsets");
    std::optional<int64_t> begin, end;
    if (offsets && offsets->size() == 2) {
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
                 llvm::Twine(data.size()) + " bytes; truncated file?)");

    std::optional<int64_t> bytes = 1;
    for (int64_t dim : shape)
      bytes = bytes ? llvm::checkedMul(*bytes, dim) : std::nullopt;
    if (bytes)
      bytes = llvm::checkedMul<int64_t>(*bytes, itemSize);
    if (!bytes || *bytes != *end - *begin)
      return bad("has dtype " + *dtype + " and shape " + formatShape(shape) +
                 " but " + range + " hold " + llvm::Twine(*end - *begin) +
                 " bytes");

    result.tensors.push_back(
        {name, dtype->str(), shape, data.substr(*begin, *end - *begin)});
    ranges.push_back({uint64_t(*begin), uint64_t(*end)});
  }

  // Sort by position, then require the ranges to tile the data exactly.
  std::vector<size_t> order(ranges.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  llvm::sort(order, [&](size_t a, size_t b) {
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
      return fail("data bytes [" + llvm::Twine(cursor) + ", " +
                  llvm::Twine(range.begin) + ") belong to no tensor");
    cursor = range.end;
  }
  if (cursor != data.size())
    return fail("the last " + llvm::Twine(data.size() - cursor) +
                " data bytes belong to no tensor");

  std::vector<SafetensorsEntry> sorted;
  for (size_t i : order)
    sorted.push_back(std::move(result.tensors[i]));
  result.tensors = std::move(sorted);
  result.buffer = std::move(buffer);
  return result;
}

const SafetensorsEntry *SafetensorsFile::find(llvm::StringRef name) const {
  for (const SafetensorsEntry &entry : tensors)
    if (entry.name == name)
      return &entry;
  return nullptr;
}

llvm::Expected<TensorRef>
SafetensorsFile::load(const SafetensorsEntry &entry) const {
  // The file is little-endian, as is every host this runtime targets.
  std::optional<hope_dtype> dtype = runtimeDType(entry.dtype);
  if (!dtype)
    return makeError(HOPE_UNSUPPORTED,
                     path() + ": tensor '" + entry.name + "' has dtype " +
                         entry.dtype +
                         ", which the runtime does not read (F32, F64, I64)");
  llvm::Expected<TensorRef> tensor = allocateTensor(*dtype, entry.shape);
  if (!tensor)
    return tensor.takeError();
  if (!entry.bytes.empty())
    std::memcpy((*tensor)->data, entry.bytes.data(), entry.bytes.size());
  return tensor;
}

llvm::Expected<TensorMapRef> rt::readSafetensors(llvm::StringRef path) {
  llvm::Expected<SafetensorsFile> file = SafetensorsFile::open(path);
  if (!file)
    return file.takeError();
  TensorMapRef map(new hope_tensor_map);
  for (const SafetensorsEntry &entry : file->entries()) {
    llvm::Expected<TensorRef> tensor = file->load(entry);
    if (!tensor)
      return tensor.takeError();
    map->set(entry.name, std::move(*tensor));
  }
  return map;
}

llvm::Error rt::writeSafetensors(llvm::StringRef path,
                                 const hope_tensor_map &map) {
  // Lay the tensors out back to back, in order.
  llvm::json::Object header;
  std::vector<TensorRef> dense;
  uint64_t offset = 0;
  for (const auto &[name, tensor] : map.entries) {
    if (name == "__metadata__")
      return makeError(HOPE_INVALID_ARGUMENT,
                       path + ": the tensor name '__metadata__' is reserved");
    llvm::Expected<TensorRef> contiguous = toDense(tensor);
    if (!contiguous)
      return contiguous.takeError();
    uint64_t bytes = numElements(*tensor) * sizeOf(tensor->dtype);
    header[name] = llvm::json::Object{
        {"dtype", fileDType(tensor->dtype)},
        {"shape", llvm::json::Array(tensor->shape)},
        {"data_offsets", llvm::json::Array({offset, offset + bytes})}};
    offset += bytes;
    dense.push_back(std::move(*contiguous));
  }
  std::string text;
  llvm::raw_string_ostream(text) << llvm::json::Value(std::move(header));
  // Pad with spaces so that the data starts 8-byte aligned, as the
  // reference writer does.
  text.append((8 - text.size() % 8) % 8, ' ');

  llvm::Error error =
      llvm::writeToOutput(path, [&](llvm::raw_ostream &os) -> llvm::Error {
        char size[8];
        llvm::support::endian::write64le(size, text.size());
        os.write(size, 8);
        os << text;
        for (const TensorRef &tensor : dense)
          os.write(static_cast<const char *>(tensor->data),
                   numElements(*tensor) * sizeOf(tensor->dtype));
        return llvm::Error::success();
      });
  if (error)
    return makeError(HOPE_IO_ERROR, "cannot write '" + path +
                                        "': " + toString(std::move(error)));
  return llvm::Error::success();
}
