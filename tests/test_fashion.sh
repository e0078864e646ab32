#!/bin/sh
# test_fashion.sh -- the shipped model against PyTorch on real images: the
# first 2,000 Fashion-MNIST test images (Debian's dataset-fashion-mnist),
# written as PNG files into tests/cache/fashion/ and classified by
# `resnet classify -m fashion_resnet20` and by PyTorch (tests/fashion_ref.py,
# same files, same weights).  resnet's accuracy must be within 0.3 points of
# PyTorch's, and its top-1 the same on at least 99.5% of the images.
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
cut -f1 $C/truth.tsv | "$R" classify -m fashion_resnet20 -k 1 -f tsv -b 50 -q - >"$T/resnet.tsv"
rc=$?
check "resnet classifies the $COUNT PNG files: exit 0, one line each" \
    sh -c "[ $rc -eq 0 ] && [ \$(wc -l <'$T/resnet.tsv') -eq $COUNT ]"
# truth: path class; torch: path index prob; resnet: path rank index prob label
awk -F'\t' -v out="$T/stats" '
    FILENAME == ARGV[1] { truth[$1] = $2; next }
    FILENAME == ARGV[2] { torch[$1] = $2; next }
    { n++; if ($3 == truth[$1]) r++; if (torch[$1] == truth[$1]) t++; if ($3 == torch[$1]) same++ }
    END { printf "%d %.2f %.2f %.2f\n", n, 100 * r / n, 100 * t / n, 100 * same / n > out }
' $C/truth.tsv $C/torch.tsv "$T/resnet.tsv"
read n acc_r acc_t agree <"$T/stats"
echo "# $n Fashion-MNIST test images: resnet $acc_r%, PyTorch $acc_t%, same top-1 on $agree%"
check "accuracy within 0.3 points of PyTorch's (resnet $acc_r%, PyTorch $acc_t%)" \
    awk -v a="$acc_r" -v b="$acc_t" 'BEGIN { d = a - b; exit !(d <= 0.3 && d >= -0.3) }'
check "same top-1 as PyTorch on at least 99.5% of the images ($agree%)" \
    awk -v s="$agree" 'BEGIN { exit !(s >= 99.5) }'
check "the shipped model is a working classifier: at least 88% right ($acc_r%)" \
    awk -v a="$acc_r" 'BEGIN { exit !(a >= 88) }'

finish tests/test_fashion.sh
