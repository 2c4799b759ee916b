# A second, MPI-less build of cfp (Release suite only: it compiles the core again).
if (NOT CFP_SANITIZE)
  cfp_script_test(NAME build_nompi COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/nompi_check.sh
                  ${CMAKE_BINARY_DIR}/nompi-build LABELS "build" TIMEOUT 900)
endif ()
