#!/bin/sh
# test_cli.sh -- the resnet command as a user runs it: output formats, exit
# statuses, errors on stderr, and the other images still printed when one fails.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
FIX=tests/fixtures/basic_small
M="-m $FIX/spec.json -w $FIX/weights.safetensors"
IMG=tests/images/parity

# --- help and version ---
check "--version prints the version" sh -c "$R --version | grep -q '^resnet [0-9]'"
check "--help exits 0 and lists the commands" sh -c "$R --help | grep -q classify"
check "classify --help exits 0" sh -c "$R classify --help | grep -q -- '--format'"
check "summary --help exits 0" sh -c "$R summary --help | grep -q -- '--depth'"
check "bench --help exits 0" sh -c "$R bench --help | grep -q -- '--batch'"
check "unknown command exits 2" status_is 2 $R frobnicate
check "no command exits 2" status_is 2 $R
check "every documented option of classify is in the man page" sh -c \
    "for o in model weights top format threads depth batch runs help version recursive null quiet max-pixels no-cache winograd timing size layers winograd; do grep -qF -- \"\\\\-\\\\-\$o\" man/resnet.1 || exit 1; done"

# --- classify: formats ---
$R classify $M -k 3 $IMG/chelsea.jpg $IMG/coffee.png >"$T/text" 2>"$T/err"
check "text output: exit 0" [ $? -eq 0 ]
check "text output: path line then 3 label lines per image" \
    sh -c "[ \$(wc -l <'$T/text') -eq 8 ] && head -1 '$T/text' | grep -qx '$IMG/chelsea.jpg'"
check "text output: nothing on stderr" [ ! -s "$T/err" ]

$R classify $M -k 2 -f tsv $IMG/chelsea.jpg $IMG/rocket.jpg >"$T/tsv"
check "tsv: one line per label" [ "$(wc -l <"$T/tsv")" -eq 4 ]
check "tsv: path, rank, index, prob, label" \
    sh -c "awk -F'\t' 'NF!=5 || \$2<1 || \$2>2 || \$3<0 || \$3>9 || \$4<0 || \$4>1 {exit 1}' '$T/tsv'"
check "tsv: labels come from the spec's labels file" sh -c "cut -f5 '$T/tsv' | grep -q '^thing '"

$R classify $M -f json $IMG/chelsea.jpg >"$T/json"
check "json: one object per line with path and top" \
    sh -c "[ \$(wc -l <'$T/json') -eq 1 ] && grep -q '^{\"path\":\"$IMG/chelsea.jpg\",\"top\":\[{\"index\":' '$T/json'"
check "json: probabilities have at least 7 significant digits" \
    grep -Eq '"prob":(0\.0*[1-9][0-9]{6,}|[1-9]\.?[0-9]{6,}|[0-9.]+e-?[0-9]+)' "$T/json"
if [ -x /usr/bin/python3 ]; then
    check "json: every line parses, top-5 sorted, probabilities sum <= 1" /usr/bin/python3 -c "
import json, sys
for line in open('$T/json'):
    o = json.loads(line)
    p = [t['prob'] for t in o['top']]
    assert len(p) == 5 and p == sorted(p, reverse=True) and sum(p) <= 1.0001
"
else
    skip "json parses, top-5 sorted: /usr/bin/python3 not installed (make deps installs it)"
fi

# --- classify: failures do not lose the other images ---
printf 'not an image\n' >"$T/notes.txt"
: >"$T/empty.jpg"
head -c 2000 $IMG/chelsea.jpg >"$T/truncated.jpg"
status_is 1 $R classify $M -f json $IMG/coffee.png "$T/missing.jpg" "$T/notes.txt" "$T/empty.jpg" \
    "$T/truncated.jpg" $IMG/rocket.jpg
check "bad images: exit status 1" [ $? -eq 0 ]
check "bad images: the good ones are printed in order" \
    sh -c "head -1 '$T/out' | grep -q coffee.png && tail -1 '$T/out' | grep -q rocket.jpg"
check "bad images: one json error object per bad file" [ "$(grep -c '"error":' "$T/out")" -eq 4 ]
check "bad images: one stderr line per bad file, naming it" \
    sh -c "[ \$(wc -l <'$T/err') -eq 4 ] && grep -q missing.jpg '$T/err' && grep -q notes.txt '$T/err' \
           && grep -q empty.jpg '$T/err' && grep -q truncated.jpg '$T/err'"

