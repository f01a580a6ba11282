# Runs `mutualctl simulate` on one scenario and compares with what is expected.
#   cmake -DMUTUALCTL=… -DSCENARIO=x.json -DEXPECTED=x.jsonl -P run_scenario.cmake
#     exit 0, stdout exactly EXPECTED, nothing on stderr.
#   cmake -DMUTUALCTL=… -DSCENARIO=x.json -DEXPECTED_ERROR=x.err -P run_scenario.cmake
#     exit 2, nothing on stdout, stderr exactly the one line in EXPECTED_ERROR.
#   -DSTDIN=1 feeds the scenario on standard input (`simulate -`).
foreach(var MUTUALCTL SCENARIO)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_scenario.cmake: ${var} not set")
  endif()
endforeach()

if(STDIN)  # `mutualctl simulate -` reading the scenario from standard input
  execute_process(
    COMMAND "${MUTUALCTL}" simulate -
    INPUT_FILE "${SCENARIO}"
    RESULT_VARIABLE exit_code
    OUTPUT_VARIABLE actual_out
    ERROR_VARIABLE actual_err)
else()
  execute_process(
    COMMAND "${MUTUALCTL}" simulate "${SCENARIO}"
    RESULT_VARIABLE exit_code
    OUTPUT_VARIABLE actual_out
    ERROR_VARIABLE actual_err)
endif()

if(DEFINED EXPECTED)
  file(READ "${EXPECTED}" expected_out)
  if(NOT exit_code STREQUAL "0")
    message(FATAL_ERROR "exit ${exit_code}, expected 0; stderr:\n${actual_err}")
  endif()
  if(NOT actual_err STREQUAL "")
    message(FATAL_ERROR "unexpected stderr:\n${actual_err}")
  endif()
  if(NOT actual_out STREQUAL expected_out)
    get_filename_component(name "${SCENARIO}" NAME_WE)
    set(actual_file "${CMAKE_CURRENT_BINARY_DIR}/${name}.actual.jsonl")
    file(WRITE "${actual_file}" "${actual_out}")
    message(FATAL_ERROR "output differs from ${EXPECTED}\n(actual written to ${actual_file})\n"
                        "--- expected\n${expected_out}--- actual\n${actual_out}")
  endif()
elseif(DEFINED EXPECTED_ERROR)
  file(READ "${EXPECTED_ERROR}" expected_err)
  if(NOT exit_code STREQUAL "2")
    message(FATAL_ERROR "exit ${exit_code}, expected 2; stdout:\n${actual_out}")
  endif()
  if(NOT actual_out STREQUAL "")
    message(FATAL_ERROR "a malformed scenario printed decisions:\n${actual_out}")
  endif()
  if(NOT actual_err STREQUAL expected_err)
    message(FATAL_ERROR "stderr differs\n--- expected\n${expected_err}--- actual\n${actual_err}")
  endif()
  string(REGEX MATCHALL "\n" newlines "${actual_err}")
  list(LENGTH newlines lines)
  if(NOT lines EQUAL 1)
    message(FATAL_ERROR "stderr must be exactly one line, got ${lines}")
  endif()
else()
  message(FATAL_ERROR "run_scenario.cmake: set EXPECTED or EXPECTED_ERROR")
endif()
