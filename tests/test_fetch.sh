#!/bin/sh
# test_fetch.sh -- `resnet fetch` against a local HTTP server on 127.0.0.1
# (tests/http_server.py): a good file, a 404, a connection cut mid-file and
# resumed, a file whose tensors do not fit the model, a copy damaged on the
# way (--sha256), no server at all; the cache must only ever hold files that
# load into their model, each with its SHA-256 in the sidecar.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
R=$PWD/resnet
FIX=tests/fixtures/basic_small
IMG=tests/images/parity
PY=/usr/bin/python3
SERVER=
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$T"' EXIT

# --- usage (no server needed) ---
check "fetch --help exits 0" sh -c "$R fetch --help | grep -q -- '--url'"
check "fetch without a model exits 2" sh -c "$R fetch 2>/dev/null; [ \$? -eq 2 ]"
check "fetch --list names resnet50's default set and its top-1" \
    sh -c "$R fetch --list | grep -Eq '^resnet50 +tv2\\* +80\\.86'"
check "fetch of an unknown model exits 2 with one line" \
    sh -c "$R fetch frobnet 2>'$T/err'; [ \$? -eq 2 ] && [ \$(wc -l <'$T/err') -eq 1 ]"
check "fetch of an unknown set lists the model's sets" \
    sh -c "$R fetch resnet50:zz 2>'$T/err'; [ \$? -eq 2 ] && grep -q 'tv2, a1, tv' '$T/err'"

# --- no server: offline ---
RESNET_HOME="$T/off" RESNET_FETCH_BASE=http://127.0.0.1:9 $R fetch -q resnet18 >"$T/out" 2>"$T/err"
rc=$?
check "offline: exit 2, one line saying it cannot reach the host" \
    sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$T/err') -eq 1 ] && grep -q 'cannot reach' '$T/err'"
check "offline: nothing in the cache" sh -c "[ -z \"\$(ls -A '$T/off' 2>/dev/null)\" ]"

if ! [ -x $PY ]; then
    skip "the fetch tests against a local server: $PY not installed (make deps installs it)"
    finish tests/test_fetch.sh
fi

# --- the server ---
W=$T/www
mkdir -p "$W/good" "$W/timm/resnet18.tv_in1k/resolve/main" "$W/timm/resnet50.tv2_in1k/resolve/main"
cp $FIX/weights.safetensors "$W/good/weights.safetensors"
cp tests/fixtures/bottleneck_small/weights.safetensors "$W/good/other.safetensors"
cp $FIX/weights.safetensors "$W/timm/resnet18.tv_in1k/resolve/main/model.safetensors"
$PY tests/http_server.py --root "$W" --log "$T/log" --port-file "$T/port" &
SERVER=$!
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    [ -s "$T/port" ] && break
    sleep 0.25
done
if ! [ -s "$T/port" ]; then
    echo "FAIL the local HTTP server did not start"
    fail=$((fail + 1))
    finish tests/test_fetch.sh
fi
BASE=http://127.0.0.1:$(cat "$T/port")
cut() { $PY -c "import urllib.request; urllib.request.urlopen('$BASE/_cut?n=$1').read()"; }
fetch() {  # fetch HOME ARGS...: resnet fetch with that cache, output in $T/out, $T/err
    home=$1
    shift
    RESNET_HOME="$home" RESNET_FETCH_BASE=$BASE $R fetch -q "$@" >"$T/out" 2>"$T/err"
}
fetch_good() {  # fetch_good HOME N: the server cuts its next N answers; the log cleared, the good file fetched
    cut "$2"
    : >"$T/log"
    fetch "$1" $FIX/spec.json --url "$BASE/good/weights.safetensors"
}
clean() {  # clean DIR: no weights, partial download or sidecar of basic-small in DIR
    ! ls "$1"/basic-small* >/dev/null 2>&1
}

# --- a good file ---
H=$T/good
fetch "$H" $FIX/spec.json --url "$BASE/good/weights.safetensors"
rc=$?
check "good file: exit 0" [ $rc -eq 0 ]
check "good file: kept as NAME.safetensors, byte for byte" cmp "$H/basic-small.safetensors" $FIX/weights.safetensors
check "good file: a sidecar records the URL" grep -q "$BASE/good/weights.safetensors" "$H/basic-small.safetensors.json"
check "good file: no partial download left" sh -c "! ls '$H'/*.part"
check "good file: stdout says where it went" grep -q "$H/basic-small.safetensors" "$T/out"
RESNET_HOME="$H" $R classify -m $FIX/spec.json -f tsv $IMG/chelsea.jpg >"$T/cached" 2>/dev/null
$R classify -m $FIX/spec.json -w $FIX/weights.safetensors -f tsv $IMG/chelsea.jpg >"$T/direct"
check "good file: classify without -w uses it" sh -c "[ -s '$T/cached' ] && cmp '$T/cached' '$T/direct'"

