//===- Ref.h - thread-safe intrusive reference counting ---------*- C++ -*-===//
//
// The C API's objects count their own references (hope_*_retain/release),
// so C callers and the runtime share one count.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_RUNTIME_LIB_REF_H
#define HOPE_RUNTIME_LIB_REF_H

#include <atomic>
#include <utility>

namespace hope::rt {

/// Base of a reference-counted `Derived`, deleted at the last release.
template <typename Derived> class RefCounted {
public:
  void retain() const { count.fetch_add(1, std::memory_order_relaxed); }
  void release() const {
    if (count.fetch_sub(1, std::memory_order_acq_rel) == 1)
      delete static_cast<const Derived *>(this);
  }

protected:
  RefCounted() = default;
  RefCounted(const RefCounted &) = delete;
  RefCounted &operator=(const RefCounted &) = delete;

private:
  mutable std::atomic<int> count{0};
};

/// One counted reference to a `T`.
template <typename T> class Ref {
public:
  Ref() = default;
  Ref(std::nullptr_t) {}
  /// Takes a new reference to `p`.
  Ref(T *p) : ptr(p) {
    if (ptr)
      ptr->retain();
  }
  Ref(const Ref &other) : Ref(other.ptr) {}
  Ref(Ref &&other) noexcept : ptr(std::exchange(other.ptr, nullptr)) {}
  Ref &operator=(Ref other) noexcept {
    std::swap(ptr, other.ptr);
    return *this;
  }
  ~Ref() {
    if (ptr)
      ptr->release();
  }

  T *get() const { return ptr; }
  T *operator->() const { return ptr; }
  T &operator*() const { return *ptr; }
  explicit operator bool() const { return ptr != nullptr; }

  /// Hands this reference to a C caller.
  T *release() { return std::exchange(ptr, nullptr); }

private:
  T *ptr = nullptr;
};

} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_REF_H
