#!/bin/sh
# run.sh -- `make test`: generate the PyTorch references (when torch is
# installed), run every test program and script, and total their PASS, FAIL
# and SKIP lines into one closing "N passed, N failed, N skipped".  With
# RESNET_TEST_STRICT=1 (CI, which installs everything) a skip fails the run.
cd "$(dirname "$0")/.." || exit 2
log=build/test.log
# Tests run the kernels' own cuts, the same on every machine (tune.h's
# measured ones give the same results, which test_conv proves, but which
# layers --winograd takes would depend on timing); test_tune.sh measures.
export RESNET_TUNE=off
: > "$log"
PY=/usr/bin/python3

if $PY -c 'import torch, torchvision' 2>/dev/null; then
    echo "generating full-size PyTorch references into tests/cache (reused when present)"
    if ! $PY tests/gen_reference.py --out tests/cache --full >> "$log" 2>&1; then
        echo "FAIL tests/gen_reference.py did not complete (see $log)" | tee -a "$log"
    fi
    # image files of every kind through PIL + torchvision, scored by resnet18's
    # weights just made, into tests/cache/preprocess (reused when present)
    if $PY -c 'import skimage' 2>/dev/null; then
        if ! $PY tests/gen_preprocess_reference.py >> "$log" 2>&1; then
            echo "FAIL tests/gen_preprocess_reference.py did not complete (see $log)" | tee -a "$log"
        fi
    fi
    # the built-in Keras and timm nets, into tests/cache/keras (reused when present)
    if $PY -c 'import h5py, keras_applications' 2>/dev/null; then
        if ! $PY tests/gen_keras_reference.py --full --out tests/cache >> "$log" 2>&1; then
            echo "FAIL tests/gen_keras_reference.py did not complete (see $log)" | tee -a "$log"
        fi
    else
        echo "SKIP full-size Keras/timm references: python3-h5py or python3-keras-applications" \
             "not installed (make deps installs them)" | tee -a "$log"
    fi
else
    echo "SKIP full-size PyTorch references: python3-torch not installed (make deps installs it)" |
        tee -a "$log"
fi

for t in build/test_*; do
    [ -x "$t" ] || continue
    echo "== $t"
    out=$("./$t" 2>&1); status=$?
    printf '%s\n' "$out" >> "$log"
    printf '%s\n' "$out" | grep -E '^(FAIL|SKIP|#)'
    if [ $status -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL'; then
        echo "FAIL $t exited with status $status" | tee -a "$log"
    fi
done

for s in tests/test_*.sh; do
    [ -f "$s" ] || continue
    echo "== $s"
    out=$(sh "$s" 2>&1); status=$?
    printf '%s\n' "$out" >> "$log"
    printf '%s\n' "$out" | grep -E '^(FAIL|SKIP|#)'
    if [ $status -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL'; then
        echo "FAIL $s exited with status $status" | tee -a "$log"
    fi
done

passed=$(grep -c '^PASS' "$log")
failed=$(grep -c '^FAIL' "$log")
skipped=$(grep -c '^SKIP' "$log")
echo "(details: $log)"
echo "$passed passed, $failed failed, $skipped skipped"
if [ "${RESNET_TEST_STRICT:-0}" = 1 ] && [ "$skipped" -gt 0 ]; then
    echo "FAIL RESNET_TEST_STRICT=1: $skipped check(s) skipped (every dependency should be installed)"
    exit 1
fi
[ "$failed" -eq 0 ]
