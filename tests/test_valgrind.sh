#!/bin/sh
# test_valgrind.sh -- one `resnet classify` under valgrind's memcheck: no
# invalid read or write, no jump on uninitialised memory, no definite leak,
# on both paths of the product (images classified, and images that fail).
#
# OpenMP's runtime keeps its thread pool until exit, which memcheck reports as
# "still reachable" or "possibly lost" (thread stacks): only definite leaks
# and memory errors fail.
#
# An ASan build (make SANITIZE=1) cannot run under valgrind.  That is the
# build's design, not a missing tool, so it is no skip: there ASan + UBSan
# check every test's accesses and leaks (not reads of uninitialised memory,
# which only memcheck sees), and the normal build's run -- .ci/run makes
# both, and a skip fails it -- is where memcheck runs.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
FIX=tests/fixtures/basic_small

# The binary says itself whether it is an ASan build, so a normal build is
# never taken for one and let off memcheck.
if ASAN_OPTIONS=help=1 $R --version 2>&1 | grep -q 'Available flags for AddressSanitizer'; then
    echo "# ./resnet is an ASan build (SANITIZE=1): valgrind cannot run it; ASan checks its" \
         "accesses and leaks, memcheck runs in the normal build's make test"
    finish tests/test_valgrind.sh
fi
if ! command -v valgrind >/dev/null 2>&1; then
    skip "classify under valgrind memcheck: valgrind not installed (make deps installs it)"
    finish tests/test_valgrind.sh
fi

# A scaled JPEG with EXIF orientation, a 16-bit PNG, a CMYK JPEG, and a
# truncated JPEG and a huge-header PNG that fail.
IMGS="tests/images/mixed/ok_chelsea_exif6.jpg tests/images/mixed/ok_coins_gray16.png \
tests/images/mixed/ok_rocket_cmyk.jpg tests/images/mixed/bad_truncated.jpg tests/images/mixed/bad_huge.png"
valgrind --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
    --show-leak-kinds=definite --log-file="$T/vg" \
    $R classify -m $FIX/spec.json -w $FIX/weights.safetensors -t 2 -f json $IMGS >"$T/out" 2>"$T/err"
status=$?
check "classify under memcheck: exit status 1 for the 2 failed images, not 9 (memcheck errors; got $status)" \
    [ $status -eq 1 ]
check "memcheck: ERROR SUMMARY: 0 errors" grep -q 'ERROR SUMMARY: 0 errors' "$T/vg"
check "memcheck: no definitely lost bytes" sh -c \
    "! grep -E 'definitely lost: [1-9]' '$T/vg' && grep -qE 'All heap blocks were freed|definitely lost: 0 bytes|LEAK SUMMARY' '$T/vg'"
check "the 3 good images were classified under memcheck" [ "$(grep -c '"top":\[' "$T/out")" -eq 3 ]
check "the 2 bad images were reported under memcheck" [ "$(grep -c '"error":' "$T/out")" -eq 2 ]
if [ $fail -ne 0 ]; then
    sed 's/^/# /' "$T/vg" | grep -v '^# ==[0-9]*== *$' | head -60
fi
finish tests/test_valgrind.sh
