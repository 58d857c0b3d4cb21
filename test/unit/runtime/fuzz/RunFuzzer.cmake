# Runs one libFuzzer target for SECONDS on a fresh copy of its seed corpus
# (SEEDS, plus the file EXTRA_SEED if given) in WORK_DIR. A crash, leak,
# sanitizer report or timeout fails the test; libFuzzer writes the input
# that caused it to WORK_DIR/crash-* (add it to SEEDS once fixed, so that
# it stays tested). Run with cmake -P and -D FUZZER, WORK_DIR, SECONDS
# [, SEEDS] [, EXTRA_SEED].
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR}/corpus)
if(SEEDS)
  file(GLOB seeds ${SEEDS}/*)
  file(COPY ${seeds} DESTINATION ${WORK_DIR}/corpus)
endif()
if(EXTRA_SEED)
  file(COPY ${EXTRA_SEED} DESTINATION ${WORK_DIR}/corpus)
endif()
execute_process(
  COMMAND ${FUZZER} -max_total_time=${SECONDS} -timeout=10 -rss_limit_mb=2048
          -max_len=65536 -artifact_prefix=${WORK_DIR}/ -print_final_stats=1
          ${WORK_DIR}/corpus
  RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (${status}); the input is in "
                      "${WORK_DIR}")
endif()