# --- classify: paths from standard input ---
printf '%s\n%s\n' $IMG/rocket.jpg $IMG/astronaut.png | $R classify $M -k 1 -f tsv - >"$T/stdin"
check "paths from stdin ('-'), in order" \
    sh -c "[ \$(wc -l <'$T/stdin') -eq 2 ] && head -1 '$T/stdin' | grep -q rocket.jpg"

# --- classify: directories, recursion, NUL-separated paths, batching ---
mkdir -p "$T/dir/sub"
cp $IMG/rocket.jpg "$T/dir/b.jpg"
cp $IMG/coffee.png "$T/dir/a.png"
cp $IMG/chelsea.jpg "$T/dir/sub/c.jpg"
printf 'notes' >"$T/dir/readme.txt"
cp $IMG/chelsea.jpg "$T/dir/photo.txt"
$R classify $M -k 1 -f tsv "$T/dir" >"$T/out" 2>"$T/err"
check "directory: its images in sorted order, exit 0" \
    sh -c "[ $? -eq 0 ] && cut -f1 '$T/out' | tr '\n' ' ' | grep -qx '$T/dir/a.png $T/dir/b.jpg $T/dir/photo.txt '"
check "directory: non-images skipped silently, image recognised by content" \
    sh -c "[ ! -s '$T/err' ] && ! grep -q readme '$T/out'"
$R classify $M -k 1 -f tsv -r "$T/dir" >"$T/out"
check "-r descends into subdirectories, in sorted order" \
    sh -c "[ \$(wc -l <'$T/out') -eq 4 ] && tail -1 '$T/out' | grep -q sub/c.jpg"
status_is 1 $R classify $M -k 1 -f tsv "$T/dir/readme.txt" "$T/dir"
check "a non-image named explicitly is reported, exit 1" sh -c "[ $? -eq 0 ] && grep -q readme.txt '$T/err'"
printf '%s\0%s\0' $IMG/rocket.jpg "$T/dir/b.jpg" | $R classify $M -k 1 -f tsv -0 - >"$T/out"
check "-0 reads NUL-separated paths from stdin" \
    sh -c "[ \$(wc -l <'$T/out') -eq 2 ] && tail -1 '$T/out' | grep -q b.jpg"
$R classify $M -f tsv -b 1 -r "$T/dir" $IMG >"$T/b1"
$R classify $M -f tsv -b 3 -r "$T/dir" $IMG >"$T/b3"
check "-b 3 prints the same results, in the same order, as -b 1" cmp -s "$T/b1" "$T/b3"
$R classify $M -f tsv -b 3 -r --winograd "$T/dir" $IMG >"$T/wino"
check "--winograd: the same top-3 labels in the same order as the direct path" tsv_close "$T/b1" "$T/wino" 3 1
check "--winograd: probabilities within 1e-4 of the direct path's" tsv_close "$T/b1" "$T/wino" 0 1e-4
check "classify and bench --help document --winograd" \
    sh -c "$R classify --help | grep -q -- '--winograd' && $R bench --help | grep -q -- '--winograd'"
$R classify $M -f tsv -b 3 -r "$T/dir" 2>"$T/err" >/dev/null
check "no progress line when stderr is not a terminal" [ ! -s "$T/err" ]
if command -v script >/dev/null 2>&1; then
    script -qec "$R classify $M -f tsv -b 3 -r '$T/dir' $IMG" /dev/null >"$T/tty.out" 2>&1
    check "on a terminal: a progress line with images, images/s and ETA" \
        sh -c "grep -q '/8 images, [0-9.]* images/s, ETA [0-9]*:[0-9][0-9]' '$T/tty.out'"
    script -qec "$R classify $M -q -f tsv -b 3 -r '$T/dir' $IMG" /dev/null >"$T/tty.out" 2>&1
    check "on a terminal with -q: no progress line" sh -c "! grep -q 'images/s' '$T/tty.out'"
else
    skip "the progress line on a terminal: script(1) (bsdutils) not installed"
fi
$R classify $M -f tsv -r "$T/dir" $IMG 2>"$T/err" | head -1 >/dev/null
check "a closed stdout (| head -1) ends the run quietly" [ ! -s "$T/err" ]
check "-b 0 exits 2" status_is 2 $R classify $M -b 0 $IMG/rocket.jpg
(printf '%s\n' $IMG/rocket.jpg; sleep 2; printf '%s\n' $IMG/coffee.png) |
    $R classify $M -b 8 -k 1 -f tsv - | { read -r first; date +%s.%N >"$T/t1"; cat >/dev/null; date +%s.%N >"$T/t2"; }
check "results stream: a slow stdin does not hold back the first result of a batch" \
    awk -v a="$(cat "$T/t1")" -v b="$(cat "$T/t2")" 'BEGIN { exit !(b - a > 1) }'

