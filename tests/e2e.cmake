# End-to-end tests: the real cfp binary against real loopback servers, with
# the HDF5 results read back by h5py.
cfp_script_test(NAME e2e_badinput COMMAND ${CFP_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e_badinput.py
                LABELS e2e)
cfp_script_test(NAME e2e_dataset COMMAND ${CFP_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e_dataset.py
                LABELS e2e)
cfp_script_test(NAME e2e_cli COMMAND ${CFP_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e_cli.py
                LABELS e2e)
# Not in the ThreadSanitizer suite: --compare's multiprocessing row runs Open
# MPI, whose uninstrumented internals (PMIx, libevent) TSan reports; the
# threading and async engines are covered there by e2e_badinput and test_async.
cfp_script_test(NAME e2e_modes COMMAND ${CFP_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e_modes.py
                LABELS "e2e")
set_tests_properties(e2e_badinput PROPERTIES LABELS "e2e;tsan")
# Stop (signals, grace), --resume exactly once, kill -9 at many points,
# --shard + merge; its MPI part runs only outside the sanitizer builds.
cfp_script_test(NAME e2e_resume COMMAND ${CFP_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e_resume.py
                LABELS e2e)
# The fault and limit matrix (doc: tests/e2e_faults.py), memory and fds over
# rounds of faults, the filesystem, secrets.
cfp_script_test(NAME e2e_faults COMMAND ${CFP_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e_faults.py
                LABELS e2e)
# The soak, short: 4,000 URLs (10 % faults) through async -c 256 and under
# mpirun -np 3 (jobs/soak.sh runs 100,000). Release suite only.
cfp_script_test(NAME soak_short COMMAND ${CFP_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/soak.py
                --urls 4000 --every 500 --np 3 LABELS "e2e;nosan")
# The sequential engine end to end under valgrind (Release build only:
# valgrind and the sanitizers do not mix).
find_program(CFP_VALGRIND valgrind)
if (CFP_VALGRIND AND NOT CFP_SANITIZE)
  cfp_script_test(NAME valgrind_e2e_sequential COMMAND ${CFP_TEST_PYTHON}
                  ${CMAKE_CURRENT_SOURCE_DIR}/valgrind_e2e.py LABELS "valgrind" TIMEOUT 900)
elseif (NOT CFP_SANITIZE)
  # The marker tests/run.sh greps for (jobs/build.sh saves cmake's output).
  # tests/CMakeLists.txt registers the valgrind_test_* runs on the same condition.
  message(STATUS "cfp: not registered: valgrind runs (valgrind_e2e_sequential, valgrind_test_*): "
                 "valgrind not found (apt-get install valgrind)")
endif ()
# The stop path (signal handler, atomics, grace) in the threaded engines is
# also run under ThreadSanitizer.
set_tests_properties(e2e_resume PROPERTIES LABELS "e2e;tsan")
# --per-host-connections, counted by the server; the threading engine's
# per-origin limiter also runs under ThreadSanitizer.
cfp_script_test(NAME e2e_politeness COMMAND ${CFP_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e_politeness.py
                LABELS "e2e;tsan")
