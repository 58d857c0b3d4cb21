//===- Services.cpp - the service table a call hands its artifact ---------===//

#include "Services.h"

#include <algorithm>
#include <cstdlib>

using namespace hope::rt;

// hope_allocator promises at least this alignment to its users, and any
// vector width the code was compiled for needs no more.
constexpr uint64_t kMinAlignment = 64;

CallServices::CallServices(std::optional<hope_allocator> allocator,
                           std::shared_ptr<HostBlockCache> blocks)
    : allocator(allocator), blocks(std::move(blocks)) {
  services.struct_size = sizeof(hope_services);
  services.version = HOPE_SERVICES_VERSION;
  services.context = this;
  services.alloc = &CallServices::alloc;
  services.free = &CallServices::free;
}

void *CallServices::alloc(void *context, uint64_t bytes, uint64_t alignment) {
  auto *self = static_cast<CallServices *>(context);
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    return nullptr;
  alignment = std::max(alignment, kMinAlignment);
  // aligned_alloc wants a multiple of the alignment, and never 0.
  uint64_t rounded = (std::max<uint64_t>(bytes, 1) + alignment - 1) &
                     ~(alignment - 1);
  if (rounded < bytes)
    return nullptr;
  if (self->allocator)
    return self->allocator->alloc(self->allocator->ctx, rounded, alignment);
  if (self->blocks)
    return self->blocks->allocate(rounded, alignment);
  return std::aligned_alloc(alignment, rounded);
}

void CallServices::free(void *context, void *pointer) {
  auto *self = static_cast<CallServices *>(context);
  if (!pointer)
    return;
  if (self->allocator)
    self->allocator->free(self->allocator->ctx, pointer);
  else if (self->blocks)
    self->blocks->release(pointer);
  else
    std::free(pointer);
}

std::shared_ptr<void> CallServices::own(void *buffer) const {
  if (allocator)
    return std::shared_ptr<void>(buffer, [copy = *allocator](void *buffer) {
      copy.free(copy.ctx, buffer);
    });
  if (blocks) // the cache lives as long as the buffer's owners
    return std::shared_ptr<void>(
        buffer, [blocks = blocks](void *buffer) { blocks->release(buffer); });
  return std::shared_ptr<void>(buffer, std::free);
}
