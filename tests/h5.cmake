# HDF5 results file: test_h5 writes a known set of runs (`test_h5 write FILE`)
# and h5_check.py reads them back with h5py and h5dump, recomputing every row
# from the generator's description (doc/hdf5-schema.md is the contract).
cfp_script_test(NAME h5_check
  COMMAND ${CFP_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/h5_check.py
          $<TARGET_FILE:test_h5> ${CMAKE_CURRENT_BINARY_DIR}/h5_check.h5
  LABELS script h5
  TIMEOUT 120)
