# Checks that the runtime deploys without LLVM: its shared library holds no
# LLVM symbol and exports only the C API (hope_*), and hope-run loads no
# LLVM or MLIR library. Run with cmake -P and -D LIBRARY, HOPE_RUN, NM.
execute_process(COMMAND ${NM} -C ${LIBRARY} OUTPUT_VARIABLE all
  RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${NM} failed on ${LIBRARY}")
endif()
string(REGEX MATCHALL "[^\n]*llvm[^\n]*" llvm "${all}")
if(llvm)
  list(LENGTH llvm count)
  list(GET llvm 0 first)
  message(FATAL_ERROR "${LIBRARY} has ${count} LLVM symbols, e.g. ${first}")
endif()

execute_process(COMMAND ${NM} -D -C --defined-only ${LIBRARY}
  OUTPUT_VARIABLE exported)
string(REGEX MATCHALL "[^\n]+" lines "${exported}")
foreach(line IN LISTS lines)
  if(NOT line MATCHES " hope_[a-z0-9_]+$" AND NOT line MATCHES " _(init|fini)$")
    message(FATAL_ERROR "${LIBRARY} exports more than the C API: ${line}")
  endif()
endforeach()

execute_process(COMMAND ldd ${HOPE_RUN} OUTPUT_VARIABLE libraries
  RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "ldd failed on ${HOPE_RUN}")
endif()
if(libraries MATCHES "(libLLVM|libMLIR|libclang)[^\n]*")
  message(FATAL_ERROR "${HOPE_RUN} loads ${CMAKE_MATCH_0}")
endif()
if(NOT libraries MATCHES "libhope_runtime")
  message(FATAL_ERROR "${HOPE_RUN} does not use libhope_runtime.so")
endif()
