#!/bin/sh
# test_fashion.sh -- the shipped model against PyTorch on real images: the
# first 2,000 Fashion-MNIST test images (Debian's dataset-fashion-mnist),
# written as PNG files into tests/cache/fashion/ and classified by
# `resnet classify -m fashion_resnet20` and by PyTorch (tests/fashion_ref.py,
# same files, same weights).  The images are 28x28, the spec's input, so
# preprocessing is the identity: every probability of every image must be
# within 1e-4 of PyTorch's, and the top-1 the same on every image.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
R=$PWD/resnet
PY=/usr/bin/python3
C=tests/cache/fashion
COUNT=2000

# --- the shipped model finds its labels and weights from anywhere ---
(cd "$T" && "$R" classify -m fashion_resnet20 -k 1 -f tsv "$OLDPWD/tests/images/fashion/07_sneaker.png") \
    >"$T/one" 2>"$T/err"
check "fashion_resnet20 runs from another directory without -w (labels, weights found)" \
    sh -c "[ \$(wc -l <'$T/one') -eq 1 ] && ! [ -s '$T/err' ]"
"$R" classify -m fashion_resnet20 -k 1 -f tsv tests/images/fashion >"$T/demo"
right=$(awk -F'\t' '{ n = split($1, p, "/"); f = p[n]; sub(/\.png$/, "", f); sub(/^[0-9]+_/, "", f);
                     l = tolower($5); gsub(/[\/ ]/, "_", l); if (f == l) r++ } END { print r + 0 }' "$T/demo")
check "the 10 bundled images (one per class): at least 8 right ($right)" [ "$right" -ge 8 ]

if ! $PY -c 'import torch, numpy, PIL' 2>/dev/null || ! [ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]; then
    skip "the comparison with PyTorch: python3-torch or dataset-fashion-mnist missing (make deps installs them)"
    finish tests/test_fashion.sh
fi

# --- 2,000 test images, resnet against PyTorch ---
if ! $PY tests/fashion_ref.py --out $C --count $COUNT >"$T/ref.log" 2>&1; then
    echo "FAIL tests/fashion_ref.py did not complete:"
    sed 's/^/    /' "$T/ref.log"
    fail=$((fail + 1))
    finish tests/test_fashion.sh
fi
cut -f1 $C/truth.tsv | "$R" classify -m fashion_resnet20 -k 10 -f tsv -b 50 -q - >"$T/resnet.tsv"
rc=$?
check "resnet classifies the $COUNT PNG files: exit 0, all 10 classes of each" \
    sh -c "[ $rc -eq 0 ] && [ \$(wc -l <'$T/resnet.tsv') -eq $((COUNT * 10)) ]"
# truth: path class; probs: path p0 .. p9; resnet: path rank index prob label.
# stats: images, the worst |difference| and its image, the images whose
# top-1 differs, resnet's and PyTorch's accuracy (%).
$PY - $C/truth.tsv $C/probs.tsv "$T/resnet.tsv" >"$T/stats" <<'EOF'
import sys
truth = dict(line.rstrip("\n").split("\t") for line in open(sys.argv[1]))
torch = {}
for line in open(sys.argv[2]):
    f = line.rstrip("\n").split("\t")
    torch[f[0]] = [float(v) for v in f[1:]]
ours = {}
for line in open(sys.argv[3]):
    path, rank, index, prob, _ = line.rstrip("\n").split("\t")
    ours.setdefault(path, [None] * 10)[int(index)] = (int(rank), float(prob))
assert ours.keys() == torch.keys() == truth.keys(), "not the same images"
worst, where, differ, right, right_t = -1.0, "-", 0, 0, 0
for path, t in torch.items():
    o = ours[path]
    assert all(o), path + ": not every class printed"
    d = max(abs(p - q) for (_, p), q in zip(o, t))
    if d > worst:
        worst, where = d, path
    top = [r for r, _ in o].index(1)
    top_t = max(range(10), key=lambda k: t[k])
    differ += top != top_t
    right += top == int(truth[path])
    right_t += top_t == int(truth[path])
n = len(torch)
print(n, "%.3g" % worst, where.rsplit("/", 1)[-1], differ, "%.2f" % (100 * right / n),
      "%.2f" % (100 * right_t / n))
EOF
read n worst where differ acc_r acc_t <"$T/stats"
echo "# $n Fashion-MNIST test images: resnet $acc_r% right, PyTorch $acc_t%;" \
     "worst probability difference $worst ($where), top-1 differs on ${differ:-?}"
check "every probability of the $COUNT images within 1e-4 of PyTorch's (worst $worst, $where)" \
    awk -v n="$n" -v w="$worst" "BEGIN { exit !(n == $COUNT && w != \"\" && w + 0 <= 1e-4) }"
check "the same top-1 as PyTorch on every image (${differ:-?} differ)" \
    awk -v n="$n" -v d="$differ" "BEGIN { exit !(n == $COUNT && d == \"0\") }"
check "the shipped model is a working classifier: at least 88% right ($acc_r%)" \
    awk -v a="$acc_r" 'BEGIN { exit !(a != "" && a + 0 >= 88) }'

finish tests/test_fashion.sh
