#!/bin/sh
# test_output.sh -- nothing is lost on the way out: a standard output that
# cannot be written (/dev/full) is one error line and exit status 3 from
# every command, never a silent exit 0; a closed pipe stays quiet; any file
# name (bytes that are not UTF-8, control characters, tabs, newlines) comes
# out of -f json as valid UTF-8 JSON that gives its exact bytes back, and out
# of -f tsv as one field that unescapes to them.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
FIX=tests/fixtures/basic_small
M="-m $FIX/spec.json -w $FIX/weights.safetensors"
IMG=tests/images/parity

# --- /dev/full: exit 3, one line on stderr naming the error ---
full() {  # full "what" ARGS...: resnet ARGS >/dev/full exits 3 with one stderr line naming ENOSPC
    what=$1
    shift
    $R "$@" >/dev/full 2>"$T/err"
    rc=$?
    check "$what >/dev/full: exit 3, one line naming the error (exit $rc: $(head -c 120 "$T/err"))" \
        sh -c "[ $rc -eq 3 ] && [ \$(wc -l <'$T/err') -eq 1 ] \
               && grep -q '^resnet: writing to standard output: No space left on device\$' '$T/err'"
}
full "classify (text)" classify $M $IMG/chelsea.jpg
full "classify -f tsv" classify $M -f tsv $IMG/chelsea.jpg
full "classify -f json" classify $M -f json $IMG/chelsea.jpg
full "classify -b 3 of a directory" classify $M -b 3 -k 1 -f tsv $IMG
full "summary --depth 50" summary --depth 50
full "summary -m keras_resnet50" summary -m keras_resnet50
full "bench" bench $M -n 1
full "bench -f json" bench $M -n 1 -f json
full "fetch --list" fetch --list
full "calibrate" calibrate -m fashion_resnet20 -n 2 tests/images/fashion
full "--help" --help
full "--version" --version
full "classify --help" classify --help

# The run stops at the first failed write: the missing file after the
# images is never reached, so it is never reported.
$R classify $M -b 2 -f tsv $IMG "$T/missing.jpg" >/dev/full 2>"$T/err"
check "classify >/dev/full stops at the first failed write (the later missing file is not reached)" \
    sh -c "[ $? -eq 3 ] && [ \$(wc -l <'$T/err') -eq 1 ] && ! grep -q missing.jpg '$T/err'"
# A bad image before the failure is still reported, then the write error.
$R classify $M -f tsv "$T/missing.jpg" $IMG/chelsea.jpg >/dev/full 2>"$T/err"
check "classify >/dev/full: a bad image before it reported, then the write error, exit 3" \
    sh -c "[ $? -eq 3 ] && [ \$(wc -l <'$T/err') -eq 2 ] && head -1 '$T/err' | grep -q missing.jpg \
           && tail -1 '$T/err' | grep -q 'No space left'"
# In JSON a bad image is an object on stdout too: its line, then the write error.
$R classify $M -f json "$T/missing.jpg" >/dev/full 2>"$T/err"
check "classify -f json of a bad image >/dev/full: its error line, then the write error, exit 3" \
    sh -c "[ $? -eq 3 ] && [ \$(wc -l <'$T/err') -eq 2 ] && tail -1 '$T/err' | grep -q 'No space left'"
# The same commands into a file that can be written: exit 0, so the 3 above is the write's.
$R classify $M -b 2 -k 1 -f tsv $IMG >"$T/out" 2>"$T/err"
check "classify into a writable file: exit 0, every image" \
    sh -c "[ $? -eq 0 ] && [ \$(wc -l <'$T/out') -eq \$(ls $IMG/*.jpg $IMG/*.png | wc -l) ] && [ ! -s '$T/err' ]"
check "summary into a writable file: exit 0" sh -c "$R summary --depth 50 >'$T/out' && [ -s '$T/out' ]"

# --- a closed pipe: quiet, with SIGPIPE ignored too (then it is EPIPE) ---
# (the second path comes after head has gone, so its result meets a closed pipe)
sh -c "trap '' PIPE; (echo $IMG/chelsea.jpg; sleep 2; echo $IMG/coffee.png) |
       { $R classify $M -f tsv -k 1 - 2>'$T/err'; echo \$? >'$T/rc'; } | head -1 >/dev/null"
check "a closed pipe with SIGPIPE ignored: nothing on stderr, exit 3 (got $(cat "$T/rc"))" \
    sh -c "[ ! -s '$T/err' ] && [ \"\$(cat '$T/rc')\" = 3 ]"

# --- any file name, through -f json and -f tsv ---
PY=/usr/bin/python3
if ! [ -x $PY ]; then
    skip "file names through -f json and -f tsv: $PY not installed (make deps installs it)"
    finish tests/test_output.sh
