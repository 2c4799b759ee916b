# Text and CSV processors: textcsv_ref.py generates randomised texts and CSVs
# (fixed seed), runs them through test_text / test_csv in file mode and
# compares with references computed independently in Python (bytes.split,
# the surrogateescape decode, the token regex with collections.Counter, the
# csv module and the JSON number regex). The unit tables, chunking
# differentials and allocation-failure tests live in test_text / test_csv.
cfp_script_test(NAME textcsv_ref
                COMMAND ${CFP_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/textcsv_ref.py
                        $<TARGET_FILE:test_text> $<TARGET_FILE:test_csv>
                LABELS script textcsv
                TIMEOUT 300)