# --- RESNET_ISA: every kernel path the CPU has gives the default's answers ---
# The default is the widest ISA the CPU has; RESNET_ISA narrows it.  The
# AVX2 and AVX-512 kernels add in the same order and print the same bits, so
# the output cannot show that RESNET_ISA=avx2 was honoured (test_conv.c
# checks the choice itself); the portable C kernel rounds differently.
cpu_has() {  # cpu_has FLAG...: /proc/cpuinfo lists them all
    for flag in "$@"; do grep -qw "$flag" /proc/cpuinfo || return 1; done
}
ISA_IMGS="$IMG/chelsea.jpg $IMG/coffee.png $IMG/rocket.jpg $IMG/astronaut.png"
env -u RESNET_ISA $R classify $M --no-cache -f tsv -k 10 $ISA_IMGS >"$T/isa_default"
for isa in avx2 c; do
    case $isa in
    avx2) flags="avx2 fma" ;;
    c) flags= ;;
    esac
    if cpu_has $flags; then
        RESNET_ISA=$isa $R classify $M --no-cache -f tsv -k 10 $ISA_IMGS >"$T/isa_$isa"
        check "RESNET_ISA=$isa: the default's top-5, every probability within 1e-5" \
            tsv_close "$T/isa_default" "$T/isa_$isa" 5 1e-5
    else
        skip "RESNET_ISA=$isa: this CPU lacks $flags"
    fi
done
if cpu_has avx2 fma; then
    check "RESNET_ISA=c is honoured: the portable kernels round otherwise than the SIMD default" \
        sh -c "! cmp -s '$T/isa_default' '$T/isa_c'"
else
    skip "RESNET_ISA=c against a SIMD default: this CPU has no AVX2 with FMA"
fi

# --- classify: usage, spec and weights errors exit 2 before any image ---
check "-k 0 exits 2" status_is 2 $R classify $M -k 0 $IMG/rocket.jpg
check "-f xml exits 2" status_is 2 $R classify $M -f xml $IMG/rocket.jpg
check "no image exits 2" status_is 2 $R classify $M
check "-t abc exits 2" status_is 2 $R classify $M -t abc $IMG/rocket.jpg
for v in 0 abc; do
    status_is 2 $R classify $M --max-pixels $v $IMG/rocket.jpg
    rc=$?
    check "--max-pixels $v: exit 2, nothing on stdout, one error line naming the option and value" \
        sh -c "[ $rc -eq 0 ] && [ ! -s '$T/out' ] && [ \$(grep -c '^resnet: ' '$T/err') -eq 1 ] \
               && head -1 '$T/err' | grep -q -- '--max-pixels.*\"$v\"' && sed -n 2p '$T/err' | grep -q '^usage:'"
done
printf '{"depth": 50, "colour": "red"}' >"$T/bad.json"
status_is 2 $R classify -m "$T/bad.json" -w $FIX/weights.safetensors $IMG/rocket.jpg
rc=$?
check "bad spec: exit 2, one line naming the key, nothing on stdout" \
    sh -c "[ $rc -eq 0 ] && [ ! -s '$T/out' ] && [ \$(wc -l <'$T/err') -eq 1 ] && grep -q colour '$T/err'"
status_is 2 $R classify -m $FIX/spec.json -w tests/fixtures/bottleneck_small/weights.safetensors $IMG/rocket.jpg
rc=$?
check "mismatched weights: exit 2 naming the tensor" sh -c "[ $rc -eq 0 ] && [ ! -s '$T/out' ] && grep -q 'conv1.weight has shape' '$T/err'"
mkdir "$T/weights_home"
RESNET_HOME="$T/weights_home" $R classify -m resnet18 $IMG/rocket.jpg >"$T/out" 2>"$T/err"
check "no weights: exit 2 and says where to put them" \
    sh -c "[ $? -eq 2 ] && grep -q '$T/weights_home/resnet18.safetensors' '$T/err' && grep -q README '$T/err'"
cp $FIX/weights.safetensors "$T/weights_home/basic-small.safetensors"
RESNET_HOME="$T/weights_home" $R classify -m $FIX/spec.json -k 1 $IMG/rocket.jpg >"$T/out" 2>"$T/err"
rc=$?
$R classify $M -k 1 $IMG/rocket.jpg >"$T/direct"
check "default weights found in \$RESNET_HOME/NAME.safetensors: exit 0, the results of -w" \
    sh -c "[ $rc -eq 0 ] && [ -s '$T/out' ] && cmp -s '$T/out' '$T/direct'"

