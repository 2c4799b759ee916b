# No task can hold a run hostage (issue #14): what a file:// URL may name,
# a task stuck in the kernel past --task-timeout and during a stop, in every
# engine; its mpirun parts run outside the sanitizer builds. In the
# ThreadSanitizer suite too: the watchdog and its lanes are threads.
cfp_script_test(NAME e2e_stuck COMMAND ${CFP_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e_stuck.py
                LABELS "e2e;tsan")
set_property(TEST e2e_stuck APPEND PROPERTY ENVIRONMENT "CFP_WITH_MPI=${CFP_WITH_MPI}")
