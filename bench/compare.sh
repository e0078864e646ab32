#!/bin/bash
# compare.sh -- resnet against ONNX Runtime, PyTorch and OpenCV DNN on this
# machine, on the same torchvision weights, in one go; prints markdown tables
# for the README (and keeps them in bench/cache/report.md).
#
# Every peer times only its forward pass with the same recipe (warm-up until
# at least one run and 200 ms, then RUNS timed runs, median and minimum) at
# the same thread count; the classify table is the whole process, exec to
# exit, of classifying one JPEG.  PyTorch also runs in bf16 (autocast) and
# int8 (static post-training quantization, calibrated on --calib's images),
# and so does resnet once it has `bench --precision`.  See bench/README.md.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
CACHE=$HERE/cache
PY=/usr/bin/python3
LIBDIR=/usr/lib/x86_64-linux-gnu

usage() {
    cat <<EOF
usage: bench/compare.sh [-m MODELS] [-b BATCHES] [-t THREADS] [-n RUNS] [-p PROC_RUNS]
                        [--peers PEERS] [--torch-modes MODES] [--blas LIBS] [--calib DIR]
                        [--no-bench] [--no-classify] [--photo JPEG] [--baseline RESNET]

  -m MODELS      comma-separated, from resnet18 resnet34 resnet50 resnet101 resnet152
                 (default resnet18,resnet50)
  -b BATCHES     batch sizes (default 1,8)
  -t THREADS     thread counts (default 1,2)
  -n RUNS        timed forward passes per measurement (default 20)
  -p PROC_RUNS   timed whole-process runs of classify per peer (default 7)
  --peers PEERS  from resnet,resnet-bf16,resnet-int8,ort,torch,torch-bf16,torch-int8,opencv
                 (default all); resnet-bf16 and resnet-int8 are "resnet bench --precision",
                 left out (with a note) while ./resnet has no --precision, and int8 while
                 it has no calibrate command; torch-bf16 is PyTorch under bf16 autocast,
                 torch-int8 its static post-training quantization (onednn engine)
  --torch-modes MODES  PyTorch variants, from eager,channels_last,jit (default all;
                 every PyTorch precision runs them)
  --calib DIR    the images int8 is calibrated on, .jpg/.jpeg/.png in DIR, the same
                 for PyTorch and resnet (default tests/images/parity)
  --blas LIBS    the BLAS PyTorch runs with, from refblas,openblas (default openblas:
                 Debian's reference BLAS makes eager PyTorch 3-10x slower, see README.md)
  --no-bench     only the classify (whole-process) table
  --no-classify  only the forward-pass tables
  --photo JPEG   the photo to classify (default tests/images/parity/chelsea.jpg)
  --baseline RESNET  also time another resnet binary (an earlier build: a change's
                 "before") right after ./resnet in every forward-pass measurement,
                 same options; the report gives each path's ratio to it

Installs what is missing (Debian packages, npm packages into bench/node_modules),
builds ./resnet, makes the models once into bench/cache/, then measures.
Exit status 0, or 1 with a message naming the peer that could not run.
EOF
}

MODELS=resnet18,resnet50 BATCHES=1,8 THREADS=1,2 RUNS=20 PROC_RUNS=7
ALL_PEERS=resnet,resnet-bf16,resnet-int8,ort,torch,torch-bf16,torch-int8,opencv
PEERS=$ALL_PEERS TORCH_MODES=eager,channels_last,jit BLAS=openblas
DO_BENCH=1 DO_CLASSIFY=1 BASELINE=
PHOTO=$ROOT/tests/images/parity/chelsea.jpg
CALIB=$ROOT/tests/images/parity
while [ $# -gt 0 ]; do
    case $1 in
    -m) MODELS=$2; shift ;;
    -b) BATCHES=$2; shift ;;
    -t) THREADS=$2; shift ;;
    -n) RUNS=$2; shift ;;
    -p) PROC_RUNS=$2; shift ;;
    --peers) PEERS=$2; shift ;;
    --torch-modes) TORCH_MODES=$2; shift ;;
    --blas) BLAS=$2; shift ;;
    --calib) CALIB=$2; shift ;;
    --no-bench) DO_BENCH=0 ;;
    --no-classify) DO_CLASSIFY=0 ;;
    --photo) PHOTO=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift ;;
    --baseline) BASELINE=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "compare.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
    [ $# -gt 0 ] && shift
done
list() { echo "$1" | tr ',' ' '; }
for v in $(list "$BATCHES") $(list "$THREADS") "$RUNS" "$PROC_RUNS"; do
    case $v in '' | *[!0-9]* | 0) echo "compare.sh: \"$v\" is not a positive integer" >&2; exit 2 ;; esac