fi
# Names of every awkward kind, and seeded random ones of any byte but NUL
# and '/', each a copy of one small image; labels with a tab, a backslash, a
# quote, a control character and a byte that is not UTF-8, read by a copy of
# the spec.
$PY - "$T/names" $IMG/coffee.png "$T/spec" $FIX <<'EOF'
import json, os, random, shutil, sys
d, img, spec_dir, fix = sys.argv[1:]
os.makedirs(d)
names = [b"plain.png", "caf\u00e9 \U0001F600.png".encode(), b"lone\x80.png", b"\xff\xfe.png",
         b"cut\xe2\x82.png", b"overlong\xc0\xaf.png", b"surrogate\xed\xa0\x80.png",
         b"past\xf4\x90\x80\x80.png", b"f5\xf5.png", b"ctl\x01\x1f\x7f.png", b'quote".png',
         b"back\\slash.png", b"tab\there.png", b"new\nline.png", b"cr\rhere.png",
         b"\\t not a tab.png", b"mixed\xc3\xa9\xe9\t\\\n.png"]
rng = random.Random(13)
alphabet = [b for b in range(1, 256) if b != ord("/")]
while len(names) < 60:
    n = bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
    if n not in names and n not in (b".", b".."):
        names.append(n)
for n in names:
    shutil.copy(img, os.path.join(os.fsencode(d), n))
os.makedirs(spec_dir)
spec = json.load(open(os.path.join(fix, "spec.json")))
spec["labels"] = "labels.txt"
json.dump(spec, open(os.path.join(spec_dir, "spec.json"), "w"))
labels = [b"tab\tinside", b"back\\slash", b'quote"d', b"ctl\x01", b"latin1 caf\xe9",
          "\u00fcber".encode(), b"\\n not a newline", b"seven", b"eight", b"nine"]
open(os.path.join(spec_dir, "labels.txt"), "wb").write(b"\n".join(labels) + b"\n")
EOF
SM="-m $T/spec/spec.json -w $FIX/weights.safetensors"
BAD=$(printf '%s/bad\377name.png' "$T")   # not an image, named on the command line
printf 'not an image' >"$BAD"
$R classify $SM -k 10 -f json "$T/names" "$BAD" >"$T/json" 2>"$T/err"
check "odd names, -f json: exit 1 (the one bad file), its error line on stderr" \
    sh -c "[ $? -eq 1 ] && [ \$(wc -l <'$T/err') -eq 1 ]"
check "odd names, -f json: valid UTF-8 JSON, one object per file, each giving back its exact name" \
    $PY - "$T/json" "$T/names" "$BAD" "$T/spec/labels.txt" <<'EOF'
import base64, json, os, sys
out, d, bad, labels = map(os.fsencode, sys.argv[1:])
want = {os.path.join(d, n) for n in os.listdir(d)} | {bad}
labels = open(labels, "rb").read().split(b"\n")[:-1]
got, errors = set(), 0
for line in open(out, "rb").read().split(b"\n")[:-1]:
    o = json.loads(line.decode("utf-8"))   # strict: UTF-8, no raw control characters
    raw = base64.b64decode(o["path_bytes"], validate=True) if "path_bytes" in o else o["path"].encode()
    try:
        raw.decode("utf-8")
        assert "path_bytes" not in o, (o, "path_bytes for a UTF-8 name")
    except UnicodeDecodeError:
        assert "path_bytes" in o, (o, "no path_bytes for a name that is not UTF-8")
    # the replacement characters are where Python's own lossy decoding puts them
    assert o["path"] == raw.decode("utf-8", "replace"), (o["path"], raw)
    assert raw not in got, raw
    got.add(raw)
    if "error" in o:
        errors += 1
        assert raw == bad and "\ufffd" in o["error"], o
    else:
        assert sorted(t["label"] for t in o["top"]) == sorted(l.decode("utf-8", "replace") for l in labels)
assert got == want, (sorted(want - got), sorted(got - want))
assert errors == 1
EOF
$R classify $SM -k 10 -f tsv "$T/names" >"$T/tsv" 2>"$T/err"
check "odd names, -f tsv: exit 0, five fields a row, each unescaping to the exact name and label" \
    $PY - "$T/tsv" "$T/names" "$T/spec/labels.txt" "$?" <<'EOF'
import os, re, sys
out, d, labels = map(os.fsencode, sys.argv[1:4])
assert sys.argv[4] == "0", "exit " + sys.argv[4]
want = {os.path.join(d, n) for n in os.listdir(d)}
labels = open(labels, "rb").read().split(b"\n")[:-1]
codes = {b"t": b"\t", b"n": b"\n", b"r": b"\r", b"\\": b"\\"}
def unescape(field):   # PostgreSQL's text format: only these four escapes may appear
    assert re.fullmatch(rb"(?:[^\\\t\n\r]|\\[tnr\\])*", field), field
    return re.sub(rb"\\(.)", lambda m: codes[m.group(1)], field)
rows = {}
for line in open(out, "rb").read().split(b"\n")[:-1]:
    f = line.split(b"\t")
    assert len(f) == 5, line
    rows.setdefault(unescape(f[0]), []).append(unescape(f[4]))
assert set(rows) == want, (sorted(want - set(rows)), sorted(set(rows) - want))
for path, labs in rows.items():
    assert sorted(labs) == sorted(labels), (path, labs)
EOF

finish tests/test_output.sh
