# cfp as a Slurm job, on a private one-node Slurm (munged, slurmctld, slurmd
# as root, everything under build/tests/slurm; doc/slurm.md). slurm_up and
# slurm_down are the fixture around the tests that need it. Release suite
# only (label nosan). Ports: 16817 and 16818 unless CFP_SLURM_PORT_BASE is set
# in ctest's environment.
find_program(CFP_SLURMCTLD slurmctld)
find_program(CFP_SLURMD slurmd)
find_program(CFP_MUNGED munged)
find_program(CFP_SBATCH sbatch)
if (CFP_WITH_MPI AND CFP_SLURMCTLD AND CFP_SLURMD AND CFP_MUNGED AND CFP_SBATCH)
  set(CFP_SLURM_DIR ${CMAKE_CURRENT_BINARY_DIR}/slurm)
  cfp_script_test(NAME slurm_up COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/slurm/slurm-up.sh
                  ${CFP_SLURM_DIR} LABELS "slurm;nosan" TIMEOUT 60)
  cfp_script_test(NAME slurm_down COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/slurm/slurm-down.sh
                  ${CFP_SLURM_DIR} LABELS "slurm;nosan" TIMEOUT 60)
  cfp_script_test(NAME slurm_smoke COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/slurm_smoke.sh
                  ${CFP_SLURM_DIR} LABELS "slurm;nosan" TIMEOUT 180)
  # A daemon that cannot start fails slurm_up (exit 1, never the skip code
  # 77), and with it every test that requires the fixture.
  set_tests_properties(slurm_up PROPERTIES FIXTURES_SETUP slurm)
  set_tests_properties(slurm_down PROPERTIES FIXTURES_CLEANUP slurm)
  cfp_script_test(NAME slurm_jobs COMMAND ${CFP_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/slurm_jobs.py
                  ${CFP_SLURM_DIR} LABELS "slurm;nosan" TIMEOUT 400)
  set_tests_properties(slurm_smoke slurm_jobs PROPERTIES FIXTURES_REQUIRED slurm RESOURCE_LOCK slurm)
else ()
  # "cfp: not registered:" is the marker tests/run.sh greps for in
  # BUILD_DIR/cmake-configure.log (jobs/build.sh).
  set(cfp_missing "")
  foreach (cfp_pv slurmctld:CFP_SLURMCTLD slurmd:CFP_SLURMD munged:CFP_MUNGED sbatch:CFP_SBATCH)
    string(REPLACE ":" ";" cfp_pv "${cfp_pv}")
    list(GET cfp_pv 0 cfp_prog)
    list(GET cfp_pv 1 cfp_var)
    if (NOT ${cfp_var})
      list(APPEND cfp_missing ${cfp_prog})
    endif ()
  endforeach ()
  list(JOIN cfp_missing ", " cfp_missing)
  if (NOT CFP_WITH_MPI)
    set(cfp_missing "CFP_WITH_MPI is OFF")
  else ()
    set(cfp_missing "not found: ${cfp_missing} (apt-get install slurm-wlm munge)")
  endif ()
  message(STATUS "cfp: not registered: Slurm tests (slurm_up, slurm_smoke, slurm_jobs, slurm_down): ${cfp_missing}")
endif ()