# --- SHA-256: recorded for every download, and --sha256 refuses any other file ---
sidecar_sha() {  # sidecar_sha FILE: the sha256 its sidecar records
    $PY -c "import json, sys; print(json.load(open(sys.argv[1] + '.json'))['sha256'])" "$1"
}
GOOD_SHA=$(sha256sum $FIX/weights.safetensors | awk '{print $1}')
check "good file: the sidecar records its SHA-256, as sha256sum computes it" \
    [ "$(sidecar_sha "$T/good/basic-small.safetensors")" = "$GOOD_SHA" ]
check "good file: stdout gives its SHA-256" grep -q "SHA-256 $GOOD_SHA\$" "$T/out"
H=$T/sha_ok
fetch "$H" $FIX/spec.json --url "$BASE/good/weights.safetensors" \
    --sha256 "$(echo $GOOD_SHA | tr a-f A-F)"
check "--sha256 of the file (in upper case): exit 0, kept" \
    sh -c "[ $? -eq 0 ] && cmp '$H/basic-small.safetensors' $FIX/weights.safetensors"
# One flipped bit on the way: the file still loads, so only the hash tells.
H=$T/flip_unchecked
fetch "$H" $FIX/spec.json --url "$BASE/_flip/good/weights.safetensors"
rc=$?
FLIP_SHA=$(sha256sum "$H/basic-small.safetensors" 2>/dev/null | awk '{print $1}')
check "a damaged copy without --sha256: it loads, so it is kept, its own SHA-256 recorded" \
    sh -c "[ $rc -eq 0 ] && ! cmp -s '$H/basic-small.safetensors' $FIX/weights.safetensors \
           && [ '$FLIP_SHA' != '$GOOD_SHA' ] && [ '$(sidecar_sha "$H/basic-small.safetensors")' = '$FLIP_SHA' ]"
H=$T/flip
fetch "$H" $FIX/spec.json --url "$BASE/_flip/good/weights.safetensors" --sha256 "$GOOD_SHA"
rc=$?
check "a damaged copy with --sha256: exit 2, one line giving both SHA-256s" \
    sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$T/err') -eq 1 ] && grep -q 'SHA-256 $FLIP_SHA, not the $GOOD_SHA' '$T/err'"
check "a damaged copy with --sha256: deleted, nothing kept, not even the partial file" clean "$H"
: >"$T/log"
for bad in xyz "${GOOD_SHA}0" "$(echo $GOOD_SHA | sed 's/^.//')" "$(echo $GOOD_SHA | sed 's/^./g/')"; do
    fetch "$T/sha_bad" $FIX/spec.json --url "$BASE/good/weights.safetensors" --sha256 "$bad"
    rc=$?
    check "--sha256 ${bad}: exit 2, a usage error naming it, nothing downloaded" \
        sh -c "[ $rc -eq 2 ] && grep -q -- '--sha256 needs 64 hex digits, not \"$bad\"' '$T/err' \
               && [ ! -s '$T/log' ] && ! ls '$T/sha_bad'/basic-small* >/dev/null 2>&1"
done
check "--sha256 with two models: exit 2" \
    sh -c "RESNET_HOME='$T/sha_two' $R fetch resnet18 resnet34 --sha256 $GOOD_SHA 2>/dev/null; [ \$? -eq 2 ]"

# --- a standard output that cannot be written: the report is lost, not the file ---
RESNET_HOME="$T/full" RESNET_FETCH_BASE=$BASE $R fetch -q $FIX/spec.json --url "$BASE/good/weights.safetensors" \
    >/dev/full 2>"$T/err"
check "stdout /dev/full: exit 3, one line naming the error, the file still kept" \
    sh -c "[ $? -eq 3 ] && [ \$(wc -l <'$T/err') -eq 1 ] && grep -q 'No space left on device' '$T/err' \
           && cmp '$T/full/basic-small.safetensors' $FIX/weights.safetensors"

# --- without RESNET_HOME: into $XDG_CACHE_HOME/resnet ---
env -u RESNET_HOME HOME="$T/home_unused" XDG_CACHE_HOME="$T/xdg" RESNET_FETCH_BASE=$BASE \
    $R fetch -q $FIX/spec.json --url "$BASE/good/weights.safetensors" >"$T/out" 2>"$T/err"
