#!/bin/sh
# test_keras_cli.sh -- the Keras side of the command line: `summary --v2`,
# the Keras Applications summaries against their golden files, and a Keras
# .h5 weight file through `classify`.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
K=tests/fixtures/keras
IMG=tests/images/parity

$R summary --depth 50 --v2 >"$T/v2" 2>"$T/err"
check "summary --depth 50 --v2: exit 0, nothing on stderr" sh -c "[ $? -eq 0 ] && ! [ -s '$T/err' ]"
check "summary --depth 50 --v2 is Keras's ResNet50V2 (25,613,800 parameters)" \
    sh -c "head -1 '$T/v2' | grep -qx 'Model: \"resnet50v2\"' && grep -qx 'Total params: 25,613,800' '$T/v2'"
check "summary --depth 152 --v2: 60,380,648 parameters" \
    sh -c "$R summary --depth 152 --v2 | grep -qx 'Total params: 60,380,648'"
$R summary --v2 >/dev/null 2>"$T/err"
check "summary --v2 without --depth: exit 2, says why" sh -c "[ $? -eq 2 ] && grep -q -- '--v2 goes with --depth' '$T/err'"
check "summary --help documents --v2" sh -c "$R summary --help | grep -q -- '--v2'"
check "the man page documents --v2" grep -q -- '\\-\\-v2' man/resnet.1
for m in keras_resnet50 keras_resnet50v2; do
    check "summary -m $m equals tests/golden/$m.summary.txt" \
        sh -c "$R summary -m $m | cmp -s - tests/golden/$m.summary.txt"
done

# a Keras HDF5 file through classify, by layer order
$R classify -m $K/keras_v1_small/spec.json -w $K/keras_v1_small/weights.h5 -k 2 -f tsv \
    $IMG/chelsea.jpg >"$T/out" 2>"$T/err"
check "classify with a Keras .h5: exit 0, two labels, nothing on stderr" \
    sh -c "[ $? -eq 0 ] && [ \$(wc -l <'$T/out') -eq 2 ] && ! [ -s '$T/err' ]"
$R classify -m $K/keras_v2_small/spec.json -w $K/keras_v1_small/weights.h5 $IMG/chelsea.jpg \
    >"$T/out" 2>"$T/err"
check "a .h5 of another network: exit 2, one error naming the file and a weight" \
    sh -c "[ $? -eq 2 ] && [ \$(wc -l <'$T/err') -eq 1 ] && grep -q 'weights.h5' '$T/err' && grep -q 'kernel:0\|layers with weights\|weights, the spec' '$T/err'"

finish tests/test_keras_cli.sh
