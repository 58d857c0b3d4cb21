//===- ArtifactFile.cpp - an artifact's ELF file, read before loading -----===//
//
// A small reader of ELF64 little-endian shared libraries (the layout of
// <elf.h>): the header, the program headers (every loadable segment inside
// the file), the section headers, and the dynamic symbol table with its
// string table. Nothing is read through a pointer the file supplies before
// its range is checked.
//
//===----------------------------------------------------------------------===//

#include "ArtifactFile.h"
#include "Status.h"

#include <cstring>
#include <elf.h>
#include <optional>

using namespace hope;
using namespace hope::rt;

namespace {
/// The file's bytes, read only through range checks.
class Reader {
public:
  explicit Reader(std::string_view bytes) : bytes(bytes) {}

  /// Whether [offset, offset + size) lies inside the file.
  bool contains(uint64_t offset, uint64_t size) const {
    return offset <= bytes.size() && size <= bytes.size() - offset;
  }
  /// Copies a T at `offset` (the file need not align it).
  template <typename T> std::optional<T> read(uint64_t offset) const {
    if (!contains(offset, sizeof(T)))
      return std::nullopt;
    T value;
    std::memcpy(&value, bytes.data() + offset, sizeof(T));
    return value;
  }
  /// The `count`-th table entry of `entrySize` bytes (at least sizeof(T))
  /// of a table at `offset`.
  template <typename T>
  std::optional<T> entry(uint64_t offset, uint64_t entrySize,
                         uint64_t index) const {
    uint64_t position;
    if (entrySize < sizeof(T) ||
        __builtin_mul_overflow(index, entrySize, &position) ||
        __builtin_add_overflow(position, offset, &position))
      return std::nullopt;
    return read<T>(position);
  }
  std::string_view slice(uint64_t offset, uint64_t size) const {
    return bytes.substr(offset, size);
  }
  uint64_t size() const { return bytes.size(); }

private:
  std::string_view bytes;
};

/// This host's ELF machine and its name.
#if defined(__x86_64__)
constexpr uint16_t kHostMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr uint16_t kHostMachine = EM_AARCH64;
#elif defined(__riscv) && __riscv_xlen == 64
constexpr uint16_t kHostMachine = EM_RISCV;
#elif defined(__powerpc64__)
constexpr uint16_t kHostMachine = EM_PPC64;
#else
#error "the runtime reads 64-bit ELF artifacts: add this host's machine"
#endif

std::string machineName(uint16_t machine) {
  switch (machine) {
  case EM_X86_64:
    return "x86_64";
  case EM_AARCH64:
    return "aarch64";
  case EM_RISCV:
    return "riscv64";
  case EM_PPC64:
    return "ppc64";
  case EM_386:
    return "i386";
  case EM_ARM:
    return "arm";
  default:
    return "ELF machine " + std::to_string(machine);
  }
}
} // namespace

Expected<ArtifactFile> rt::readArtifactFile(const std::string &path) {
  Expected<FileBytes> file = FileBytes::open(path, "artifact");
  if (!file)
    return file.takeError();
  return parseArtifactFile(*file);
}