check "RESNET_HOME unset: fetch writes into \$XDG_CACHE_HOME/resnet" \
    sh -c "[ $? -eq 0 ] && cmp '$T/xdg/resnet/basic-small.safetensors' $FIX/weights.safetensors"

# --- a Keras HDF5 file: kept as NAME.h5, found by classify ---
KFIX=tests/fixtures/keras/keras_v1_small
cp $KFIX/weights.h5 "$W/good/keras.h5"
H=$T/keras
fetch "$H" $KFIX/spec.json --url "$BASE/good/keras.h5"
rc=$?
check "Keras HDF5 file: checked and kept as NAME.h5" \
    sh -c "[ $rc -eq 0 ] && cmp '$H/keras-v1-small.h5' $KFIX/weights.h5 && ! [ -e '$H/keras-v1-small.safetensors' ]"
RESNET_HOME="$H" $R classify -m $KFIX/spec.json -f tsv $IMG/chelsea.jpg >"$T/cached" 2>/dev/null
$R classify -m $KFIX/spec.json -w $KFIX/weights.h5 -f tsv $IMG/chelsea.jpg >"$T/direct"
check "Keras HDF5 file: classify without -w uses it" sh -c "[ -s '$T/cached' ] && cmp '$T/cached' '$T/direct'"

# --- through a redirect, as from Hugging Face ---
H=$T/redirect
fetch "$H" $FIX/spec.json --url "$BASE/_redirect/good/weights.safetensors"
check "redirect: followed, file kept" sh -c "[ $? -eq 0 ] && cmp '$H/basic-small.safetensors' $FIX/weights.safetensors"

# --- a 404 ---
H=$T/404
fetch "$H" $FIX/spec.json --url "$BASE/good/missing.safetensors"
rc=$?
check "404: exit 2, one line naming the status" \
    sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$T/err') -eq 1 ] && grep -q 'HTTP 404' '$T/err'"
check "404: nothing in the cache" clean "$H"

# --- tensors that do not fit the model ---
H=$T/mismatch
fetch "$H" $FIX/spec.json --url "$BASE/good/other.safetensors"
rc=$?
check "mismatched tensors: exit 2, naming the tensor" \
    sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$T/err') -eq 1 ] && grep -q 'does not fit' '$T/err' && grep -q 'shape' '$T/err'"
check "mismatched tensors: nothing in the cache, not even the partial file" clean "$H"
fetch "$H" resnet18
rc=$?
check "built-in model through RESNET_FETCH_BASE: the publisher's path is asked for" \
    grep -q '^GET /timm/resnet18.tv_in1k/resolve/main/model.safetensors - 200' "$T/log"
check "built-in model, wrong file: exit 2 and nothing kept" \
    sh -c "[ $rc -eq 2 ] && ! ls '$H'/resnet18* >/dev/null 2>&1"

# --- a connection cut mid-file: resumed in the same run ---
H=$T/cut1
fetch_good "$H" 1
rc=$?
check "cut once: exit 0, the file is whole" \
    sh -c "[ $rc -eq 0 ] && cmp '$H/basic-small.safetensors' $FIX/weights.safetensors"
check "cut once: the second request asks for the rest (Range, 206)" \
    sh -c "grep -q ' 200 cut\$' '$T/log' && grep -Eq ' bytes=[1-9][0-9]*- 206\$' '$T/log'"
check "cut once: the SHA-256 recorded is the whole file's" \
    [ "$(sidecar_sha "$H/basic-small.safetensors")" = "$GOOD_SHA" ]

# --- the limit: one run makes at most 5 requests (src/fetch.c, MAX_ATTEMPTS) ---
# That is 4 resumes; man/resnet.1's "resumed ... up to five times" reads
# as 5.  The checks follow the code.
requests() {  # requests: how many times the server was asked for the good file since the log was cleared
    grep -c '^GET /good/weights.safetensors ' "$T/log"
}
H=$T/cut4
fetch_good "$H" 4
rc=$?
check "cut 4 times: resumed 4 times in the same run (5 requests), exit 0, the file whole" \
    sh -c "[ $rc -eq 0 ] && [ $(requests) -eq 5 ] && cmp '$H/basic-small.safetensors' $FIX/weights.safetensors"

# --- cut on every request: fails, keeps the partial file, resumes next run ---
H=$T/cutall
fetch_good "$H" 100
rc=$?
check "cut every time: exit 2, says to run it again to resume" \
    sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$T/err') -eq 1 ] && grep -q 'resume' '$T/err'"
check "cut every time: gives up after 5 requests (got $(requests))" [ "$(requests)" -eq 5 ]
check "cut every time: no weights in the cache, a partial download kept" \
    sh -c "! [ -e '$H/basic-small.safetensors' ] && ls '$H'/basic-small.*.part"
