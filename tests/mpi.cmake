# The MPI layer under real mpirun (1 to 4 ranks, --oversubscribe on 2 cores).
# Open MPI's own allocations are suppressed in LeakSanitizer by
# tests/lsan.supp (tests/run.sh passes it); cfp's leaks are still reported.
if (CFP_WITH_MPI)
  add_test(NAME e2e_mpi COMMAND ${CFP_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e_mpi.py)
  set_tests_properties(e2e_mpi PROPERTIES LABELS "e2e;mpi" TIMEOUT 900 SKIP_RETURN_CODE 77
                       RUN_SERIAL TRUE
                       ENVIRONMENT "${CFP_TEST_ENV};OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"
                       WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
endif ()
