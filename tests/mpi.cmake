# The MPI layer under real mpirun (1 to 4 ranks, --oversubscribe on 2 cores).
# Open MPI's own allocations are suppressed for LeakSanitizer
# (tests/lsan.supp); cfp's are still reported. For that, Open MPI's plugins
# stay loaded (so leak stacks name their library) and unwinding is full (its
# code has no frame pointers), so that the suppressions match its frames.
set(CFP_MPI_SAN_ENV
    "OMPI_MCA_mca_base_component_disable_dlclose=1"
    "ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0"
    "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/lsan.supp"
    "OMPI_ALLOW_RUN_AS_ROOT=1" "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1")
if (CFP_WITH_MPI)
  # e2e_modes runs --compare, whose multiprocessing row is an MPI job.
  set_tests_properties(e2e_modes PROPERTIES ENVIRONMENT "${CFP_TEST_ENV};${CFP_MPI_SAN_ENV}")
  add_test(NAME e2e_mpi COMMAND ${CFP_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e_mpi.py)
  set_tests_properties(e2e_mpi PROPERTIES LABELS "e2e;mpi" TIMEOUT 900 SKIP_RETURN_CODE 77
                       RUN_SERIAL TRUE
                       ENVIRONMENT "${CFP_TEST_ENV};${CFP_MPI_SAN_ENV}"
                       WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
else ()
  # The marker tests/run.sh greps for (jobs/build.sh saves cmake's output).
  message(STATUS "cfp: not registered: MPI tests (e2e_mpi): CFP_WITH_MPI is OFF")
endif ()
