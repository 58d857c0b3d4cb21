//===- Npy.cpp - NumPy's .npy format: reader and writer -------------------===//

#include "Npy.h"
#include "Status.h"

#include <algorithm>
#include <cstring>
#include <set>

using namespace hope;
using namespace hope::rt;

static constexpr std::string_view magic("\x93NUMPY", 6);

/// Little-endian integers of `size` bytes at `p` (the hosts are too).
static uint64_t readLE(const char *p, size_t size) {
  uint64_t value = 0;
  for (size_t i = size; i-- > 0;)
    value = (value << 8) | uint8_t(p[i]);
  return value;
}

static void writeLE(char *p, uint64_t value, size_t size) {
  for (size_t i = 0; i < size; ++i, value >>= 8)
    p[i] = char(value & 0xff);
}

namespace {
/// The header's dict. NumPy writes it with repr(); this reads the subset
/// repr() produces for plain arrays: string keys, and values that are
/// strings, booleans or tuples of integers.
struct NpyHeader {
  std::optional<std::string> descr;
  std::optional<bool> fortranOrder;
  std::optional<std::vector<int64_t>> shape;
};

class HeaderParser {
public:
  explicit HeaderParser(std::string_view text) : rest(text) {}

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
      if (!seen.insert(key).second)
        return "duplicate key '" + key + "'";
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
        std::vector<int64_t> shape;
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
  void skipSpaces() {
    size_t start = rest.find_first_not_of(" \t\n\r");
    rest.remove_prefix(std::min(start, rest.size()));
  }
  bool peek(char c) {
    skipSpaces();
    return !rest.empty() && rest.front() == c;
  }
  bool consume(char c) {
    if (!peek(c))
      return false;
    rest.remove_prefix(1);
    return true;
  }
  bool consumeWord(std::string_view word) {
    skipSpaces();
    if (rest.substr(0, word.size()) != word)
      return false;
    rest.remove_prefix(word.size());
    return true;
  }
  std::string expected(const std::string &what) {
    skipSpaces();
    return "expected " + what + " at '" + std::string(rest.substr(0, 16)) +
           "'";
  }
  /// A '...' or "..." literal without escapes (repr() of these keys and
  /// dtype strings never has any).
  bool string(std::string &out) {
    skipSpaces();
    if (rest.empty() || (rest.front() != '\'' && rest.front() != '"'))
      return false;
    char quote = rest.front();
    size_t end = rest.find(quote, 1);
    if (end == std::string_view::npos ||
        rest.substr(1, end - 1).find('\\') != std::string_view::npos)
      return false;
    out = std::string(rest.substr(1, end - 1));
    rest.remove_prefix(end + 1);
    return true;
  }
  /// "()", "(3,)", "(2, 3)"; Python 2 wrote longs as "3L".
  std::optional<std::string> tuple(std::vector<int64_t> &out) {
    if (!consume('('))
      return expected("a tuple for 'shape'");
    while (!consume(')')) {
      skipSpaces();
      size_t digits = std::min(rest.find_first_not_of("0123456789"), rest.size());
      int64_t size = 0;
      bool overflow = false;
      for (char c : rest.substr(0, digits))
        overflow |= __builtin_mul_overflow(size, 10, &size) ||
                    __builtin_add_overflow(size, c - '0', &size);
      if (digits == 0 || overflow)
        return expected("a non-negative integer in 'shape'");
      rest.remove_prefix(digits);
      if (!rest.empty() && rest.front() == 'L')
        rest.remove_prefix(1);
      out.push_back(size);
      if (!consume(',') && !peek(')'))
        return expected("',' or ')' in 'shape'");
    }
    return std::nullopt;
  }

  std::string_view rest;
  std::set<std::string> seen;
};
} // namespace

Expected<TensorRef> rt::readNpy(const std::string &path) {
  Expected<FileBytes> file = FileBytes::open(path);
  if (!file)
    return file.takeError();
  return parseNpy(*file);
}

