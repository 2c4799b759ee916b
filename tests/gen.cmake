# Dataset generator: test_gen (unit tests, built by the glob in
# CMakeLists.txt) generates a default dataset in tool mode, and gen_check.py
# checks it with independent readers (PIL, zlib, Python's csv module).
cfp_script_test(NAME gen_check
                COMMAND ${CFP_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/gen_check.py
                        $<TARGET_FILE:test_gen>
                LABELS script gen
                TIMEOUT 600)