# Without RESNET_HOME: $XDG_CACHE_HOME/resnet, else ~/.cache/resnet (HOME is
# a folder of the test, so nothing reaches the user's).
mkdir -p "$T/xdg/resnet" "$T/home/.cache/resnet"
cp $FIX/weights.safetensors "$T/xdg/resnet/basic-small.safetensors"
env -u RESNET_HOME XDG_CACHE_HOME="$T/xdg" HOME="$T/nohome" \
    $R classify -m $FIX/spec.json -k 1 $IMG/rocket.jpg >"$T/out" 2>"$T/err"
check "RESNET_HOME unset: weights found in \$XDG_CACHE_HOME/resnet/NAME.safetensors" \
    sh -c "[ $? -eq 0 ] && cmp -s '$T/out' '$T/direct'"
mv "$T/xdg/resnet/basic-small.safetensors" "$T/home/.cache/resnet/"
env -u RESNET_HOME XDG_CACHE_HOME="$T/xdg" HOME="$T/home" \
    $R classify -m $FIX/spec.json -k 1 $IMG/rocket.jpg >"$T/out" 2>"$T/err"
check "XDG_CACHE_HOME set, weights only under ~/.cache/resnet: exit 2 naming \$XDG_CACHE_HOME/resnet/NAME.safetensors" \
    sh -c "[ $? -eq 2 ] && grep -q '$T/xdg/resnet/basic-small.safetensors' '$T/err'"
env -u RESNET_HOME -u XDG_CACHE_HOME HOME="$T/home" \
    $R classify -m $FIX/spec.json -k 1 $IMG/rocket.jpg >"$T/out" 2>"$T/err"
check "RESNET_HOME and XDG_CACHE_HOME unset: weights found in ~/.cache/resnet/NAME.safetensors" \
    sh -c "[ $? -eq 0 ] && cmp -s '$T/out' '$T/direct'"

# --- memory: the weights are never held twice ---
W50=tests/cache/resnet50/weights.safetensors
if [ -f "$W50" ] && [ -x /usr/bin/python3 ]; then
    check "classify resnet50: peak resident memory <= the weight file + 64 MiB" /usr/bin/python3 -c "
import os, resource, subprocess, sys
subprocess.run(['$R', 'classify', '-w', '$W50', '$IMG/chelsea.jpg'], stdout=subprocess.DEVNULL, check=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
limit = os.path.getsize('$W50') + (64 << 20)
print(peak, limit, file=sys.stderr)
sys.exit(peak > limit)
"
else
    skip "classify resnet50's peak memory: tests/cache/resnet50 not generated (needs python3-torch)"
fi

# --- classify --timing ---
$R classify $M -f tsv $IMG/chelsea.jpg >"$T/plain" 2>/dev/null
$R classify $M -f tsv --timing $IMG/chelsea.jpg >"$T/timed" 2>"$T/err"
check "--timing: the same results on stdout" cmp "$T/plain" "$T/timed"
check "--timing: one line on stderr, its parts adding up to the total" /usr/bin/python3 -c "
import re, sys
lines = open('$T/err').read().splitlines()
assert len(lines) == 1, lines
m = re.fullmatch(r'resnet: timing: ([0-9.]+) ms from main\(\) to the last result: start-up ([0-9.]+), '
                 r'waiting for images ([0-9.]+), forward ([0-9.]+) \(([0-9.]+)%, fp32\), output ([0-9.]+)', lines[0])
total, start, wait, fwd, pct, outp = map(float, m.groups())
assert fwd > 0 and abs(start + wait + fwd + outp - total) < 0.05, lines[0]
# each ms is printed to 0.005, the share to 0.05: what that rounding allows
slack = 100 * (0.005 / total + fwd * 0.005 / total ** 2) + 0.05
assert abs(100 * fwd / total - pct) <= slack + 1e-9, lines[0]
"

# --- start-up ---
# libcurl and libhdf5 (and the ~30 libraries they bring) are dlopen'ed by
# fetch and the .h5 reader, not linked: every other process starts faster.
check "the binary does not link libcurl or libhdf5" sh -c "! ldd $R | grep -Eq 'libcurl|libhdf5'"

# --- summary ---
$R summary --depth 50 >"$T/sum"
check "summary --depth 50: torchvision's 25,557,032 trainable parameters" \
    grep -qx 'Trainable params: 25,557,032' "$T/sum"
check "summary --depth 42 exits 2" status_is 2 $R summary --depth 42
check "summary of a spec file" sh -c "$R summary -m $FIX/spec.json | grep -q '^Total params'"

finish tests/test_cli.sh
