#!/bin/sh
# pipeline.sh -- is image loading the bottleneck of `resnet classify DIR`?
#
# Makes N camera-size JPEGs (12 megapixels, 4032x3024, from the bundled
# photos, into bench/cache/photos; made once), then times in one run:
#   resnet bench -b B                  the network alone, images/s
#   resnet classify -b B DIR           decoding (at 1/8 scale, as Pillow's
#                                      draft() does) + preprocessing + network
#   resnet classify --full-decode ...  the same, each JPEG decoded at full
#                                      size, as plain torchvision does
# and prints each classify's share of the network's images/s.
#
#   bench/pipeline.sh [-n IMAGES] [-b BATCH] [-t THREADS] [-m MODEL]
#   RESNET=path/to/resnet bench/pipeline.sh ...   (another build; default ./resnet)
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
RESNET=${RESNET:-./resnet}
[ "$RESNET" != ./resnet ] || make -s resnet
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
net=$("$RESNET" bench -m "$MODEL" -w "$W" -b "$B" -t "$T" -n 10 -f json 2>/dev/null |
      $PY -c 'import json,sys; print(json.load(sys.stdin)["images_per_s"])')
# seconds to classify the images, with the given extra options
classify() {
    t0=$($PY -c 'import time; print(time.time())')
    echo "$imgs" | "$RESNET" classify -m "$MODEL" -w "$W" -b "$B" -t "$T" -q -k 1 -f tsv "$@" - >/dev/null
    $PY -c 'import time, sys; print(time.time() - float(sys.argv[1]))' "$t0"
}
drafted=$(classify)
full=$(classify --full-decode)
$PY - "$net" "$count" "$drafted" "$full" "$MODEL" "$B" "$T" <<'PYEOF'
import sys
net, n, drafted, full = float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
model, b, t = sys.argv[5:]
print('%s, batch %s, %s threads: network alone %.1f images/s; classify %d camera JPEGs (4032x3024):'
      % (model, b, t, net, n))
for name, s in (("default (draft-scaled decode)", drafted), ("--full-decode", full)):
    print('  %-30s %.1f images/s, %.0f%% of the network\'s throughput' % (name, n / s, 100 * n / s / net))
PYEOF