part=$(ls "$H"/basic-small.*.part 2>/dev/null)
have=$(wc -c <"$part" 2>/dev/null || echo 0)
fetch_good "$H" 0
rc=$?
check "next run: resumes from the partial file's end" grep -q " bytes=$have- 206\$" "$T/log"
check "next run: exit 0, the file is whole, the partial file gone" \
    sh -c "[ $rc -eq 0 ] && cmp '$H/basic-small.safetensors' $FIX/weights.safetensors && ! [ -e '$part' ]"

# --- the sidecar: classify evaluates as it says, for its model only ---
cp $FIX/weights.safetensors "$T/w.safetensors"
$R classify -m $FIX/spec.json -w "$T/w.safetensors" -f tsv $IMG/chelsea.jpg >"$T/plain"
printf '{"model": "basic-small", "set": "x", "preprocess": {"resize": 160}}\n' >"$T/w.safetensors.json"
$R classify -m $FIX/spec.json -w "$T/w.safetensors" -f tsv $IMG/chelsea.jpg >"$T/side"
check "sidecar resize: classify applies it" sh -c "[ -s '$T/side' ] && ! cmp -s '$T/plain' '$T/side'"
printf '{"model": "another", "preprocess": {"resize": 160}}\n' >"$T/w.safetensors.json"
$R classify -m $FIX/spec.json -w "$T/w.safetensors" -f tsv $IMG/chelsea.jpg >"$T/side"
check "sidecar of another model: ignored" cmp "$T/plain" "$T/side"
printf '{"model": "basic-small", "set": "x", "preprocess": {"interpolation": "bicubic"}}\n' \
    >"$T/w.safetensors.json"
$R classify -m $FIX/spec.json -w "$T/w.safetensors" -f tsv $IMG/chelsea.jpg >"$T/side"
check "sidecar interpolation: classify resizes as it says" sh -c "[ -s '$T/side' ] && ! cmp -s '$T/plain' '$T/side'"
printf '{"model": "basic-small", "preprocess": {"interpolation": "lanczos"}}\n' >"$T/w.safetensors.json"
$R classify -m $FIX/spec.json -w "$T/w.safetensors" $IMG/chelsea.jpg >/dev/null 2>"$T/err"
check "sidecar interpolation lanczos: exit 2 naming the key" \
    sh -c "[ $? -eq 2 ] && grep -q 'preprocess.interpolation' '$T/err'"
printf 'not json' >"$T/w.safetensors.json"
$R classify -m $FIX/spec.json -w "$T/w.safetensors" $IMG/chelsea.jpg >/dev/null 2>"$T/err"
check "broken sidecar: exit 2 naming it" sh -c "[ $? -eq 2 ] && grep -q 'w.safetensors.json' '$T/err'"