Expected<ArtifactFile> rt::parseArtifactFile(const FileBytes &file) {
  const std::string &path = file.name();
  Reader elf(file.bytes());
  auto invalid = [&](const std::string &message) {
    return makeError(HOPE_INVALID_FORMAT, path + ": " + message);
  };

  std::optional<Elf64_Ehdr> header = elf.read<Elf64_Ehdr>(0);
  if (elf.size() < SELFMAG ||
      std::memcmp(file.bytes().data(), ELFMAG, SELFMAG) != 0)
    return invalid("not a valid shared library: not an ELF file");
  if (!header)
    return invalid("not a valid shared library: truncated ELF header");
  if (header->e_ident[EI_CLASS] != ELFCLASS64 ||
      header->e_ident[EI_DATA] != ELFDATA2LSB)
    return makeError(HOPE_UNSUPPORTED,
                     path + ": not a 64-bit little-endian ELF library");
  if (header->e_type != ET_DYN)
    return invalid("not a shared library (ELF type " +
                   std::to_string(header->e_type) + ")");
  if (header->e_machine != kHostMachine)
    return makeError(HOPE_UNSUPPORTED,
                     path + ": is a library for " +
                         machineName(header->e_machine) +
                         " but this host is " + machineName(kHostMachine));

  // Every segment the loader maps must lie inside the file: mapping past
  // its end would fault (SIGBUS) on first access.
  for (uint64_t i = 0; i < header->e_phnum; ++i) {
    std::optional<Elf64_Phdr> segment =
        elf.entry<Elf64_Phdr>(header->e_phoff, header->e_phentsize, i);
    if (!segment)
      return invalid("program header " + std::to_string(i) +
                     " lies outside the file (truncated file?)");
    if (segment->p_type != PT_LOAD && segment->p_type != PT_DYNAMIC)
      continue;
    if (!elf.contains(segment->p_offset, segment->p_filesz))
      return invalid("a segment at file offset " +
                     std::to_string(segment->p_offset) + " (" +
                     std::to_string(segment->p_filesz) +
                     " bytes) extends past the end of the file (" +
                     std::to_string(elf.size()) + " bytes; truncated file?)");
  }

  // The whole section header table, as the loader and tools expect it.
  uint64_t tableSize;
  if (header->e_shentsize < sizeof(Elf64_Shdr) ||
      __builtin_mul_overflow(uint64_t(header->e_shnum),
                             uint64_t(header->e_shentsize), &tableSize) ||
      !elf.contains(header->e_shoff, tableSize))
    return invalid("the section header table lies outside the file "
                   "(truncated file?)");
  auto section = [&](uint64_t index) {
    return elf.entry<Elf64_Shdr>(header->e_shoff, header->e_shentsize, index);
  };
  // The dynamic symbol table and the string table it links to.
  std::optional<Elf64_Shdr> symbols, strings;
  for (uint64_t i = 0; i < header->e_shnum; ++i) {
    std::optional<Elf64_Shdr> candidate = section(i);
    if (!candidate)
      return invalid("section header " + std::to_string(i) +
                     " lies outside the file (truncated file?)");
    if (candidate->sh_type == SHT_DYNSYM) {
      symbols = candidate;
      strings = section(candidate->sh_link);
      break;
    }
  }
  if (!symbols)
    return makeError(HOPE_NOT_FOUND, path + ": no dynamic symbol table (not "
                                            "a HOPE artifact?)");
  if (!strings || strings->sh_type != SHT_STRTAB ||
      !elf.contains(strings->sh_offset, strings->sh_size) ||
      !elf.contains(symbols->sh_offset, symbols->sh_size) ||
      symbols->sh_entsize < sizeof(Elf64_Sym))
    return invalid("bad dynamic symbol table: it lies outside the file");
  std::string_view names = elf.slice(strings->sh_offset, strings->sh_size);

  // The file range of a symbol's bytes, inside its section's data.
  auto rangeOf = [&](const Elf64_Sym &symbol)
      -> std::optional<std::pair<uint64_t, uint64_t>> {
    std::optional<Elf64_Shdr> home = symbol.st_shndx < SHN_LORESERVE
                                         ? section(symbol.st_shndx)
                                         : std::nullopt;
    if (!home || home->sh_type == SHT_NOBITS ||
        !elf.contains(home->sh_offset, home->sh_size) ||
        symbol.st_value < home->sh_addr ||
        symbol.st_value - home->sh_addr > home->sh_size ||
        symbol.st_size > home->sh_size - (symbol.st_value - home->sh_addr))
      return std::nullopt;
    return std::make_pair(home->sh_offset + (symbol.st_value - home->sh_addr),
                          uint64_t(symbol.st_size));
  };

  ArtifactFile artifact;
  std::optional<Elf64_Sym> manifest;
  uint64_t count = symbols->sh_size / symbols->sh_entsize;
  for (uint64_t i = 1; i < count; ++i) {
    Elf64_Sym symbol =
        *elf.entry<Elf64_Sym>(symbols->sh_offset, symbols->sh_entsize, i);
    if (symbol.st_shndx == SHN_UNDEF)
      continue; // imported, not defined here
    if (symbol.st_name >= names.size())
      return invalid("bad dynamic symbol table: symbol " + std::to_string(i) +
                     " has its name outside the string table");
    std::string_view rest = names.substr(symbol.st_name);
    size_t end = rest.find('\0');
    if (end == std::string_view::npos)
      return invalid("bad dynamic symbol table: symbol " + std::to_string(i) +
                     " has an unterminated name");
    std::string name(rest.substr(0, end));
    if (name == "hope_manifest")
      manifest = symbol;
    if (auto range = rangeOf(symbol))
      artifact.ranges[name] = *range;
    artifact.symbols.insert(std::move(name));
  }
  if (!manifest)
    return makeError(HOPE_NOT_FOUND,
                     path + ": no symbol 'hope_manifest' (not a HOPE "
                            "artifact?)");

  // The bytes the symbol names, inside its section's data in the file.
  std::optional<std::pair<uint64_t, uint64_t>> range = rangeOf(*manifest);
  if (!range)
    return invalid("symbol 'hope_manifest' lies outside its section's data");
  std::string_view text = elf.slice(range->first, range->second);
  size_t end = text.find('\0');
  if (end == std::string_view::npos)
    return invalid("symbol 'hope_manifest' is not a NUL-terminated string");
  artifact.manifest = std::string(text.substr(0, end));
  artifact.file = file;
  return artifact;
}

Expected<std::string_view>
ArtifactFile::symbolBytes(const std::string &name, uint64_t expected,
                          const std::string &what) const {
  const std::string &path = file.name();
  if (!symbols.count(name))
    return makeError(HOPE_NOT_FOUND, path + ": no symbol '" + name +
                                         "' (" + what + ")");
  auto range = ranges.find(name);
  if (range == ranges.end())
    return makeError(HOPE_INVALID_FORMAT,
                     path + ": symbol '" + name + "' (" + what +
                         ") lies outside its section's data in the file");
  if (range->second.second != expected)
    return makeError(HOPE_INVALID_FORMAT,
                     path + ": symbol '" + name + "' (" + what + ") has " +
                         std::to_string(range->second.second) +
                         " bytes but the manifest says " +
                         std::to_string(expected));
  // Checked against the file's length when the range was recorded.
  return file.bytes().substr(range->second.first, range->second.second);
}
