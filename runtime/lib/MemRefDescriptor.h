//===- MemRefDescriptor.h - MLIR's ranked memref descriptors ----*- C++ -*-===//
//
// The arguments of an entry point (docs/artifact-abi.md): allocated,
// aligned, offset, sizes[rank], strides[rank], as 64-bit words.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_RUNTIME_LIB_MEMREFDESCRIPTOR_H
#define HOPE_RUNTIME_LIB_MEMREFDESCRIPTOR_H

#include "Tensor.h"

#include <cstring>
#include <vector>

namespace hope::rt {

static_assert(sizeof(void *) == sizeof(int64_t),
              "memref descriptors are read as 64-bit words");

class Descriptor {
public:
  explicit Descriptor(size_t rank) : words(3 + 2 * rank, 0) {}

  /// A dense, row-major input.
  static Descriptor input(const hope_tensor &tensor) {
    Descriptor descriptor(tensor.shape.size());
    descriptor.setPointer(0, tensor.data);
    descriptor.setPointer(1, tensor.data);
    std::vector<int64_t> strides = denseStrides(tensor.shape);
    for (size_t i = 0; i < tensor.shape.size(); ++i) {
      descriptor.sizes()[i] = tensor.shape[i];
      descriptor.strides()[i] = strides[i];
    }
    return descriptor;
  }

  void *address() { return words.data(); }
  size_t rank() const { return (words.size() - 3) / 2; }
  void *allocated() const { return pointer(0); }
  void *aligned() const { return pointer(1); }
  int64_t offset() const { return words[2]; }
  int64_t *sizes() { return words.data() + 3; }
  int64_t *strides() { return words.data() + 3 + rank(); }
  Shape sizesView() const { return Shape(words.data() + 3, rank()); }
  Shape stridesView() const { return Shape(words.data() + 3 + rank(), rank()); }

private:
  void *pointer(size_t word) const {
    void *p;
    std::memcpy(&p, &words[word], sizeof(p));
    return p;
  }
  void setPointer(size_t word, void *p) {
    std::memcpy(&words[word], &p, sizeof(p));
  }

  std::vector<int64_t> words;
};

} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_MEMREFDESCRIPTOR_H
