#!/bin/sh
# test_bench.sh -- `resnet bench` as a script uses it: the text and JSON
# reports, --layers, --size and the usage errors.  Timings depend on the
# machine and on whatever else runs on it, so nothing here asserts a speed:
# only that the numbers exist, are positive and agree with each other.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
FIX=tests/fixtures/basic_small
M="-m $FIX/spec.json -w $FIX/weights.safetensors"
PY=/usr/bin/python3

json_ok() {  # json_ok FILE PYTHON-EXPR...: FILE is one JSON object `o` and every expression holds
    f=$1
    shift
    $PY - "$f" "$@" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, "not one line"
o = json.loads(lines[0])
assert isinstance(o, dict)
for expr in sys.argv[2:]:
    assert eval(expr), expr
EOF
}

# --- help ---
check "bench --help lists --size, --layers and --format" \
    sh -c "$R bench --help | grep -q -- '--size' && $R bench --help | grep -q -- '--layers' \
           && $R bench --help | grep -q -- '--format'"

# --- text report ---
$R bench $M -n 2 >"$T/text" 2>"$T/err"
check "text: exit 0" [ $? -eq 0 ]
check "text: model, input size, batch and threads" grep -q '^model basic-small, 64x64, batch 1, threads' "$T/text"
check "text: median and min ms per batch" grep -Eq '^ms per batch: median [0-9.]+, min [0-9.]+$' "$T/text"
check "text: images/s, GFLOP/s and the share of the measured peak" \
    sh -c "grep -q '^images/s: ' '$T/text' && grep -q '^GFLOP/s: ' '$T/text' \
           && grep -Eq '^peak: [0-9.]+ GFLOP/s \((avx512|avx2|scalar) FMA loop' '$T/text'"
check "text: weights given, so nothing on stderr" [ ! -s "$T/err" ]

mkdir "$T/weights_home"
RESNET_HOME="$T/weights_home" $R bench -m resnet20_cifar -n 2 >"$T/out" 2>"$T/err"
check "no weights: exit 0 on generated weights" [ $? -eq 0 ]
check "no weights: says so on stderr, not stdout" \
    sh -c "grep -q 'generated weights' '$T/err' && ! grep -q 'generated' '$T/out'"

