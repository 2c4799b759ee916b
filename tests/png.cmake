# PNG module: output quality of the box + Lanczos shrink against Pillow (its
# plain LANCZOS and its own two stages) and a float64 evaluation of the
# documented filter, on generated images of every colour type and on PngSuite
# ($CFP_SHARED_DATA/pngsuite, skipped if absent).
# test_png (the unit-test executable) doubles as the command-line driver.
cfp_script_test(NAME png_psnr
                COMMAND ${CFP_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/png_psnr.py
                        $<TARGET_FILE:test_png>
                LABELS png quality)
