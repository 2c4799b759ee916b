# The MPI layer under real mpirun (1 to 4 ranks, --oversubscribe on 2 cores).
# Open MPI's own allocations and thread internals are suppressed for the
# sanitizers (tests/lsan.supp, tests/tsan.supp); cfp's are still reported.
# What the sanitizers need around Open MPI: its plugins stay loaded (so leak
# stacks name their library) and full unwinding (its code has no frame
# pointers), so that tests/lsan.supp and tests/tsan.supp match its frames.
set(CFP_MPI_SAN_ENV
    "OMPI_MCA_mca_base_component_disable_dlclose=1"
    "ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0"
    "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/lsan.supp"
    "TSAN_OPTIONS=halt_on_error=1:suppressions=${CMAKE_CURRENT_SOURCE_DIR}/tsan.supp"
    "OMPI_ALLOW_RUN_AS_ROOT=1" "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1")
if (CFP_WITH_MPI)
  # e2e_modes runs --compare, whose multiprocessing row is an MPI job.
  set_tests_properties(e2e_modes PROPERTIES ENVIRONMENT "${CFP_TEST_ENV};${CFP_MPI_SAN_ENV}")
  add_test(NAME e2e_mpi COMMAND ${CFP_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e_mpi.py)
  set_tests_properties(e2e_mpi PROPERTIES LABELS "e2e;mpi" TIMEOUT 900 SKIP_RETURN_CODE 77
                       RUN_SERIAL TRUE
                       ENVIRONMENT "${CFP_TEST_ENV};${CFP_MPI_SAN_ENV}"
                       WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
endif ()
