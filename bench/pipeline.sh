#!/bin/sh
# pipeline.sh -- is image loading the bottleneck of `resnet classify DIR`?
#
# Makes N camera-size JPEGs (12 megapixels, 4032x3024, from the bundled
# photos, into bench/cache/photos; made once), then times in one run:
#   resnet bench -b B            the network alone, images/s
#   resnet classify -b B DIR     decoding + preprocessing + network, images/s
# and prints the ratio.  The issue's bar: classify within 15% of bench.
#
#   bench/pipeline.sh [-n IMAGES] [-b BATCH] [-t THREADS] [-m MODEL]
set -eu
cd "$(dirname "$0")/.."
N=200 B=8 T=2 MODEL=resnet50
while [ $# -gt 0 ]; do
    case $1 in
    -n) N=$2; shift 2 ;;
    -b) B=$2; shift 2 ;;
    -t) T=$2; shift 2 ;;
    -m) MODEL=$2; shift 2 ;;
    *) echo "usage: bench/pipeline.sh [-n IMAGES] [-b BATCH] [-t THREADS] [-m MODEL]" >&2; exit 2 ;;
    esac
done
PY=/usr/bin/python3
DIR=bench/cache/photos
W=bench/cache/$MODEL.safetensors
make -s resnet
[ -f "$W" ] || $PY bench/make_models.py --out bench/cache "$MODEL" >&2
mkdir -p "$DIR"
have=$(find "$DIR" -name '*.jpg' | wc -l)
if [ "$have" -lt "$N" ]; then
    echo "pipeline.sh: making $N camera-size JPEGs in $DIR" >&2
    $PY - "$DIR" "$N" <<'PYEOF'
import glob, sys
from PIL import Image, ImageOps
out, n = sys.argv[1], int(sys.argv[2])
srcs = sorted(glob.glob('tests/images/mixed/ok_*.jpg') + glob.glob('tests/images/parity/*.jpg'))
for i in range(n):
    im = Image.open(srcs[i % len(srcs)])
    im = ImageOps.exif_transpose(im).convert('RGB')
    im = im.rotate((i * 7) % 360, expand=False).resize((4032, 3024), Image.BICUBIC)
    im.save('%s/IMG_%04d.jpg' % (out, i), quality=90)
PYEOF
fi
imgs=$(find "$DIR" -name '*.jpg' | sort | head -n "$N")
count=$(echo "$imgs" | wc -l)
net=$(./resnet bench -m "$MODEL" -w "$W" -b "$B" -t "$T" -n 10 -f json 2>/dev/null |
      $PY -c 'import json,sys; print(json.load(sys.stdin)["images_per_s"])')
t0=$($PY -c 'import time; print(time.time())')
echo "$imgs" | ./resnet classify -m "$MODEL" -w "$W" -b "$B" -t "$T" -q -k 1 -f tsv - >/dev/null
t1=$($PY -c 'import time; print(time.time())')
$PY - "$net" "$count" "$t0" "$t1" "$MODEL" "$B" "$T" <<'PYEOF'
import sys
net, n, t0, t1, model, b, t = float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), *sys.argv[5:]
rate = n / (t1 - t0)
print('%s, batch %s, %s threads: network alone %.1f images/s; classify %d camera JPEGs '
      '(4032x3024) %.1f images/s, %.0f%% of the network\'s throughput' % (model, b, t, net, n, rate, 100 * rate / net))
PYEOF