done
has_peer() { case ",$PEERS," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
drop_peer() { PEERS=$(echo ",$PEERS," | sed "s/,$1,/,/g; s/^,//; s/,\$//"); }
for p in $(list "$PEERS"); do
    case ",$ALL_PEERS," in *",$p,"*) ;; *) echo "compare.sh: --peers takes $ALL_PEERS, not \"$p\"" >&2; exit 2 ;; esac
done
has_resnet() { has_peer resnet || has_peer resnet-bf16 || has_peer resnet-int8; }
has_torch() { has_peer torch || has_peer torch-bf16 || has_peer torch-int8; }
for b in $(list "$BLAS"); do
    case $b in refblas | openblas) ;; *) echo "compare.sh: --blas takes refblas and openblas, not \"$b\"" >&2; exit 2 ;; esac
done
die() { echo "compare.sh: $*" >&2; exit 1; }
note() { echo "compare.sh: $*" >&2; }
[ -z "$BASELINE" ] || [ -x "$BASELINE" ] || die "--baseline $BASELINE is not an executable"

# --- what the peers need ---
DEBS="make gcc pkg-config libjpeg62-turbo-dev libpng-dev libcjson-dev python3 python3-numpy
      python3-pil python3-torch python3-torchvision python3-opencv
      libopenblas0-pthread"
missing=$(for p in $DEBS; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' || echo "$p"
done)
# A Node.js from elsewhere (with its own npm) will do: Debian's npm conflicts with it.
command -v node >/dev/null && command -v npm >/dev/null || missing="$missing nodejs npm"
if [ -n "$missing" ]; then
    note "installing Debian packages:" $missing
    SUDO=
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    { $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $missing; } >&2 ||
        die "could not install" $missing "(run as root, or install them yourself)"
fi
if has_peer ort && { [ ! -d "$HERE/node_modules/onnxruntime-node" ] ||
    [ "$HERE/package-lock.json" -nt "$HERE/node_modules/.package-lock.json" ]; }; then
    note "npm ci in bench/ (onnxruntime-node, jpeg-js)"
    # onnxruntime-node's install script would fetch CUDA libraries; the CPU
    # library ships inside the package.
    (cd "$HERE" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund >&2) ||
        die "npm ci in bench/ failed: ONNX Runtime cannot run"
fi
if has_resnet; then
    make -s -C "$ROOT" resnet >&2 || die "make failed: resnet cannot run"
fi
# resnet's bf16 and int8 need `bench --precision` (and int8 `calibrate`),
# which older builds lack: their columns are then left out.
if { has_peer resnet-bf16 || has_peer resnet-int8; } &&
    ! "$ROOT/resnet" bench --help 2>&1 | grep -q -- '--precision'; then
    note "resnet bench has no --precision: leaving out resnet-bf16 and resnet-int8"
    drop_peer resnet-bf16
    drop_peer resnet-int8
fi
if has_peer resnet-int8 && ! "$ROOT/resnet" --help 2>&1 | grep -q '^ *calibrate '; then
    note "resnet has no calibrate command: leaving out resnet-int8"
    drop_peer resnet-int8
fi
# The int8 calibration images, one list for PyTorch and resnet.
CALIB_FILES=()
if has_peer torch-int8 || has_peer resnet-int8 || has_peer torch-bf16; then
    [ -d "$CALIB" ] || die "--calib $CALIB is not a directory"
    while IFS= read -r f; do CALIB_FILES+=("$f"); done < <(
        find -H "$CALIB" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \) | sort)
    [ ${#CALIB_FILES[@]} -gt 0 ] || die "no .jpg, .jpeg or .png images in $CALIB to calibrate int8 on"
fi
mkdir -p "$CACHE"
$PY "$HERE/make_models.py" --out "$CACHE" $(list "$MODELS") 2>"$CACHE/make_models.log" ||
    die "make_models.py failed (see $CACHE/make_models.log)"

# PyTorch links libblas.so.3, whichever the system's alternative points at;
# each run names its BLAS explicitly, and the report keeps the best.
blas_dir() {
    case $1 in refblas) echo "$LIBDIR/blas:$LIBDIR/lapack" ;; openblas) echo "$LIBDIR/openblas-pthread" ;; esac
}

