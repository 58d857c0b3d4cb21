# Installs the runtime (component hope-runtime) into a fresh prefix, then
# configures, builds and runs runtime/examples against that prefix only, as
# a program outside this project would. Run with cmake -P and -D BUILD_DIR,
# SOURCE_DIR, WORK_DIR, ARTIFACT, C_COMPILER.
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status
    OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "failed (${status}): ${ARGN}\n${output}")
  endif()
  set(output "${output}" PARENT_SCOPE)
endfunction()

run(${CMAKE_COMMAND} --install ${BUILD_DIR} --component hope-runtime
    --prefix ${prefix})
# Nothing of LLVM's or the project's tree may leak in: only the prefix.
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/runtime/examples -B ${WORK_DIR}/build
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_C_COMPILER=${C_COMPILER}
    -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/minimal ${ARTIFACT})
message("${output}")
foreach(expected "api 1." "model fake" "forward: 3 inputs, 2 outputs")
  string(FIND "${output}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the example's output lacks '${expected}'")
  endif()
endforeach()
