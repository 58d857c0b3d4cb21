//===- TensorFile.cpp - safetensors writer and reader with a checksum -----===//

#include "TensorFile.h"

#include "AtomicFile.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/xxhash.h"

#include <algorithm>

using namespace llvm;

namespace hope::train {

static constexpr StringLiteral kChecksumKey = "checksum";

size_t getElementSize(hope_dtype dtype) {
  if (dtype != HOPE_DTYPE_F32 && dtype != HOPE_DTYPE_F64 &&
      dtype != HOPE_DTYPE_I64)
    return 0;
  size_t size = 0;
  hope_status_free(hope_dtype_size(dtype, &size));
  return size;
}

static StringRef getFileDtype(hope_dtype dtype) {
  return dtype == HOPE_DTYPE_F32 ? "F32" : dtype == HOPE_DTYPE_F64 ? "F64" : "I64";
}

/// What the checksum covers, as one string (see the file comment of
/// TensorFile.h): the order of the tensors is that of their data.
static std::string checksummedText(ArrayRef<TensorView> tensors,
                                   const Metadata &metadata,
                                   StringRef data) {
  std::string text;
  for (const TensorView &tensor : tensors) {
    text += tensor.name;
    text += '\0';
    text += getFileDtype(tensor.dtype);
    for (int64_t size : tensor.shape)
      text += " " + std::to_string(size);
    text += '\0';
  }
  for (const auto &[key, value] : metadata)
    if (key != kChecksumKey)
      text += key + '\0' + value + '\0';
  text += data;
  return text;
}

static std::string checksumOf(ArrayRef<TensorView> tensors,
                              const Metadata &metadata, StringRef data) {
  return "xxh3-64:" +
         utohexstr(xxh3_64bits(checksummedText(tensors, metadata, data)),
                   /*LowerCase=*/true, 16);
}

std::string formatTensorFile(ArrayRef<TensorView> tensors,
                             const Metadata &metadata) {
  std::string data;
  json::Object header;
  for (const TensorView &tensor : tensors) {
    size_t begin = data.size();
    data.append(tensor.bytes.begin(), tensor.bytes.end());
    header[tensor.name] = json::Object{
        {"dtype", getFileDtype(tensor.dtype)},
        {"shape", json::Array(tensor.shape)},
        {"data_offsets", json::Array{int64_t(begin), int64_t(data.size())}}};
  }
  json::Object meta;
  for (const auto &[key, value] : metadata)
    meta[key] = value;
  meta[kChecksumKey] = checksumOf(tensors, metadata, data);
  header["__metadata__"] = std::move(meta);
  std::string headerText = formatv("{0}", json::Value(std::move(header)));
  // Pad with spaces so that the data starts 8-byte aligned.
  headerText.append((8 - headerText.size() % 8) % 8, ' ');
  std::string file(8, '\0');
  support::endian::write64le(file.data(), headerText.size());
  return file + headerText + data;
}

Error writeTensorFile(StringRef path, ArrayRef<TensorView> tensors,
                      const Metadata &metadata,
                      function_ref<Error()> beforeRename) {
  return writeFileAtomically(path, formatTensorFile(tensors, metadata),
                             beforeRename);
}

const TensorData *TensorFile::find(StringRef name) const {
  for (const TensorData &tensor : tensors)
    if (tensor.name == name)
      return &tensor;
  return nullptr;
}

namespace {
/// One tensor of the header before its bytes are copied.
struct HeaderEntry {
  TensorData tensor;
  uint64_t begin, end;
};
} // namespace

Expected<TensorFile> readTensorFile(StringRef path, bool requireChecksum) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> buffer =
      MemoryBuffer::getFile(path, /*IsText=*/false,
                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return createStringError(path + ": " + buffer.getError().message());
  StringRef bytes = (*buffer)->getBuffer();
  auto corrupt = [&](const Twine &why) {
    return createStringError(path + ": corrupted or not a safetensors file: " +
                             why);
  };
  if (bytes.size() < 8)
    return corrupt("shorter than its 8-byte header length");
  uint64_t headerSize = support::endian::read64le(bytes.data());
  if (headerSize > bytes.size() - 8)
    return corrupt("the header length " + Twine(headerSize) +
                   " exceeds the file");
  Expected<json::Value> header = json::parse(bytes.substr(8, headerSize));
  if (!header)
    return corrupt("the header is not JSON (" + toString(header.takeError()) +
                   ")");
  const json::Object *root = header->getAsObject();
  if (!root)
    return corrupt("the header is not a JSON object");
  StringRef data = bytes.substr(8 + headerSize);

  TensorFile file;
  std::vector<HeaderEntry> entries;
  for (const auto &[key, value] : *root) {
    if (key == "__metadata__") {
      const json::Object *meta = value.getAsObject();
      if (!meta)
        return corrupt("__metadata__ is not an object");
      for (const auto &[metaKey, metaValue] : *meta) {
        std::optional<StringRef> text = metaValue.getAsString();
        if (!text)
          return corrupt("__metadata__ entry '" + metaKey.str() +
                         "' is not a string");
        file.metadata[metaKey.str()] = text->str();
      }
      continue;
    }
    const json::Object *spec = value.getAsObject();
    const json::Array *shape = spec ? spec->getArray("shape") : nullptr;
    const json::Array *offsets = spec ? spec->getArray("data_offsets") : nullptr;
    std::optional<StringRef> dtype = spec ? spec->getString("dtype") : std::nullopt;
    if (!shape || !offsets || !dtype || offsets->size() != 2)
      return corrupt("tensor '" + key.str() +
                     "' lacks dtype, shape or data_offsets");
    HeaderEntry entry;
    entry.tensor.name = key.str();
    entry.tensor.dtype = *dtype == "F32"   ? HOPE_DTYPE_F32
                         : *dtype == "F64" ? HOPE_DTYPE_F64
                         : *dtype == "I64" ? HOPE_DTYPE_I64
                                           : hope_dtype(0);
    if (!entry.tensor.dtype)
      return corrupt("tensor '" + key.str() + "' has dtype " + *dtype +
                     " (expected F32, F64 or I64)");
    uint64_t count = 1;
    for (const json::Value &size : *shape) {
      std::optional<int64_t> dim = size.getAsInteger();
      if (!dim || *dim < 0 || (*dim && count > (uint64_t(1) << 48) / *dim))
        return corrupt("tensor '" + key.str() + "' has a bad shape");
      entry.tensor.shape.push_back(*dim);
      count *= uint64_t(*dim);
    }
    std::optional<int64_t> begin = (*offsets)[0].getAsInteger();
    std::optional<int64_t> end = (*offsets)[1].getAsInteger();
    if (!begin || !end || *begin < 0 || *end < *begin ||
        uint64_t(*end) > data.size() ||
        uint64_t(*end - *begin) != count * getElementSize(entry.tensor.dtype))
      return corrupt("tensor '" + key.str() +
                     "' has data_offsets that do not fit its shape or the file");
    entry.begin = uint64_t(*begin);
    entry.end = uint64_t(*end);
    entries.push_back(std::move(entry));
  }
  llvm::sort(entries, [](const HeaderEntry &a, const HeaderEntry &b) {
    return a.begin < b.begin;
  });
  uint64_t covered = 0;
  for (HeaderEntry &entry : entries) {
    if (entry.begin != covered)
      return corrupt("the tensors' data overlap or leave a gap at byte " +
                     Twine(covered));
    covered = entry.end;
    StringRef bytes = data.substr(entry.begin, entry.end - entry.begin);
    entry.tensor.bytes.assign(bytes.begin(), bytes.end());
    file.tensors.push_back(std::move(entry.tensor));
  }
  if (covered != data.size())
    return corrupt(Twine(data.size() - covered) +
                   " bytes after the last tensor");

  auto stored = file.metadata.find(std::string(kChecksumKey));
  if (stored == file.metadata.end()) {
    if (requireChecksum)
      return createStringError(path + ": has no checksum (not written by "
                                      "hope-train)");
    return std::move(file);
  }
  std::vector<TensorView> views;
  for (const TensorData &tensor : file.tensors)
    views.push_back(tensor.view());
  std::string computed = checksumOf(views, file.metadata, data);
  if (computed != stored->second)
    return createStringError(path + ": corrupted: the checksum is " +
                             computed + " but the file records " +
                             stored->second);
  return std::move(file);
}

} // namespace hope::train
