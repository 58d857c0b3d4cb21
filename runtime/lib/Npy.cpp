//===- Npy.cpp - NumPy's .npy format: reader and writer -------------------===//

#include "Npy.h"
#include "Status.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace hope;
using namespace hope::rt;

static constexpr llvm::StringLiteral magic("\x93NUMPY");

namespace {
/// The header's dict. NumPy writes it with repr(); this reads the subset
/// repr() produces for plain arrays: string keys, and values that are
/// strings, booleans or tuples of integers.
struct NpyHeader {
  std::optional<std::string> descr;
  std::optional<bool> fortranOrder;
  std::optional<llvm::SmallVector<int64_t, 4>> shape;
};

class HeaderParser {
public:
  explicit HeaderParser(llvm::StringRef text) : rest(text) {}

  /// Parses the dict; the error text says what was expected where.
  std::optional<std::string> parse(NpyHeader &header) {
    if (!consume('{'))
      return expected("'{'");
    while (!consume('}')) {
      std::string key;
      if (!string(key))
        return expected("a quoted key");
      if (!consume(':'))
        return expected("':' after '" + key + "'");
      if (key == "descr") {
        std::string descr;
        if (!string(descr))
          return "'descr' is not a simple dtype string (structured arrays "
                 "are not supported)";
        header.descr = descr;
      } else if (key == "fortran_order") {
        if (consumeWord("True"))
          header.fortranOrder = true;
        else if (consumeWord("False"))
          header.fortranOrder = false;
        else
          return expected("True or False for 'fortran_order'");
      } else if (key == "shape") {
        llvm::SmallVector<int64_t, 4> shape;
        if (auto error = tuple(shape))
          return error;
        header.shape = shape;
      } else {
        return "unexpected key '" + key + "'";
      }
      if (!consume(',') && !peek('}'))
        return expected("',' or '}'");
    }
    skipSpaces();
    if (!rest.empty())
      return "unexpected text after the dict";
    return std::nullopt;
  }

private:
  void skipSpaces() { rest = rest.ltrim(" \t\n\r"); }
  bool peek(char c) {
    skipSpaces();
    return rest.starts_with(llvm::StringRef(&c, 1));
  }
  bool consume(char c) {
    if (!peek(c))
      return false;
    rest = rest.drop_front();
    return true;
  }
  bool consumeWord(llvm::StringRef word) {
    skipSpaces();
    return rest.consume_front(word);
  }
  std::string expected(const std::string &what) {
    skipSpaces();
    return "expected " + what + " at '" + rest.take_front(16).str() + "'";
  }
  /// A '...' or "..." literal without escapes (repr() of these keys and
  /// dtype strings never has any).
  bool string(std::string &out) {
    skipSpaces();
    if (rest.empty() || (rest.front() != '\'' && rest.front() != '"'))
      return false;
    char quote = rest.front();
    size_t end = rest.find(quote, 1);
    if (end == llvm::StringRef::npos || rest.substr(1, end - 1).contains('\\'))
      return false;
    out = rest.substr(1, end - 1).str();
    rest = rest.drop_front(end + 1);
    return true;
  }
  /// "()", "(3,)", "(2, 3)"; Python 2 wrote longs as "3L".
  std::optional<std::string> tuple(llvm::SmallVector<int64_t, 4> &out) {
    if (!consume('('))
      return expected("a tuple for 'shape'");
    while (!consume(')')) {
      skipSpaces();
      size_t digits = rest.find_first_not_of("0123456789");
      int64_t size = 0;
      if (digits == 0 || rest.substr(0, digits).getAsInteger(10, size))
        return expected("a non-negative integer in 'shape'");
      rest = rest.drop_front(std::min(digits, rest.size()));
      rest.consume_front("L");
      out.push_back(size);
      if (!consume(',') && !peek(')'))
        return expected("',' or ')' in 'shape'");
    }
    return std::nullopt;
  }

  llvm::StringRef rest;
};
} // namespace

llvm::Expected<TensorRef> rt::readNpy(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError(codeOf(buffer.getError()),
                     "cannot read '" + path +
                         "': " + buffer.getError().message());
  return parseNpy(**buffer);
}