# --- real-size published layouts, when make test generated them (PyTorch) ---
if [ -s tests/cache/resnet50/weights.safetensors ]; then
    cp tests/cache/resnet50/weights.safetensors "$W/timm/resnet50.tv2_in1k/resolve/main/model.safetensors"
    H=$T/rn50
    fetch "$H" resnet50
    rc=$?
    check "resnet50 (tv2): fetched and checked" sh -c "[ $rc -eq 0 ] && [ -s '$H/resnet50.safetensors' ]"
    check "resnet50 (tv2): the sidecar records torchvision V2's resize 232" \
        grep -q '"resize":[[:space:]]*232' "$H/resnet50.safetensors.json"
    check "resnet50 (tv2): the sidecar records torchvision's bilinear resize" \
        grep -q '"interpolation":[[:space:]]*"bilinear"' "$H/resnet50.safetensors.json"
    fetch "$H" resnet50
    check "resnet50 again: already there, not downloaded twice" \
        sh -c "[ $? -eq 0 ] && grep -q already '$T/out' && [ \$(grep -c resnet50.tv2 '$T/log') -eq 1 ]"
    R50_SHA=$(sha256sum tests/cache/resnet50/weights.safetensors | awk '{print $1}')
    check "resnet50 (tv2): the sidecar records its SHA-256" \
        [ "$(sidecar_sha "$H/resnet50.safetensors")" = "$R50_SHA" ]
    fetch "$H" resnet50 --sha256 "$R50_SHA"
    check "resnet50 --sha256 of the cached file: already there, not downloaded again" \
        sh -c "[ $? -eq 0 ] && grep -q already '$T/out' && [ \$(grep -c resnet50.tv2 '$T/log') -eq 1 ]"
    fetch "$H" resnet50 --sha256 "$GOOD_SHA"
    rc=$?
    check "resnet50 --sha256 of another file: downloaded again, refused (exit 2), the cached file kept" \
        sh -c "[ $rc -eq 2 ] && [ \$(grep -c resnet50.tv2 '$T/log') -eq 2 ] && grep -q 'not the $GOOD_SHA' '$T/err' \
               && cmp '$H/resnet50.safetensors' tests/cache/resnet50/weights.safetensors \
               && ! [ -e '$H/resnet50.tv2.part' ]"
    # -f: downloaded again, from the start (a stale partial file is not resumed)
    printf 'stale' >"$H/resnet50.tv2.part"
    : >"$T/log"
    fetch "$H" -f resnet50
    rc=$?
    check "resnet50 -f: downloaded again from the start although the set is there, exit 0" \
        sh -c "[ $rc -eq 0 ] && ! grep -q already '$T/out' \
               && grep -q '^GET /timm/resnet50.tv2_in1k/resolve/main/model.safetensors - 200\$' '$T/log' \
               && cmp '$H/resnet50.safetensors' tests/cache/resnet50/weights.safetensors \
               && ! [ -e '$H/resnet50.tv2.part' ]"
    RESNET_HOME="$H" $R classify -t 2 -f tsv -k 1 $IMG/chelsea.jpg >"$T/v2" 2>/dev/null
    RESNET_HOME="$H" $R classify -t 2 -f tsv -k 1 -w tests/cache/resnet50/weights.safetensors \
        $IMG/chelsea.jpg >"$T/v1"
    check "resnet50 (tv2): classify without -w evaluates at resize 232" \
        sh -c "[ -s '$T/v2' ] && [ -s '$T/v1' ] && ! cmp -s '$T/v1' '$T/v2'"
    mv "$H/resnet50.safetensors" "$T/moved"
    RESNET_HOME="$H" $R classify $IMG/chelsea.jpg >/dev/null 2>"$T/err"
    check "no cached weights: classify says to run resnet fetch" \
        sh -c "[ $? -eq 2 ] && grep -q 'resnet fetch resnet50' '$T/err'"
else
    skip "the full-size fetch checks: tests/cache/resnet50 not generated (needs python3-torch)"
fi

# --- several models, one of which fails: the others are still fetched ---
W18=tests/cache/resnet18/weights.safetensors
W34=tests/cache/resnet34/weights.safetensors
if [ -s $W18 ] && [ -s $W34 ]; then
    mkdir -p "$W/timm/resnet34.tv_in1k/resolve/main"
    ln -sf "$PWD/$W18" "$W/timm/resnet18.tv_in1k/resolve/main/model.safetensors"
    ln -sf "$PWD/$W34" "$W/timm/resnet34.tv_in1k/resolve/main/model.safetensors"
    H=$T/several
    fetch "$H" resnet18 resnet101 resnet34       # the server has no resnet101: a 404
    rc=$?
    check "resnet18 resnet101 resnet34, resnet101 missing: exit 2" [ $rc -eq 2 ]
    check "resnet18 resnet101 resnet34: resnet18 and resnet34 fetched, before and after the failure" \
        sh -c "cmp '$H/resnet18.safetensors' $W18 && cmp '$H/resnet34.safetensors' $W34"
    check "resnet18 resnet101 resnet34: one error line, naming resnet101 only" \
        sh -c "[ \$(wc -l <'$T/err') -eq 1 ] && grep -q 'fetch resnet101: .*HTTP 404' '$T/err' \
               && ! grep -q 'resnet18\|resnet34' '$T/err'"
    check "resnet18 resnet101 resnet34: nothing of resnet101 kept" sh -c "! ls '$H'/resnet101* 2>/dev/null"
else
    skip "several models in one fetch: tests/cache/resnet18 or resnet34 not generated (needs python3-torch)"
fi

# --- the progress bar, on a terminal only ---
if command -v script >/dev/null 2>&1; then
    H=$T/tty
    RESNET_HOME="$H" script -qec "$R fetch $FIX/spec.json --url $BASE/good/weights.safetensors" \
        /dev/null >"$T/tty.out" 2>&1
    check "on a terminal: a progress bar reaching 100%" grep -q '\] 100%' "$T/tty.out"
    H=$T/notty
    RESNET_HOME="$H" $R fetch $FIX/spec.json --url $BASE/good/weights.safetensors >/dev/null 2>"$T/err"
    check "not a terminal: no progress bar" sh -c "[ $? -eq 0 ] && [ ! -s '$T/err' ]"
else
    skip "the progress bar on a terminal: script(1) (bsdutils) not installed"
fi

finish tests/test_fetch.sh