LOG=$CACHE/compare.log
RESULTS=$CACHE/results.jsonl
: >"$LOG"
: >"$RESULTS"

# run PEER WHAT CMD...: CMD (a command or a function) prints JSON lines into
# the results; its stderr goes to the log; a failure stops everything, naming
# the peer.
run() {
    local peer=$1 what=$2 out
    shift 2
    echo "== $peer $what: $*" >>"$LOG"
    out=$("$@" 2>>"$LOG") || {
        tail -5 "$LOG" >&2
        die "$peer cannot run ($what); the whole log is $LOG"
    }
    printf '%s\n' "$out" | grep '^{' >>"$RESULTS" || die "$peer printed no result ($what); see $LOG"
    printf '%s\n' "$out" | grep '^{' | $PY -c '
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    peer = o.get("peer") or ("resnet-baseline" if o.get("baseline") else
                             "resnet-" + o["precision"] if o.get("precision", "fp32") != "fp32" else "resnet")
    print("  %-12s %-24s %10.2f ms" % (peer, o.get("variant", ""), o["ms_median"]))
' >&2
}

# resnet_at PRECISION BENCH-OPTIONS...: `resnet bench --precision`, its JSON
# tagged with the precision for report.py (in case it does not say so
# itself); the int8 calibration is found in RESNET_HOME, where
# resnet_calibrate keeps it.
resnet_at() {
    local p=$1
    shift
    RESNET_HOME=$CACHE/resnet_home "$ROOT/resnet" bench "$@" --precision "$p" -f json |
        sed "s/^{/{\"precision\":\"$p\",/"
    return "${PIPESTATUS[0]}"
}
resnet_calibrate() {
    echo "== resnet-int8 calibrate $1: ${#CALIB_FILES[@]} images from $CALIB" >>"$LOG"
    RESNET_HOME=$CACHE/resnet_home "$ROOT/resnet" calibrate -m "$1" -w "$CACHE/$1.safetensors" \
        "${CALIB_FILES[@]}" >>"$LOG" 2>&1 || {
        tail -5 "$LOG" >&2
        die "resnet-int8 cannot run (calibrate $1); the whole log is $LOG"
    }
}

start=$(date +%s)
if [ $DO_BENCH -eq 1 ]; then
    for m in $(list "$MODELS"); do
        has_peer resnet-int8 && resnet_calibrate "$m"
        for b in $(list "$BATCHES"); do
            for t in $(list "$THREADS"); do
                what="$m batch $b threads $t"
                note "$what"
                export OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t
                if has_peer resnet; then
                    for path in "" --winograd; do
                        run resnet "$what $path" "$ROOT/resnet" bench -m "$m" $path \
                            -w "$CACHE/$m.safetensors" -b "$b" -t "$t" -n "$RUNS" -f json
                        [ -z "$BASELINE" ] || run resnet-baseline "$what $path" \
                            sh -c '"$@" | sed "s/^{/{\"baseline\":true,/"' sh "$BASELINE" bench \
                            -m "$m" $path -w "$CACHE/$m.safetensors" -b "$b" -t "$t" -n "$RUNS" -f json
                    done
                fi
                for prec in bf16 int8; do
                    has_peer resnet-$prec && run resnet-$prec "$what --precision $prec" resnet_at $prec \
                        -m "$m" -w "$CACHE/$m.safetensors" -b "$b" -t "$t" -n "$RUNS"
                done
                has_peer ort && run onnxruntime "$what" node "$HERE/ort_bench.js" bench \
                    --onnx "$CACHE/$m.onnx" --model "$m" --batch "$b" --threads "$t" --runs "$RUNS"
                for prec in fp32 bf16 int8; do
                    peer=torch label=pytorch calib=()
                    [ $prec = fp32 ] || peer=torch-$prec label=pytorch-$prec calib=(--calib "${CALIB_FILES[@]}")
                    has_peer $peer || continue
                    for blas in $(list "$BLAS"); do
                        run $label "$what" env LD_LIBRARY_PATH="$(blas_dir $blas)" $PY "$HERE/torch_bench.py" \
                            bench --model "$m" --weights "$CACHE/$m.safetensors" --batch "$b" --threads "$t" \
                            --runs "$RUNS" --modes "$TORCH_MODES" --precision $prec "${calib[@]}"
                    done
                done
                has_peer opencv && run opencv "$what" $PY "$HERE/opencv_bench.py" bench \
                    --onnx "$CACHE/$m.onnx" --model "$m" --batch "$b" --threads "$t" --runs "$RUNS"
            done
        done
    done
