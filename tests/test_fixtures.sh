#!/bin/sh
# test_fixtures.sh -- the committed fixtures are what their generators make.
#
# Each generator runs again in a copy of tests/ and models/ under $T (each
# script finds its inputs and writes its outputs relative to its own file),
# after its outputs there are deleted, and every file it owns is compared
# byte for byte with the committed one: git's index (what is committed or
# staged; run.sh's own reference generation writes into the work tree, so
# that is not what counts), or the work tree outside a git checkout.  One
# check per generator, naming the files that differ, that it no longer
# makes, or that it makes but are not committed:
#
#   tests/make_image_fixtures.py        the files of tests/images/, tests/images/bad/
#   tests/make_photo_fixtures.py        tests/images/exif/, tests/images/mixed/, tests/fuzz/seeds/
#   tests/make_h5_fixtures.py           tests/fixtures/h5/
#   tests/golden/make_golden.py --all   tests/golden/*.summary.txt
#   tests/gen_reference.py              tests/fixtures/* but h5/ and keras/
#   tests/gen_keras_reference.py        tests/fixtures/keras/
#   tests/fashion_ref.py --demo         tests/images/fashion/
#
# A last check finds any file a generator wrote outside those.  Not made by
# a script: tests/images/parity/ (photos cut by hand, see its README),
# tests/fuzz/regressions/ (inputs fuzzing found) and the specs in models/.
#
# models/fashion_resnet20.safetensors takes 10 CPU minutes of training
# (models/train_fashion.py), too long for make test.  What is checked
# instead: the committed file is the one train_fashion.py records as the
# output of its defaults (TRAINED_SHA256) and its metadata names them, and
# a two-step run of the script still trains and writes weights the spec
# loads.  Not checked: that the full run still writes TRAINED_SHA256 (a run
# with the defaults says whether it did); its bytes depend on the BLAS
# library too (models/train_fashion.py).
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
PY=/usr/bin/python3
W=$T/regen
C=$T/committed
DATA=/usr/share/datasets/fashion-mnist
export PYTHONDONTWRITEBYTECODE=1
mkdir -p "$W" "$C"

if ! [ -x $PY ]; then
    skip "the generators of the committed fixtures: $PY not installed (make deps installs it)"
    finish tests/test_fixtures.sh
fi

has() {  # has MODULE...: python3 imports them all
    $PY -c "import $(echo "$@" | tr ' ' ',')" 2>/dev/null
}

owned() {  # owned ROOT "PATTERN...": the files under ROOT the patterns name (DIR/: all below it)
    (cd "$1" && for p in $2; do
        case $p in
        */) [ -d "$p" ] && find "$p" -type f ;;
        *) for f in $p; do [ -f "$f" ] && echo "$f"; done ;;
        esac
    done) | grep -v __pycache__ | LC_ALL=C sort -u
}

names() {  # names "LIST": the first four lines of LIST on one line, and how many more
    printf '%s\n' "$1" | awk 'NF { n++; if (n <= 4) s = s (n > 1 ? " " : "") $0 }
                              END { if (n > 4) s = s " and " n - 4 " more"; print s }'
}

regen() {  # regen NAME "PATTERN..." COMMAND...: remake NAME's files in $W, compare with $C
    name=$1 pats=$2
    shift 2
    owned "$W" "$pats" | while read -r f; do rm -f "$W/$f"; done
    if ! (cd "$W" && "$@") >"$T/log" 2>&1; then
        check "$name: runs to the end (exit 0)" false
        tail -5 "$T/log" | sed 's/^/#   /'
        return
    fi
    owned "$W" "$pats" >"$T/made"
    owned "$C" "$pats" >"$T/have"
    cat "$T/made" "$T/have" >>"$T/owned"
    differ=$(comm -12 "$T/made" "$T/have" | while read -r f; do cmp -s "$W/$f" "$C/$f" || echo "$f"; done)
    gone=$(comm -13 "$T/made" "$T/have")
    new=$(comm -23 "$T/made" "$T/have")
    why=
    [ -n "$differ" ] && why="$why; differ: $(names "$differ")"
    [ -n "$gone" ] && why="$why; no longer made: $(names "$gone")"
    [ -n "$new" ] && why="$why; made but not committed: $(names "$new")"
    check "$name makes its $(wc -l <"$T/have") committed files again, byte for byte${why:+ -- ${why#; }}" \
        [ -z "$why" ]
}

tar -cf - --exclude=tests/cache --exclude=__pycache__ tests models | tar -xf - -C "$W"
if git rev-parse --git-dir >/dev/null 2>&1; then
    git ls-files -z -- tests models | git checkout-index -z --stdin --prefix="$C/"
else
    echo "# not a git checkout: the regenerated fixtures are compared with the work tree"
    tar -cf - --exclude=tests/cache --exclude=__pycache__ tests models | tar -xf - -C "$C"
fi
: >"$T/owned"

# make_photo_fixtures.py takes fuzz seeds from make_image_fixtures.py's images: this order.
if has torch torchvision PIL numpy; then
    regen tests/make_image_fixtures.py "tests/images/* tests/images/bad/" \
        $PY tests/make_image_fixtures.py
