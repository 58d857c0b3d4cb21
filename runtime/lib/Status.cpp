//===- Status.cpp - hope_status and its conversion from hope::Error -------===//

#include "Status.h"

#include <new>

using namespace hope;

// Returned when a status itself cannot be allocated; never freed.
static hope_status outOfMemory{HOPE_OUT_OF_MEMORY, "out of memory"};

Error rt::prefixError(Error error, const std::string &prefix) {
  if (!error)
    return error;
  return makeError(error.code(), prefix + error.message());
}

hope_status *rt::toStatus(const Error &error) {
  if (!error)
    return nullptr;
  auto *status = new (std::nothrow) hope_status{error.code(), error.message()};
  return status ? status : &outOfMemory;
}

hope_status *rt::nullArgument(const char *function, const char *name) {
  return toStatus(makeError(HOPE_INVALID_ARGUMENT, std::string(function) +
                                                       ": argument '" + name +
                                                       "' is null"));
}

hope_status *rt::indexOutOfRange(const char *function, size_t index,
                                 size_t count, const char *things) {
  return toStatus(makeError(HOPE_INVALID_ARGUMENT,
                            std::string(function) + ": index " +
                                std::to_string(index) + " is out of range (" +
                                std::to_string(count) + " " + things + ")"));
}

extern "C" {

uint32_t hope_api_version(void) {
  return (uint32_t(HOPE_API_VERSION_MAJOR) << 16) | HOPE_API_VERSION_MINOR;
}

const char *hope_status_message(const hope_status *status) {
  return status ? status->message.c_str() : "OK";
}

hope_code hope_status_code(const hope_status *status) {
  return status ? status->code : HOPE_OK;
}

void hope_status_free(hope_status *status) {
  if (status != &outOfMemory)
    delete status;
}

} // extern "C"
