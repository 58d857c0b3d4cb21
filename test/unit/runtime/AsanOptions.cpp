//===- AsanOptions.cpp - AddressSanitizer defaults of the ASan tests ------===//
//
// Compiled into hope-runtime-tests-asan only, so that the options hold
// wherever the binary runs: under ctest, by hand, and when gtest's test
// discovery lists the tests at build time.
//
//===----------------------------------------------------------------------===//

extern "C" const char *__asan_default_options() {
  return HOPE_ASAN_DEFAULT_OPTIONS;
}
