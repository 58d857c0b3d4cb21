//===- ArtifactFile.cpp - an artifact's ELF file, read before loading -----===//

#include "ArtifactFile.h"
#include "Status.h"

#include "llvm/Object/ELFObjectFile.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

using namespace hope;
using namespace hope::rt;
using namespace llvm::object;

/// Every segment the loader maps must lie inside the file: mapping past its
/// end would fault (SIGBUS) on first access.
template <class ELFT>
static llvm::Error checkSegments(const ELFFile<ELFT> &file,
                                 const llvm::Twine &path) {
  auto headers = file.program_headers();
  if (!headers)
    return makeError(HOPE_INVALID_FORMAT,
                     path + ": " + toString(headers.takeError()));
  uint64_t size = file.getBufSize();
  for (const auto &header : *headers) {
    if (header.p_type != llvm::ELF::PT_LOAD &&
        header.p_type != llvm::ELF::PT_DYNAMIC)
      continue;
    uint64_t offset = header.p_offset, bytes = header.p_filesz;
    if (offset > size || bytes > size - offset)
      return makeError(HOPE_INVALID_FORMAT,
                       path + ": a segment at file offset " +
                           llvm::Twine(offset) + " (" + llvm::Twine(bytes) +
                           " bytes) extends past the end of the file (" +
                           llvm::Twine(size) + " bytes; truncated file?)");
  }
  return llvm::Error::success();
}

static llvm::Error checkSegments(const ELFObjectFileBase &object,
                                 const llvm::Twine &path) {
  if (auto *file = llvm::dyn_cast<ELF64LEObjectFile>(&object))
    return checkSegments(file->getELFFile(), path);
  if (auto *file = llvm::dyn_cast<ELF64BEObjectFile>(&object))
    return checkSegments(file->getELFFile(), path);
  if (auto *file = llvm::dyn_cast<ELF32LEObjectFile>(&object))
    return checkSegments(file->getELFFile(), path);
  return checkSegments(llvm::cast<ELF32BEObjectFile>(object).getELFFile(),
                       path);
}

/// The bytes `symbol` names inside its section.
static llvm::Expected<llvm::StringRef> contentsOf(const ELFSymbolRef &symbol) {
  llvm::Expected<section_iterator> section = symbol.getSection();
  if (!section)
    return section.takeError();
  if (*section == symbol.getObject()->section_end())
    return llvm::createStringError("is not defined in a section");
  llvm::Expected<llvm::StringRef> contents = (*section)->getContents();
  if (!contents)
    return contents.takeError();
  llvm::Expected<uint64_t> address = symbol.getAddress();
  if (!address)
    return address.takeError();
  uint64_t start = (*section)->getAddress(), size = symbol.getSize();
  if (*address < start || *address - start > contents->size() ||
      size > contents->size() - (*address - start))
    return llvm::createStringError("lies outside its section's data");
  return contents->substr(*address - start, size);
}

llvm::Expected<ArtifactFile> rt::readArtifactFile(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError(codeOf(buffer.getError()),
                     "cannot read artifact '" + path +
                         "': " + buffer.getError().message());
  auto invalid = [&](const llvm::Twine &message) {
    return makeError(HOPE_INVALID_FORMAT, path + ": " + message);
  };

  auto object = ObjectFile::createObjectFile((*buffer)->getMemBufferRef());
  if (!object)
    return invalid("not a valid shared library: " +
                   toString(object.takeError()));
  auto *elf = llvm::dyn_cast<ELFObjectFileBase>(object->get());
  if (!elf)
    return invalid("not an ELF shared library");
  if (elf->getEType() != llvm::ELF::ET_DYN)
    return invalid("not a shared library (ELF type " +
                   llvm::Twine(elf->getEType()) + ")");
  llvm::Triple host(llvm::sys::getProcessTriple());
  if (elf->getArch() != host.getArch())
    return makeError(HOPE_UNSUPPORTED,
                     path + ": is a library for " +
                         llvm::Triple::getArchTypeName(elf->getArch()) +
                         " but this host is " + host.getArchName());
  if (auto error = checkSegments(*elf, path))
    return std::move(error);

  ArtifactFile artifact;
  std::optional<ELFSymbolRef> manifest;
  for (const ELFSymbolRef &symbol : elf->getDynamicSymbolIterators()) {
    llvm::Expected<llvm::StringRef> name = symbol.getName();
    if (!name)
      return invalid("bad dynamic symbol table: " + toString(name.takeError()));
    llvm::Expected<section_iterator> section = symbol.getSection();
    if (!section)
      return invalid("bad dynamic symbol '" + *name +
                     "': " + toString(section.takeError()));
    if (*section == elf->section_end())
      continue; // imported, not defined here
    artifact.symbols.insert(*name);
    if (*name == "hope_manifest")
      manifest = symbol;
  }
  if (!manifest)
    return makeError(HOPE_NOT_FOUND,
                     path + ": no symbol 'hope_manifest' (not a HOPE "
                            "artifact?)");
  llvm::Expected<llvm::StringRef> text = contentsOf(*manifest);
  if (!text)
    return invalid("symbol 'hope_manifest' " + toString(text.takeError()));
  size_t end = text->find('\0');
  if (end == llvm::StringRef::npos)
    return invalid("symbol 'hope_manifest' is not a NUL-terminated string");
  artifact.manifest = text->substr(0, end).str();
  return artifact;
}