llvm::Expected<TensorRef> rt::parseNpy(const llvm::MemoryBuffer &buffer) {
  const llvm::StringRef path = buffer.getBufferIdentifier();
  const llvm::StringRef file = buffer.getBuffer();
  auto fail = [&](hope_code code, const llvm::Twine &message) {
    return makeError(code, path + ": " + message);
  };
  auto invalid = [&](const llvm::Twine &message) {
    return fail(HOPE_INVALID_FORMAT, message);
  };

  if (!file.starts_with(magic))
    return invalid("not an .npy file (no \\x93NUMPY magic)");
  if (file.size() < 10)
    return invalid("truncated before the header length");
  uint8_t major = file[6], minor = file[7];
  if (major < 1 || major > 3 || minor != 0)
    return fail(HOPE_UNSUPPORTED, "unsupported .npy version " +
                                      llvm::Twine(unsigned(major)) + "." +
                                      llvm::Twine(unsigned(minor)) +
                                      " (1.0, 2.0 and 3.0 are read)");
  size_t lengthBytes = major == 1 ? 2 : 4;
  if (file.size() < 8 + lengthBytes)
    return invalid("truncated before the header length");
  uint64_t headerSize = major == 1
                            ? llvm::support::endian::read16le(file.data() + 8)
                            : llvm::support::endian::read32le(file.data() + 8);
  size_t headerStart = 8 + lengthBytes;
  if (headerSize > file.size() - headerStart)
    return invalid("header length " + llvm::Twine(headerSize) +
                   " exceeds the " + llvm::Twine(file.size() - headerStart) +
                   " bytes after it (truncated file?)");

  NpyHeader header;
  if (std::optional<std::string> error =
          HeaderParser(file.substr(headerStart, headerSize)).parse(header))
    return invalid("bad header: " + *error);
  for (auto [present, key] :
       {std::pair{header.descr.has_value(), "descr"},
        std::pair{header.fortranOrder.has_value(), "fortran_order"},
        std::pair{header.shape.has_value(), "shape"}})
    if (!present)
      return invalid(llvm::Twine("bad header: no key '") + key + "'");

  llvm::StringRef descr = *header.descr;
  if (descr.size() > 1 && descr.front() == '>')
    return fail(HOPE_UNSUPPORTED,
                "big-endian dtype '" + descr +
                    "' is not supported; save with "
                    "arr.astype(arr.dtype.newbyteorder('<'))");
  // '=' is native order, which is little-endian on every host we target.
  std::optional<hope_dtype> dtype =
      llvm::StringSwitch<std::optional<hope_dtype>>(descr)
          .Cases({"<f4", "=f4"}, HOPE_DTYPE_F32)
          .Cases({"<f8", "=f8"}, HOPE_DTYPE_F64)
          .Cases({"<i8", "=i8"}, HOPE_DTYPE_I64)
          .Default(std::nullopt);
  if (!dtype)
    return fail(HOPE_UNSUPPORTED, "dtype '" + descr +
                                      "' is not supported (<f4, <f8 and <i8 "
                                      "are)");
  const llvm::SmallVector<int64_t, 4> &shape = *header.shape;
  // Fortran and C order agree below rank 2.
  if (*header.fortranOrder && shape.size() > 1)
    return fail(HOPE_UNSUPPORTED,
                "Fortran-order arrays are not supported; save with "
                "np.ascontiguousarray(arr)");

  llvm::Expected<size_t> bytes = byteSize(*dtype, shape);
  if (!bytes)
    return invalid(toString(bytes.takeError()));
  llvm::StringRef data = file.substr(headerStart + headerSize);
  if (data.size() != *bytes)
    return invalid("shape " + formatShape(shape) + " of " + descr + " needs " +
                   llvm::Twine(*bytes) + " data bytes but the file has " +
                   llvm::Twine(data.size()) +
                   (data.size() < *bytes ? " (truncated file?)" : ""));

  llvm::Expected<TensorRef> tensor = allocateTensor(*dtype, shape);
  if (!tensor)
    return tensor.takeError();
  if (!data.empty())
    std::memcpy((*tensor)->data, data.data(), data.size());
  return tensor;
}

llvm::Error rt::writeNpy(llvm::StringRef path, const hope_tensor &tensor) {
  std::string header;
  llvm::raw_string_ostream os(header);
  os << "{'descr': '<"
     << (tensor.dtype == HOPE_DTYPE_F32   ? "f4"
         : tensor.dtype == HOPE_DTYPE_F64 ? "f8"
                                          : "i8")
     << "', 'fortran_order': False, 'shape': (";
  llvm::interleave(tensor.shape, os, ", ");
  os << (tensor.shape.size() == 1 ? ",), }" : "), }");
  // Written byte for byte as NumPy's np.save: room for the first size to
  // grow to 21 digits, then spaces and a newline up to a 64-byte boundary
  // (a whole 64 more when already there); version 2.0 only when the length
  // overflows 16 bits.
  if (!tensor.shape.empty())
    header.append(21 - std::to_string(tensor.shape.front()).size(), ' ');
  size_t preamble = 10;
  size_t padding = 64 - (preamble + header.size() + 1) % 64;
  if (header.size() + padding + 1 > 0xffff) {
    preamble = 12;
    padding = 64 - (preamble + header.size() + 1) % 64;
  }
  header.append(padding, ' ');
  header += '\n';

  TensorRef copy;
  const void *data = tensor.data;
  if (!isDense(tensor)) {
    llvm::Expected<TensorRef> dense =
        allocateTensor(tensor.dtype, tensor.shape);
    if (!dense)
      return dense.takeError();
    copyDense(tensor, (*dense)->data);
    copy = std::move(*dense);
    data = copy->data;
  }
  llvm::Error error =
      llvm::writeToOutput(path, [&](llvm::raw_ostream &out) -> llvm::Error {
        out << magic << char(preamble == 10 ? 1 : 2) << char(0);
        char length[4];
        llvm::support::endian::write32le(length, header.size());
        out.write(length, preamble - 8);
        out << header;
        out.write(static_cast<const char *>(data),
                  numElements(tensor) * sizeOf(tensor.dtype));
        return llvm::Error::success();
      });
  if (error)
    return makeError(HOPE_IO_ERROR, "cannot write '" + path +
                                        "': " + toString(std::move(error)));
  return llvm::Error::success();
}
