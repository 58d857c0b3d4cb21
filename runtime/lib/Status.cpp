//===- Status.cpp - hope_status and its conversion from llvm::Error -------===//

#include "Status.h"

#include <new>

using namespace hope;

// Returned when a status itself cannot be allocated; never freed.
static hope_status outOfMemory{HOPE_OUT_OF_MEMORY, "out of memory"};

/// The code (`fallback` for errors that are not StatusErrors) and message
/// of an error, which it consumes.
static std::pair<hope_code, std::string> takeError(llvm::Error error,
                                                   hope_code fallback) {
  hope_code code = fallback;
  std::string message;
  llvm::handleAllErrors(
      std::move(error),
      [&](const StatusError &e) {
        code = e.code();
        message = e.message();
      },
      [&](const llvm::ErrorInfoBase &e) { message = e.message(); });
  return {code, std::move(message)};
}

llvm::Error rt::prefixError(llvm::Error error, const llvm::Twine &prefix) {
  if (!error)
    return error;
  auto [code, message] = takeError(std::move(error), HOPE_INTERNAL);
  return makeError(code, prefix + message);
}

hope_status *rt::toStatus(llvm::Error error, hope_code fallback) {
  if (!error)
    return nullptr;
  auto [code, message] = takeError(std::move(error), fallback);
  auto *status = new (std::nothrow) hope_status{code, std::move(message)};
  return status ? status : &outOfMemory;
}

hope_status *rt::nullArgument(const char *function, const char *name) {
  return toStatus(
      makeError(HOPE_INVALID_ARGUMENT,
                llvm::Twine(function) + ": argument '" + name + "' is null"));
}

hope_code rt::codeOf(std::error_code error) {
  return error == std::errc::no_such_file_or_directory ? HOPE_NOT_FOUND
                                                       : HOPE_IO_ERROR;
}

extern "C" {

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
