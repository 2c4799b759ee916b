# `cfp serve` hardening, on the real binary with raw sockets: default bind
# 127.0.0.1, no file from outside --root (traversal, encodings, symlinks,
# absolute-form targets), size/connection/idle limits, SIGTERM with
# suspended and idle connections. Waits out the 30 s idle timeout once.
cfp_script_test(NAME e2e_serve COMMAND ${CFP_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e_serve.py
                LABELS "e2e;tsan" TIMEOUT 300)