Expected<TensorRef> rt::parseNpy(const FileBytes &bytes) {
  const std::string &path = bytes.name();
  const std::string_view file = bytes.bytes();
  auto fail = [&](hope_code code, const std::string &message) {
    return makeError(code, path + ": " + message);
  };
  auto invalid = [&](const std::string &message) {
    return fail(HOPE_INVALID_FORMAT, message);
  };

  if (file.substr(0, magic.size()) != magic)
    return invalid("not an .npy file (no \\x93NUMPY magic)");
  if (file.size() < 10)
    return invalid("truncated before the header length");
  uint8_t major = file[6], minor = file[7];
  if (major < 1 || major > 3 || minor != 0)
    return fail(HOPE_UNSUPPORTED, "unsupported .npy version " +
                                      std::to_string(major) + "." +
                                      std::to_string(minor) +
                                      " (1.0, 2.0 and 3.0 are read)");
  size_t lengthBytes = major == 1 ? 2 : 4;
  if (file.size() < 8 + lengthBytes)
    return invalid("truncated before the header length");
  uint64_t headerSize = readLE(file.data() + 8, lengthBytes);
  size_t headerStart = 8 + lengthBytes;
  if (headerSize > file.size() - headerStart)
    return invalid("header length " + std::to_string(headerSize) +
                   " exceeds the " + std::to_string(file.size() - headerStart) +
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
      return invalid(std::string("bad header: no key '") + key + "'");

  const std::string &descr = *header.descr;
  if (descr.size() > 1 && descr.front() == '>')
    return fail(HOPE_UNSUPPORTED,
                "big-endian dtype '" + descr +
                    "' is not supported; save with "
                    "arr.astype(arr.dtype.newbyteorder('<'))");
  // '=' is native order, which is little-endian on every host we target.
  std::optional<hope_dtype> dtype;
  if (descr == "<f4" || descr == "=f4")
    dtype = HOPE_DTYPE_F32;
  else if (descr == "<f8" || descr == "=f8")
    dtype = HOPE_DTYPE_F64;
  else if (descr == "<i8" || descr == "=i8")
    dtype = HOPE_DTYPE_I64;
  if (!dtype)
    return fail(HOPE_UNSUPPORTED, "dtype '" + descr +
                                      "' is not supported (<f4, <f8 and <i8 "
                                      "are)");
  const std::vector<int64_t> &shape = *header.shape;
  // Fortran and C order agree below rank 2.
  if (*header.fortranOrder && shape.size() > 1)
    return fail(HOPE_UNSUPPORTED,
                "Fortran-order arrays are not supported; save with "
                "np.ascontiguousarray(arr)");

  Expected<size_t> bytesNeeded = byteSize(*dtype, shape);
  if (!bytesNeeded)
    return invalid(bytesNeeded.getError().message());
  std::string_view data = file.substr(headerStart + headerSize);
  if (data.size() != *bytesNeeded)
    return invalid("shape " + formatShape(shape) + " of " + descr + " needs " +
                   std::to_string(*bytesNeeded) +
                   " data bytes but the file has " +
                   std::to_string(data.size()) +
                   (data.size() < *bytesNeeded ? " (truncated file?)" : ""));

  Expected<TensorRef> tensor = allocateTensor(*dtype, shape);
  if (!tensor)
    return tensor.takeError();
  if (!data.empty())
    std::memcpy((*tensor)->data, data.data(), data.size());
  return tensor;
}

Error rt::writeNpy(const std::string &path, const hope_tensor &tensor) {
  std::string header = "{'descr': '<";
  header += tensor.dtype == HOPE_DTYPE_F32   ? "f4"
            : tensor.dtype == HOPE_DTYPE_F64 ? "f8"
                                             : "i8";
  header += "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < tensor.shape.size(); ++i)
    header += (i ? ", " : "") + std::to_string(tensor.shape[i]);
  header += tensor.shape.size() == 1 ? ",), }" : "), }";
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
    Expected<TensorRef> dense = allocateTensor(tensor.dtype, tensor.shape);
    if (!dense)
      return dense.takeError();
    copyDense(tensor, (*dense)->data);
    copy = std::move(*dense);
    data = copy->data;
  }
  return writeFileAtomically(path, [&](const auto &out) {
    std::string preambleBytes(magic);
    preambleBytes += char(preamble == 10 ? 1 : 2);
    preambleBytes += char(0);
    char length[4];
    writeLE(length, header.size(), 4);
    preambleBytes.append(length, preamble - 8);
    out(preambleBytes.data(), preambleBytes.size());
    out(header.data(), header.size());
    out(data, numElements(tensor) * sizeOf(tensor.dtype));
  });
}