# --- JSON report ---
if [ -x $PY ]; then
    $R bench $M -n 1 -t 1 --winograd -f json >"$T/wjson" 2>/dev/null
    check "json: winograd is true with --winograd" json_ok "$T/wjson" "o['winograd'] is True"
    check "text: says which convolutions ran" \
        sh -c "$R bench $M -n 1 --winograd 2>/dev/null | grep -q '^convolutions: direct, 3x3 stride 1 by Winograd'"
    $R bench $M -n 3 -b 2 -t 1 -f json >"$T/json" 2>"$T/err"
    check "json: exit 0" [ $? -eq 0 ]
    check "json: one object with every documented key" json_ok "$T/json" \
        "all(k in o for k in ('model', 'batch', 'threads', 'ms_median', 'ms_min', 'images_per_s', \
                              'gflops', 'peak_gflops', 'peak_percent', 'winograd', 'kernels'))" \
        "'layers' not in o" "o['winograd'] is False"
    check "json: model, batch, threads and runs as asked" json_ok "$T/json" \
        "o['model'] == 'basic-small'" "o['batch'] == 2" "o['threads'] == 1" "o['runs'] == 3" \
        "o['warmup'] >= 1" "o['input'] == [64, 64]"
    check "json: sane values (positive, min <= median, 0 < peak_percent)" json_ok "$T/json" \
        "0 < o['ms_min'] <= o['ms_median']" "o['gflops'] > 0" "o['peak_gflops'] > 0" \
        "0 < o['peak_percent']" "o['peak_isa'] in ('avx512', 'avx2', 'scalar')"
    check "json: images/s, GFLOP/s and peak % agree with ms_median" json_ok "$T/json" \
        "abs(o['images_per_s'] * o['ms_median'] / 1000 - 2) < 1e-3" \
        "abs(o['gflops'] * o['ms_median'] / 1000 - o['gflop_per_batch']) < 1e-4 * o['gflop_per_batch']" \
        "abs(o['peak_percent'] - 100 * o['gflops'] / o['peak_gflops']) < 1e-3 * o['peak_percent']"

    # --- the peak is that of the kernels' instruction set (RESNET_ISA picks them) ---
    for isa in avx512:avx512 avx2:avx2 c:scalar; do
        table=${isa%%:*} loop=${isa#*:}
        if [ "$table" = c ] || grep -qw "$table" /proc/cpuinfo 2>/dev/null || \
           { [ "$table" = avx512 ] && grep -qw avx512f /proc/cpuinfo; }; then
            RESNET_ISA=$table $R bench $M -n 1 -t 1 -f json >"$T/isa_$table" 2>/dev/null
            check "RESNET_ISA=$table: kernels $table, the peak of the $loop FMA loop" json_ok \
                "$T/isa_$table" "o['kernels'] == '$table'" "o['peak_isa'] == '$loop'"
        else
            skip "RESNET_ISA=$table: this CPU has no $table"
        fi
    done
    check "text: names the kernel table and the precision" sh -c "RESNET_ISA=c $R bench $M -n 1 2>/dev/null | \
        grep -q '^convolutions: direct; kernels: c; precision: fp32\$'"

    # --- --layers says how each convolution is computed ---
    $R bench $M -n 1 -t 1 --layers -f json >"$T/how" 2>/dev/null
    check "json --layers: every conv says its path and tiles, the other ops nothing" json_ok \
        "$T/how" "all(l['how'].startswith('direct ') and 'tiles' in l['how'] if l['name'].endswith('conv') \
                      else l['how'] == '' for l in o['layers'])"
    $R bench $M -n 1 -t 1 -b 4 --layers --winograd -f json >"$T/how_w" 2>/dev/null
    check "json --layers --winograd: some conv is computed by Winograd" json_ok "$T/how_w" \
        "any(l['how'].startswith('winograd ') for l in o['layers'])"
    check "text --layers, RESNET_ISA=c: the portable kernel is named" sh -c \
        "RESNET_ISA=c $R bench $M -n 1 --layers 2>/dev/null | grep -q 'conv .*direct c, rows'"

    # --- threads: -t, else OMP_NUM_THREADS, else one per core ---
    # OMP_NUM_THREADS one more than the cores, so that it differs from the
    # default and from -t 1.
    cores=$(nproc)
    omp=$((cores + 1))
    env -u OMP_NUM_THREADS $R bench $M -n 1 -f json >"$T/th_default" 2>/dev/null
    check "threads by default: one per core ($cores, nproc)" json_ok "$T/th_default" "o['threads'] == $cores"
    OMP_NUM_THREADS=$omp $R bench $M -n 1 -f json >"$T/th_omp" 2>/dev/null
    check "OMP_NUM_THREADS=$omp without -t: $omp threads" json_ok "$T/th_omp" "o['threads'] == $omp"
    OMP_NUM_THREADS=$omp $R bench $M -n 1 -t 1 -f json >"$T/th_t" 2>/dev/null
    check "-t 1 overrides OMP_NUM_THREADS=$omp: 1 thread" json_ok "$T/th_t" "o['threads'] == 1"

    # --- --layers ---
    $R bench $M -n 2 --layers -f json >"$T/lj" 2>/dev/null
    check "--layers json: one entry per op with name, ms, gflops and how" json_ok "$T/lj" \
        "len(o['layers']) >= 8" \
        "all(set(l) == {'name', 'ms', 'gflops', 'how'} and l['name'] and l['ms'] >= 0 and l['gflops'] >= 0 \
             for l in o['layers'])" \
        "o['layers'][0]['name'] == 'conv1_conv'" \
        "all(l['gflops'] > 0 for l in o['layers'] if l['name'].endswith('_conv'))"
    $R bench $M -n 2 --layers >"$T/lt" 2>/dev/null
    check "--layers text: the same ops, in the same order" $PY -c "
import json
ops = [l['name'] for l in json.load(open('$T/lj'))['layers']]
text = open('$T/lt').read().split('\n\n', 1)[1].splitlines()
assert text[0].split() == ['op', 'ms', 'GFLOP/s', 'time', 'how'], text[0]
assert [line.split()[0] for line in text[1:] if line] == ops
"

    # --- --size ---
    $R bench $M -n 2 --size 32 -f json >"$T/s32" 2>/dev/null
    check "--size 32: runs at 32x32 with the same weights" json_ok "$T/s32" "o['input'] == [32, 32]"
    check "--size 32: about a quarter of the FLOPs of 64x64" $PY -c "
import json
a = json.load(open('$T/json'))['gflop_per_batch'] / 2   # that one ran -b 2
b = json.load(open('$T/s32'))['gflop_per_batch']
assert 0.2 < b / a < 0.3, b / a
"
else
    skip "the JSON report, --layers and --size: $PY not installed (make deps installs it)"
fi
RESNET_HOME="$T/weights_home" $R bench -m resnet20_cifar --size 48 -n 1 >"$T/out" 2>/dev/null
check "--size 48 on a built-in model prints 48x48" grep -q '^model resnet20_cifar, 48x48,' "$T/out"

# --- usage errors exit 2 ---
check "-n 0 exits 2" status_is 2 $R bench $M -n 0
check "-b abc exits 2" status_is 2 $R bench $M -b abc
check "-t 0 exits 2" status_is 2 $R bench $M -t 0
check "--size 0 exits 2" status_is 2 $R bench $M --size 0
check "--size x exits 2" status_is 2 $R bench $M --size x
check "-f tsv exits 2 (bench has text and json)" status_is 2 $R bench $M -f tsv
check "an unknown option exits 2" status_is 2 $R bench $M --frobnicate
check "an unexpected argument exits 2" status_is 2 $R bench $M extra
check "an unknown model exits 2" status_is 2 $R bench -m no_such_model -n 1
status_is 2 $R bench $M -f xml
rc=$?
check "usage error: message on stderr, nothing on stdout" \
    sh -c "[ $rc -eq 0 ] && [ ! -s '$T/out' ] && grep -q xml '$T/err'"

finish tests/test_bench.sh
