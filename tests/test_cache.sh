#!/bin/sh
# test_cache.sh -- the packed-weight cache (src/packed_cache.c): classify
# writes the packed weights of a weight file once, maps them afterwards, and
# gives the same answers either way; a changed weight file, a damaged entry
# or an unwritable cache only cost the packing again.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
FIX=tests/fixtures/basic_small
IMG=tests/images/parity
cp $FIX/weights.safetensors "$T/w.safetensors"
M="-m $FIX/spec.json -w $T/w.safetensors"
IMGS="$IMG/chelsea.jpg $IMG/coffee.png"
PACKED="$RESNET_HOME/packed"
entry() { ls "$PACKED"/*.packed 2>/dev/null; }
inode() { stat -c %i "$(entry)"; }

$R classify $M --no-cache -f tsv $IMG/chelsea.jpg $IMG/coffee.png >"$T/direct" 2>"$T/err"
check "--no-cache: exit 0, nothing on stderr" sh -c "[ $? -eq 0 ] && [ ! -s '$T/err' ]"
check "--no-cache writes no cache" [ ! -e "$PACKED" ]

$R classify $M -f tsv $IMG/chelsea.jpg $IMG/coffee.png >"$T/first" 2>"$T/err"
check "first run: exit 0, nothing on stderr" sh -c "[ $? -eq 0 ] && [ ! -s '$T/err' ]"
check "first run: one entry, named after the weight file" \
    sh -c "[ \$(ls '$PACKED' | wc -l) -eq 1 ] && ls '$PACKED' | grep -q '^w.safetensors\..*\.packed$'"
check "first run: the same output as packing without the cache" cmp "$T/direct" "$T/first"
ino=$(inode)

$R classify $M -f tsv $IMG/chelsea.jpg $IMG/coffee.png >"$T/second" 2>"$T/err"
check "second run: the entry is used, not rewritten (same inode)" [ "$(inode)" = "$ino" ]
check "second run: the same output" cmp "$T/direct" "$T/second"
check "second run: nothing on stderr" [ ! -s "$T/err" ]

$R classify $M -b 2 -t 1 -f tsv $IMG/chelsea.jpg $IMG/coffee.png >"$T/batch" 2>/dev/null
check "another batch size and thread count use the same entry" \
    sh -c "[ '$(inode)' = '$ino' ] && cmp '$T/direct' '$T/batch'"

# A weight file with other values at the same path: the entry must not be used.
/usr/bin/python3 - "$T/w.safetensors" <<'PY' 2>/dev/null || cp $FIX/weights.safetensors "$T/w.safetensors"
import json, struct, sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
n = struct.unpack('<Q', b[:8])[0]
head = json.loads(b[8:8 + n])
fc = head['fc.weight']                    # the classifier: other logits, other answers
lo, hi = fc['data_offsets']
base = 8 + n
w = list(struct.unpack('<%df' % ((hi - lo) // 4), b[base + lo:base + hi]))
w = w[len(w) // 2:] + w[:len(w) // 2]     # swap the classes' rows around
b[base + lo:base + hi] = struct.pack('<%df' % len(w), *w)
open(p, 'wb').write(b)
PY
$R classify $M --no-cache -f tsv $IMG/chelsea.jpg $IMG/coffee.png >"$T/direct2" 2>/dev/null
$R classify $M -f tsv $IMG/chelsea.jpg $IMG/coffee.png >"$T/changed" 2>/dev/null
check "changed weight file: its own answers, not the cached ones" cmp "$T/direct2" "$T/changed"
check "changed weight file: the new weights differ (the check above means something)" \
    sh -c "! cmp -s '$T/direct' '$T/direct2'"
check "changed weight file: the entry is replaced, not added to" \
    sh -c "[ \$(ls '$PACKED' | wc -l) -eq 1 ] && [ '$(inode)' != '$ino' ]"

# Damaged entries: a miss, repacked and rewritten.
e=$(entry)
size=$(stat -c %s "$e")
truncate -s -1 "$e"
$R classify $M -f tsv $IMG/chelsea.jpg $IMG/coffee.png >"$T/out" 2>"$T/err"
check "truncated entry: right answers, nothing on stderr" \
    sh -c "cmp '$T/direct2' '$T/out' && [ ! -s '$T/err' ]"
check "truncated entry: rewritten whole" [ "$(stat -c %s "$(entry)")" -eq "$size" ]
printf 'XXXXXXXX' | dd of="$(entry)" conv=notrunc 2>/dev/null
$R classify $M -f tsv $IMG/chelsea.jpg $IMG/coffee.png >"$T/out" 2>"$T/err"
check "entry with a bad header: right answers, nothing on stderr" \
    sh -c "cmp '$T/direct2' '$T/out' && [ ! -s '$T/err' ]"
check "entry with a bad header: rewritten" sh -c "head -c 7 '$(entry)' | grep -q RNPACK1"

# A cache that cannot be written is no error.
RESNET_HOME=/dev/null/nowhere $R classify $M -f tsv $IMG/chelsea.jpg $IMG/coffee.png \
    >"$T/out" 2>"$T/err"
check "unwritable cache folder: exit 0, right answers, nothing on stderr" \
    sh -c "[ $? -eq 0 ] && cmp '$T/direct2' '$T/out' && [ ! -s '$T/err' ]"

# Processes started together on an empty cache: each answers, one entry, no leftovers.
rm -rf "$PACKED"
for i in 1 2 3 4; do
    $R classify $M -t 1 -f tsv $IMG/chelsea.jpg $IMG/coffee.png >"$T/par$i" 2>&1 &
done
wait
check "4 processes at once: all right" \
    sh -c "for i in 1 2 3 4; do cmp '$T/direct2' '$T/par'\$i || exit 1; done"
check "4 processes at once: one entry, no temporary files left" \
    sh -c "[ \$(ls '$PACKED' | wc -l) -eq 1 ] && ! ls '$PACKED' | grep -q tmp"

# Winograd's packing is another layout: an entry of its own beside the
# direct path's, never mistaken for it.
$R classify $M --winograd --no-cache -f tsv $IMG/chelsea.jpg $IMG/coffee.png >"$T/wino" 2>/dev/null
$R classify $M --winograd -f tsv $IMG/chelsea.jpg $IMG/coffee.png >"$T/wino1" 2>/dev/null
$R classify $M --winograd -f tsv $IMG/chelsea.jpg $IMG/coffee.png >"$T/wino2" 2>/dev/null
check "--winograd: an entry of its own beside the direct path's" [ "$(ls "$PACKED" | wc -l)" -eq 2 ]
check "--winograd: written and then mapped, the same output as packed" \
    sh -c "cmp '$T/wino' '$T/wino1' && cmp '$T/wino' '$T/wino2'"
check "--winograd: other rounding than the direct path (the checks above mean something)" \
    sh -c "! cmp -s '$T/direct2' '$T/wino'"
$R classify $M -f tsv $IMG/chelsea.jpg $IMG/coffee.png >"$T/out" 2>/dev/null
check "the direct path still maps its own entry" cmp "$T/direct2" "$T/out"

# The binary is part of the key (another build may pack differently): an
# entry written by another resnet -- other inode, size or mtime -- is
# rewritten, never mapped.  A copy of ./resnet is that other binary.
export RESNET_HOME="$T/home_bin"
PACKED="$RESNET_HOME/packed"
mkdir "$T/bin"
cp $R "$T/bin/resnet"
rewritten() {  # rewritten "WHAT": $T/bin/resnet, changed as WHAT says, rewrites the entry, right answers
    ino=$(inode)
    "$T/bin/resnet" classify $M -f tsv $IMGS >"$T/out" 2>/dev/null
    check "$1: the entry is rewritten, right answers" \
        sh -c "[ '$(inode)' != '$ino' ] && cmp '$T/direct2' '$T/out'"
}
$R classify $M -f tsv $IMGS >/dev/null 2>&1
rewritten "another binary (a copy of ./resnet)"
ino=$(inode)
"$T/bin/resnet" classify $M -f tsv $IMGS >/dev/null 2>&1
check "the same binary again: the entry is mapped, not rewritten" [ "$(inode)" = "$ino" ]
touch -r "$T/bin/resnet" "$T/bin/when"
printf '\0' >>"$T/bin/resnet"                 # one byte more, mtime as before
touch -r "$T/bin/when" "$T/bin/resnet"
rewritten "the binary one byte longer (same inode and mtime)"
touch -d '2001-02-03 04:05:06' "$T/bin/resnet"  # only the mtime
rewritten "the binary with another mtime (same inode and size)"
cp -p "$T/bin/resnet" "$T/bin/resnet.new" && mv "$T/bin/resnet.new" "$T/bin/resnet"  # only the inode
rewritten "the binary replaced by a copy (same size and mtime, other inode)"
check "binaries taking turns: always one entry" [ "$(ls "$PACKED" | wc -l)" -eq 1 ]

# The network is part of the key: the same weight file under a spec whose
# bn_eps differs folds to other values, so it gets an entry of its own and
# its own answers, never the first spec's packed values.
export RESNET_HOME="$T/home_net"
PACKED="$RESNET_HOME/packed"
mkdir "$T/eps"
cp $FIX/labels.txt "$T/eps/"
sed 's/"version": 1,/"version": 1, "bn_eps": 0.05,/' $FIX/spec.json >"$T/eps/spec.json"
E="-m $T/eps/spec.json -w $T/w.safetensors"
$R classify $M -f tsv $IMGS >/dev/null 2>&1
first=$(entry)
ino=$(inode)
$R classify $E --no-cache -f tsv $IMGS >"$T/eps_direct" 2>/dev/null
$R classify $E -f tsv $IMGS >"$T/eps1" 2>/dev/null
$R classify $E -f tsv $IMGS >"$T/eps2" 2>/dev/null
check "bn_eps 0.05 with the same weights: its own answers, written and then mapped" \
    sh -c "[ -s '$T/eps_direct' ] && cmp '$T/eps_direct' '$T/eps1' && cmp '$T/eps_direct' '$T/eps2'"
check "bn_eps 0.05: other probabilities than bn_eps 1e-5's (the check above means something)" \
    sh -c "! cmp -s '$T/eps_direct' '$T/direct2'"
check "bn_eps 0.05: an entry of its own, the first spec's left as it was" \
    sh -c "[ \$(ls '$PACKED' | wc -l) -eq 2 ] && [ \$(stat -c %i '$first') = '$ino' ]"
$R classify $M -f tsv $IMGS >"$T/out" 2>/dev/null
check "the first spec still maps its own entry: its answers" cmp "$T/direct2" "$T/out"

# --no-cache with an entry there: neither read nor rewritten.  The entry's
# packed values are spoiled under an intact header, so a run that mapped it
# would answer otherwise.
export RESNET_HOME="$T/home_nocache"
PACKED="$RESNET_HOME/packed"
$R classify $M -f tsv $IMGS >/dev/null 2>&1
e=$(entry)
head -c 65536 /dev/zero | tr '\0' '\100' | dd of="$e" bs=4096 seek=1 conv=notrunc 2>/dev/null
cp -p "$e" "$T/spoiled"
ino=$(inode)
$R classify $M --no-cache -f tsv $IMGS >"$T/out" 2>"$T/err"
check "--no-cache with an entry there: the right answers, so the entry was not read" \
    sh -c "cmp '$T/direct2' '$T/out' && [ ! -s '$T/err' ]"
check "--no-cache with an entry there: the entry is not rewritten (same inode and bytes)" \
    sh -c "[ '$(inode)' = '$ino' ] && cmp '$e' '$T/spoiled'"
$R classify $M -f tsv $IMGS >"$T/out" 2>/dev/null
check "without --no-cache the spoiled entry is mapped: other answers (the checks above mean something)" \
    sh -c "! cmp -s '$T/direct2' '$T/out'"

# The full-size network: the cached resnet50 answers as the packed one does.
W50=tests/cache/resnet50/weights.safetensors
if [ -f "$W50" ]; then
    $R classify -w $W50 --no-cache -f tsv $IMG/chelsea.jpg >"$T/r50a" 2>/dev/null
    $R classify -w $W50 -f tsv $IMG/chelsea.jpg >/dev/null 2>&1
    $R classify -w $W50 -f tsv $IMG/chelsea.jpg >"$T/r50b" 2>/dev/null
    check "resnet50 from its cache entry: the same output as packed" cmp "$T/r50a" "$T/r50b"
    check "resnet50 from its cache entry: peak resident memory <= the weight file + 64 MiB" \
        /usr/bin/python3 -c "
import os, resource, subprocess, sys
subprocess.run(['$R', 'classify', '-w', '$W50', '$IMG/chelsea.jpg'], stdout=subprocess.DEVNULL, check=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
sys.exit(peak > os.path.getsize('$W50') + (64 << 20))
"
else
    skip "resnet50 from its cache entry: tests/cache/resnet50 not generated (needs python3-torch)"
fi

finish tests/test_cache.sh
