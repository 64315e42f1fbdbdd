# Runs gradc on a model file with a mistake in it and checks that it fails
# as the contract says: exit status 1 and a diagnostic of the form
# FILE:LINE:COL: error: ..., then FILE:LINE:COL: note: ..., and nothing else.
#
#   cmake -DGRADC=path -DMODEL_DIR=dir -DMODEL=file.yaml -DOUTPUT=path
#         -DERROR=regex -DNOTE=regex -P check_diagnostic.cmake
#
# ERROR and NOTE must match the whole first and second lines of stderr.
execute_process(
  COMMAND "${GRADC}" "${MODEL}" -o "${OUTPUT}"
  WORKING_DIRECTORY "${MODEL_DIR}"
  RESULT_VARIABLE status
  OUTPUT_VARIABLE stdout
  ERROR_VARIABLE stderr)

if(NOT status STREQUAL "1")
  message(FATAL_ERROR
    "gradc ${MODEL} ended with status ${status}, not 1:\n${stderr}")
endif()

if(NOT stderr MATCHES "^([^\n]*)\n([^\n]*)\n$")
  message(FATAL_ERROR
    "gradc ${MODEL} did not write just an error and a note:\n${stderr}")
endif()
set(error "${CMAKE_MATCH_1}")
set(note "${CMAKE_MATCH_2}")

if(NOT error MATCHES "^${ERROR}$")
  message(FATAL_ERROR "the error line\n  ${error}\ndoes not match\n  ${ERROR}")
endif()
if(NOT note MATCHES "^${NOTE}$")
  message(FATAL_ERROR "the note line\n  ${note}\ndoes not match\n  ${NOTE}")
endif()
