/*===- minimal.c - the smallest program that uses the HOPE runtime --------===*\
|*                                                                            *|
|* Built against an installed runtime only (find_package(HopeRuntime)), it   *|
|* checks the library's API version, loads the artifact given as its first   *|
|* argument and prints each entry point with its number of inputs and        *|
|* outputs. The runtime's tests build and run it (test/unit/runtime).        *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include <hope/runtime.h>

#include <stdio.h>

/* Prints a failed status and frees it; returns whether there was one. */
static int failed(hope_status *status) {
  if (!status)
    return 0;
  fprintf(stderr, "error: %s\n", hope_status_message(status));
  hope_status_free(status);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s ARTIFACT.so\n", argv[0]);
    return 2;
  }
  uint32_t version = hope_api_version();
  if (version >> 16 != HOPE_API_VERSION_MAJOR ||
      (version & 0xffff) < HOPE_API_VERSION_MINOR) {
    fprintf(stderr, "error: runtime API %u.%u, built for %d.%d\n",
            (unsigned)(version >> 16), (unsigned)(version & 0xffff),
            HOPE_API_VERSION_MAJOR, HOPE_API_VERSION_MINOR);
    return 1;
  }
  printf("api %u.%u\n", (unsigned)(version >> 16),
         (unsigned)(version & 0xffff));

  hope_module *module = NULL;
  if (failed(hope_module_load(argv[1], &module)))
    return 1;
  hope_session_options options = {sizeof(options), 1, HOPE_DEVICE_HOST, NULL};
  hope_session *session = NULL;
  if (failed(hope_session_create(module, &options, &session))) {
    hope_module_release(module);
    return 1;
  }
  const char *model = NULL;
  size_t count = 0;
  if (failed(hope_module_model(module, &model, NULL, NULL)) ||
      failed(hope_module_entry_point_count(module, &count))) {
    hope_session_release(session);
    hope_module_release(module);
    return 1;
  }
  printf("model %s\n", model);
  for (size_t i = 0; i < count; ++i) {
    const char *name = NULL;
    size_t inputs = 0, outputs = 0;
    if (failed(hope_module_entry_point_name(module, i, &name)) ||
        failed(hope_module_signature(module, name, &inputs, &outputs)))
      break;
    printf("%s: %zu inputs, %zu outputs\n", name, inputs, outputs);
  }
  hope_session_release(session);
  hope_module_release(module);
  return 0;
}