else
    skip "tests/make_image_fixtures.py: python3-torch, -torchvision, -pil or -numpy not installed"
fi
if has torch torchvision PIL numpy skimage; then
    regen tests/make_photo_fixtures.py "tests/images/exif/ tests/images/mixed/ tests/fuzz/seeds/" \
        $PY tests/make_photo_fixtures.py
else
    skip "tests/make_photo_fixtures.py: python3-skimage (its photos), -torch or -pil not installed"
fi
if has h5py numpy; then
    regen tests/make_h5_fixtures.py "tests/fixtures/h5/" $PY tests/make_h5_fixtures.py
else
    skip "tests/make_h5_fixtures.py: python3-h5py or -numpy not installed"
fi
if has torch torchvision keras_applications; then
    regen "tests/golden/make_golden.py --all" "tests/golden/*.summary.txt" \
        $PY tests/golden/make_golden.py --all
else
    skip "tests/golden/make_golden.py: python3-torch, -torchvision or -keras-applications not installed"
fi
if has torch torchvision PIL; then
    small=$(cd "$C" && for d in tests/fixtures/*/; do
        case $d in */h5/ | */keras/) ;; *) printf '%s ' "$d" ;; esac
    done)
    regen tests/gen_reference.py "$small" $PY tests/gen_reference.py
else
    skip "tests/gen_reference.py: python3-torch, -torchvision or -pil not installed"
fi
if has torch torchvision PIL h5py keras_applications; then
    regen tests/gen_keras_reference.py "tests/fixtures/keras/" $PY tests/gen_keras_reference.py
else
    skip "tests/gen_keras_reference.py: python3-torch, -h5py or -keras-applications not installed"
fi
if has torch numpy PIL && [ -f $DATA/t10k-images-idx3-ubyte.gz ]; then
    regen "tests/fashion_ref.py --demo" "tests/images/fashion/" \
        $PY tests/fashion_ref.py --demo tests/images/fashion
else
    skip "tests/fashion_ref.py --demo: python3-torch or dataset-fashion-mnist not installed"
fi

# Nothing written beside the files the checks above cover.
(cd "$W" && find tests models -type f | grep -v __pycache__ | LC_ALL=C sort) >"$T/w.list"
find tests models -path tests/cache -prune -o -type f -print | grep -v __pycache__ | LC_ALL=C sort >"$T/t.list"
LC_ALL=C sort -u "$T/owned" -o "$T/owned"
stray=$({ comm -23 "$T/w.list" "$T/t.list"
          comm -12 "$T/w.list" "$T/t.list" | while read -r f; do cmp -s "$W/$f" "$f" || echo "$f"; done
        } | LC_ALL=C sort | comm -23 - "$T/owned")
check "the generators wrote nothing beside their own files${stray:+ -- wrote: $(names "$stray")}" \
    [ -z "$stray" ]

# --- the shipped model's weights ---
if has torch numpy; then
    $PY - "$C/models/fashion_resnet20.safetensors" >"$T/train" 2>"$T/log" <<'EOF'
import importlib.util, json, struct, sys
spec = importlib.util.spec_from_file_location("train_fashion", "models/train_fashion.py")
tf = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tf)
d = tf.parser().parse_args([])
try:
    raw = open(sys.argv[1], "rb").read()
    meta = json.loads(raw[8:8 + struct.unpack("<Q", raw[:8])[0]])["__metadata__"]
    same = int(meta["seed"] == str(d.seed) and meta["epochs"] == str(d.epochs))
except (ValueError, KeyError, struct.error):
    same = 0
print(tf.TRAINED_SHA256, same)
EOF
    read -r trained meta <"$T/train"
    have=$(sha256sum "$C/models/fashion_resnet20.safetensors" | cut -d' ' -f1)
    check "models/fashion_resnet20.safetensors is what train_fashion.py records its defaults wrote (TRAINED_SHA256 ${trained:-unreadable})" \
        [ -n "$trained" -a "$have" = "$trained" ]
    check "models/fashion_resnet20.safetensors's metadata names train_fashion.py's default seed and epochs" \
        [ "$meta" = 1 ]
    # Its bytes depend on the BLAS library as well, so a short run is no
    # check of them; it shows that the script still trains and writes what
    # the spec loads.
    if [ -f $DATA/train-images-idx3-ubyte.gz ]; then
        $PY models/train_fashion.py --limit 256 --epochs 1 --out "$T/smoke.safetensors" >"$T/log" 2>&1
        rc=$?
        $R classify -m fashion_resnet20 -w "$T/smoke.safetensors" -k 1 -f tsv tests/images/fashion \
            >"$T/out" 2>&1
        check "train_fashion.py --limit 256 --epochs 1 trains and writes weights fashion_resnet20 loads" \
            sh -c "[ $rc -eq 0 ] && [ $? -eq 0 ] && [ \$(wc -l <'$T/out') -eq 10 ]"
    else
        skip "train_fashion.py's short run: dataset-fashion-mnist not installed (make deps installs it)"
    fi
else
    skip "the shipped model's weights against train_fashion.py: python3-torch not installed"
fi

finish tests/test_fixtures.sh
