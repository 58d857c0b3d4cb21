//===- Services.h - the service table a call hands its artifact -*- C++ -*-===//
//
// Every buffer an artifact allocates comes from the session's allocator
// through the table of hope/artifact.h; the outputs' buffers then belong to
// the caller, released through the same allocator.
//
//===----------------------------------------------------------------------===//

#ifndef HOPE_RUNTIME_LIB_SERVICES_H
#define HOPE_RUNTIME_LIB_SERVICES_H

#include "HostBlockCache.h"
#include "hope/artifact.h"
#include "hope/runtime.h"

#include <memory>
#include <optional>

namespace hope::rt {

/// The services of one call of an entry point, and the table that reaches
/// them. Not copyable: the table points at this object.
class CallServices {
public:
  /// Allocates from `allocator`, or from the session's `blocks` when it is
  /// empty.
  CallServices(std::optional<hope_allocator> allocator,
               std::shared_ptr<HostBlockCache> blocks);
  CallServices(const CallServices &) = delete;
  CallServices &operator=(const CallServices &) = delete;

  const hope_services *table() const { return &services; }

  /// Shared ownership of a buffer that the table's alloc returned.
  std::shared_ptr<void> own(void *buffer) const;

private:
  static void *alloc(void *context, uint64_t bytes, uint64_t alignment);
  static void free(void *context, void *pointer);

  std::optional<hope_allocator> allocator;
  std::shared_ptr<HostBlockCache> blocks;
  hope_services services;
};

} // namespace hope::rt

#endif // HOPE_RUNTIME_LIB_SERVICES_H