fi

if [ $DO_CLASSIFY -eq 1 ]; then
    # As many threads as the largest count asked for: what a user's run gets.
    t=$(list "$THREADS" | tr ' ' '\n' | sort -n | tail -1)
    export OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t
    [ -f "$PHOTO" ] || die "no photo $PHOTO"
    for m in $(list "$MODELS"); do
        note "$m: classify one JPEG, whole process, $PROC_RUNS runs each"
        P=("$PY" "$HERE/proctime.py" --model "$m" --threads "$t" --runs "$PROC_RUNS")
        # The packed-weight cache as a user has it after the first run (the
        # untimed run writes it, under bench/cache), and without it: every
        # process packs.
        if has_peer resnet; then
            export RESNET_HOME=$CACHE/resnet_home
            run resnet "classify $m" "${P[@]}" --peer resnet --variant "packed cache" --top1-field 2 -- \
                "$ROOT/resnet" classify --timing -m "$m" -w "$CACHE/$m.safetensors" -t "$t" -f tsv "$PHOTO"
            run resnet "classify $m --no-cache" "${P[@]}" --peer resnet --variant "no cache" \
                --top1-field 2 -- \
                "$ROOT/resnet" classify --timing --no-cache -m "$m" -w "$CACHE/$m.safetensors" -t "$t" -f tsv \
                "$PHOTO"
            run resnet "classify $m --winograd" "${P[@]}" --peer resnet \
                --variant "packed cache, winograd" --top1-field 2 -- \
                "$ROOT/resnet" classify --timing --winograd -m "$m" -w "$CACHE/$m.safetensors" -t "$t" \
                -f tsv "$PHOTO"
        fi
        has_peer ort && run onnxruntime "classify $m" "${P[@]}" --peer onnxruntime -- \
            node "$HERE/ort_bench.js" classify --onnx "$CACHE/$m.onnx" --threads "$t" "$PHOTO"
        if has_peer torch; then
            for blas in $(list "$BLAS"); do
                run pytorch "classify $m" "${P[@]}" --peer pytorch --variant $blas -- \
                    env LD_LIBRARY_PATH="$(blas_dir $blas)" \
                    $PY "$HERE/torch_bench.py" classify --model "$m" --weights "$CACHE/$m.safetensors" \
                    --threads "$t" "$PHOTO"
            done
        fi
        has_peer opencv && run opencv "classify $m" "${P[@]}" --peer opencv -- \
            $PY "$HERE/opencv_bench.py" classify --onnx "$CACHE/$m.onnx" --threads "$t" "$PHOTO"
    done
fi
note "measured in $(($(date +%s) - start)) s"

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
# A virtual machine may show only the vendor's brand; family and model tell the generation.
cpu="$cpu (family $(sed -n 's/^cpu family[[:space:]]*: //p' /proc/cpuinfo | head -1) model $(sed -n 's/^model[[:space:]]*: //p' /proc/cpuinfo | head -1))"
flags=$(grep -m1 '^flags' /proc/cpuinfo)
isa="x86-64"
case $flags in *avx512f*) isa="AVX-512" ;; *avx2*) isa="AVX2" ;; esac
versions=
has_resnet && versions="resnet $("$ROOT/resnet" --version | cut -d' ' -f2)"
[ -n "$BASELINE" ] && versions="$versions (baseline: $BASELINE)"
has_peer ort && versions="$versions, onnxruntime-node $(node -p "require('$HERE/node_modules/onnxruntime-node/package.json').version")"
has_torch && versions="$versions, PyTorch $($PY -c 'import torch; print(torch.__version__)')"
has_peer opencv && versions="$versions, OpenCV $($PY -c 'import cv2; print(cv2.__version__)')"
$PY "$HERE/report.py" "$RESULTS" --date "$(date -u +%Y-%m-%d)" \
    --cpu "$cpu, $(getconf _NPROCESSORS_ONLN) cores, $isa" --versions "${versions#, }" | tee "$CACHE/report.md"
