# cfp across two "hosts" on one machine (doc/hosts.md): network namespaces
# hosta and hostb with their own hostnames on a private subnet (10.77.0.0/24),
# plus a two-node Slurm on them (slurmctld on hosta, one slurmd per host;
# ports 16827 and 16828 unless CFP_HOSTS_SLURM_PORT_BASE is set in ctest's
# environment; 10.77.0.0/24 unless CFP_HOSTS_NET is), everything under
# build/tests/hosts. hosts_up and hosts_down are the fixture around the tests
# that need it. Release suite only (label nosan); needs root (hosts_up exits
# 77, a skip, without it).
#
# Runs alongside the one-node Slurm fixture (tests/slurm.cmake): other ports,
# other munged, other directories, other hostnames (Open MPI's /tmp session
# directories and /dev/shm segments are named after the hostname). The
# namespace names are machine-wide, so the tests that use them share the
# RESOURCE_LOCK "hosts" (fault tests that pull a cable must hold it too).
find_program(CFP_IP ip)
find_program(CFP_NSENTER nsenter)
find_program(CFP_UNSHARE unshare)
find_program(CFP_MPIRUN mpirun)
find_program(CFP_HOSTS_SLURMCTLD slurmctld)
find_program(CFP_HOSTS_SLURMD slurmd)
find_program(CFP_HOSTS_MUNGED munged)
find_program(CFP_HOSTS_SBATCH sbatch)
find_program(CFP_HOSTS_SRUN srun)
if (CFP_WITH_MPI AND CFP_IP AND CFP_NSENTER AND CFP_UNSHARE AND CFP_MPIRUN AND CFP_HOSTS_SLURMCTLD
    AND CFP_HOSTS_SLURMD AND CFP_HOSTS_MUNGED AND CFP_HOSTS_SBATCH AND CFP_HOSTS_SRUN)
  set(CFP_HOSTS_DIR ${CMAKE_CURRENT_BINARY_DIR}/hosts)
  set(CFP_HOSTS_SH ${CMAKE_CURRENT_SOURCE_DIR}/hosts)
  # Two hosts, then Slurm on them. A failure of either leaves nothing behind
  # (each tears down what it made) and fails every test of the fixture.
  cfp_script_test(NAME hosts_up
                  COMMAND bash -c "\"$1/hosts-up.sh\" \"$2\" 2 && \"$1/slurm2-up.sh\" \"$2\""
                          hosts_up ${CFP_HOSTS_SH} ${CFP_HOSTS_DIR}
                  LABELS "hosts;nosan" TIMEOUT 60)
  cfp_script_test(NAME hosts_down COMMAND bash ${CFP_HOSTS_SH}/hosts-down.sh ${CFP_HOSTS_DIR}
                  LABELS "hosts;nosan" TIMEOUT 60)
  set_tests_properties(hosts_up PROPERTIES FIXTURES_SETUP hosts RESOURCE_LOCK hosts)
  set_tests_properties(hosts_down PROPERTIES FIXTURES_CLEANUP hosts RESOURCE_LOCK hosts)
  cfp_script_test(NAME hosts_smoke COMMAND ${CFP_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/hosts_smoke.py
                  ${CFP_HOSTS_DIR} LABELS "hosts;nosan" TIMEOUT 180)
  cfp_script_test(NAME hosts_jobs COMMAND ${CFP_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/hosts_jobs.py
                  ${CFP_HOSTS_DIR} LABELS "hosts;nosan" TIMEOUT 400)
  set_tests_properties(hosts_smoke hosts_jobs PROPERTIES FIXTURES_REQUIRED hosts RESOURCE_LOCK hosts)
else ()
  # "cfp: not registered:" is the marker tests/run.sh greps for in
  # BUILD_DIR/cmake-configure.log (jobs/build.sh).
  set(cfp_missing "")
  foreach (cfp_pv ip:CFP_IP nsenter:CFP_NSENTER unshare:CFP_UNSHARE mpirun:CFP_MPIRUN
              slurmctld:CFP_HOSTS_SLURMCTLD slurmd:CFP_HOSTS_SLURMD munged:CFP_HOSTS_MUNGED
              sbatch:CFP_HOSTS_SBATCH srun:CFP_HOSTS_SRUN)
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
    set(cfp_missing "not found: ${cfp_missing} (apt-get install iproute2 util-linux openmpi-bin slurm-wlm munge)")
  endif ()
  message(STATUS "cfp: not registered: two-host tests (hosts_up, hosts_smoke, hosts_jobs): ${cfp_missing}")
endif ()
