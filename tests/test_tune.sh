#!/bin/sh
# test_tune.sh -- the tuning file (src/tune.c): the first process to meet a
# convolution shape measures its cuts and keeps the fastest in
# CACHE/tuning/, later ones read it and use what it says (bench --layers
# shows it), a cut never changes an output, --winograd's per-layer choice is
# kept there too, and a file of another binary, a damaged one or a cache
# that cannot be written cost only the measuring.  Which cut wins depends on
# the machine: nothing here asserts one, only that the file's choice is
# the one that runs.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
unset RESNET_TUNE
FIX=tests/fixtures/basic_small
M="-m $FIX/spec.json -w $FIX/weights.safetensors"
IMGS="tests/images/parity/chelsea.jpg tests/images/parity/coffee.png"
TUNING="$RESNET_HOME/tuning"
file() { ls "$TUNING"/*.tune 2>/dev/null; }
# every row of the file set to CUT (and Winograd to W)
set_rows() {
    sed -i "2,\$s/ | .*/ | $1 wino $2/" "$(file)"
}
hows() {  # the "how" of every direct convolution bench --layers reports
    /usr/bin/python3 -c 'import json,sys; print("\n".join(l["how"] for l in json.load(sys.stdin)["layers"] if l["how"]))'
}

RESNET_TUNE=off $R classify $M -f tsv $IMGS >"$T/own" 2>/dev/null
check "RESNET_TUNE=off: no tuning file" [ ! -e "$TUNING" ]
$R classify $M --no-cache -f tsv $IMGS >/dev/null 2>&1
check "--no-cache: no tuning file" [ ! -e "$TUNING" ]

$R classify $M -f tsv $IMGS >"$T/tuned" 2>"$T/err"
check "first run: exit 0, nothing on stderr" sh -c "[ $? -eq 0 ] && [ ! -s '$T/err' ]"
check "first run: one file, this binary and CPU in its first line" \
    sh -c "[ \$(ls '$TUNING' | wc -l) -eq 1 ] && head -1 '$(file)' | grep -q '^resnet-tuning 1 .*family'"
check "first run: a row per convolution shape, each with its cut" \
    sh -c "[ \$(grep -c ' | ocb [0-9]* chunk [0-9]* bands [0-9]* order [12] wino -1\$' '$(file)') -ge 5 ]"
check "measured cuts: the same output as the kernels' own" cmp "$T/own" "$T/tuned"
before=$(stat -c %Y.%i "$(file)")
sleep 1
$R classify $M -f tsv $IMGS >"$T/again" 2>/dev/null
check "second run: the file is read, not rewritten" [ "$(stat -c %Y.%i "$(file)")" = "$before" ]

set_rows "ocb 1 chunk 1 bands 1 order 2" -1
$R classify $M -f tsv $IMGS >"$T/narrow" 2>/dev/null
check "the narrowest cut from the file: the same output still" cmp "$T/own" "$T/narrow"

# bench uses the file as classify does, and shows each layer's cut
if [ -x /usr/bin/python3 ]; then
    B="bench -m resnet20_cifar -n 1 -t 1 --layers -f json"
    $R $B >/dev/null 2>&1
    set_rows "ocb 1 chunk 1 bands 1 order 2" -1
    $R $B 2>/dev/null | hows >"$T/how1"
    check "bench --layers: the file's cut is the one that runs (tiles 1x8, 1 in-block chunks)" \
        sh -c "[ -s '$T/how1' ] && ! grep -v 'tiles 1x[0-9]*, chunks [0-9]*x1 in-blocks, 1 bands.*group-major' '$T/how1'"
    RESNET_TUNE=off $R $B 2>/dev/null | hows >"$T/how0"
    check "bench --layers: without the file, the kernels' own cuts (wider tiles)" \
        grep -q 'tiles [2-9]x' "$T/how0"
    $R bench -m resnet20_cifar -n 1 -t 1 --no-tune --layers -f json 2>/dev/null | hows >"$T/how_nt"
    check "bench --no-tune: the kernels' own cuts" cmp "$T/how0" "$T/how_nt"

    # --winograd: measured per layer, kept in the same rows
    $R bench -m resnet20_cifar -n 1 -t 1 --winograd -f json >/dev/null 2>&1
    check "--winograd: its 3x3 stride-1 rows (1 thread) say whether Winograd was faster" \
        sh -c "grep ' t1 .* k3 s1 ' '$(file)' | grep -q 'wino [01]\$' && ! grep ' t1 .* k3 s1 ' '$(file)' | grep -q 'wino -1\$'"
    set_rows "ocb 0 chunk 0 bands 0 order 0" 1
    $R bench -m resnet20_cifar -n 1 -t 1 --winograd --layers -f json 2>/dev/null | hows >"$T/w1"
    check "--winograd, rows saying faster: those layers run by Winograd" \
        sh -c "[ \$(grep -c '^winograd' '$T/w1') -ge 10 ]"
    set_rows "ocb 0 chunk 0 bands 0 order 0" 0
    $R bench -m resnet20_cifar -n 1 -t 1 --winograd --layers -f json 2>/dev/null | hows >"$T/w0"
    check "--winograd, rows saying slower: every layer stays direct" \
        sh -c "[ -s '$T/w0' ] && ! grep -q '^winograd' '$T/w0'"
else
    skip "bench --layers and the tuning file: /usr/bin/python3 missing"
fi

# another binary's file (the header) or damaged rows: measured again, rewritten
printf 'resnet-tuning 1 1.2.3.4 some other build\n%s\n' "$(sed -n 2p "$(file)")" >"$(file)"
$R classify $M -f tsv $IMGS >"$T/other" 2>"$T/err"
check "another binary's file: ignored, measured again, same output" \
    sh -c "cmp '$T/own' '$T/other' && [ ! -s '$T/err' ] && head -1 '$(file)' | grep -qv '1.2.3.4'"
printf 'resnet-tuning 1 x\n\377\376 | ocb\n | | |\nno bar at all\n' >"$(file)"
$R classify $M -f tsv $IMGS >"$T/bad" 2>"$T/err"
check "a damaged file: no error, same output" sh -c "cmp '$T/own' '$T/bad' && [ ! -s '$T/err' ]"
check "no temporary files left" sh -c "! ls '$TUNING' | grep -q tmp"

: >"$T/not_a_dir"
RESNET_HOME="$T/not_a_dir" $R classify $M -f tsv $IMGS >"$T/ro" 2>"$T/err"
check "a cache folder that cannot be made: no error, same output" \
    sh -c "cmp '$T/own' '$T/ro' && [ ! -s '$T/err' ]"

finish tests/test_tune.sh
