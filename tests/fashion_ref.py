#!/usr/bin/python3
"""fashion_ref.py -- Fashion-MNIST test images as PNG files, and PyTorch's
probabilities on them with the shipped model, for tests/test_fashion.sh.

    fashion_ref.py --out tests/cache/fashion [--count 2000]
        OUT/png/NNNNN.png   the first COUNT images of the test set (8-bit grey)
        OUT/truth.tsv       path <TAB> true class index
        OUT/probs.tsv       path <TAB> PyTorch's probability of class 0 <TAB> ...
                            of class 9 (float32, 9 significant digits)
      All are reused while OUT/reference.stamp matches: the count, the
      weights file and this script and models/train_fashion.py (whose
      ResNet20 it runs), by sha256; any change remakes them.  Each file is
      written under a temporary name and renamed, so a process reading the
      cache never sees half of one.  (OUT/stamp and OUT/torch.tsv, top-1
      only, are an earlier version's, which may share the cache.)

    fashion_ref.py --demo tests/images/fashion
        one image of each class: the first in the test set, NN_name.png

PyTorch reads the same PNG files (PIL, grey to RGB as resnet does it),
normalises with the spec's mean and std and runs the network of
models/train_fashion.py with the weights in models/fashion_resnet20.safetensors.
The images are 28x28, the spec's input size, so resnet's preprocessing is
the identity on them and its probabilities must match to float32 rounding.
"""
import argparse
import hashlib
import importlib.util
import json
import os
import struct
import sys

import numpy as np
import torch
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "models")


def train_module():
    spec = importlib.util.spec_from_file_location("train_fashion",
                                                  os.path.join(MODELS, "train_fashion.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    dtypes = {"F32": "<f4", "F16": "<f2", "F64": "<f8"}
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        arr = np.frombuffer(raw[8 + n + a:8 + n + b], dtype=dtypes[t["dtype"]])
        out[name] = torch.from_numpy(arr.astype(np.float32).reshape(t["shape"]))
    return out


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def replace(path, write):
    """write(file) into a temporary file, then rename it to path."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        write(f)
    os.replace(tmp, path)


def write_pngs(tf, out, count):
    images, labels = tf.load_split(tf.DATA, "test")
    os.makedirs(os.path.join(out, "png"), exist_ok=True)
    rows = []
    for i in range(count):
        rel = os.path.join(out, "png", f"{i:05d}.png")
        replace(rel, lambda f: Image.fromarray(images[i], mode="L").save(f, "PNG", optimize=True))
        rows.append(f"{rel}\t{labels[i]}\n")
    replace(os.path.join(out, "truth.tsv"), lambda f: f.write("".join(rows).encode()))


def predict(tf, out, weights):
    spec = json.load(open(os.path.join(MODELS, "fashion_resnet20.json")))
    mean = torch.tensor(spec["preprocess"]["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(spec["preprocess"]["std"]).view(1, 3, 1, 1)
    model = tf.ResNet20()
    missing, unexpected = model.load_state_dict(read_safetensors(weights), strict=False)
    if unexpected or any(not k.endswith("num_batches_tracked") for k in missing):
        sys.exit(f"{weights}: does not fit ResNet20 (missing {missing}, unexpected {unexpected})")
    model.eval()
    paths = [line.split("\t")[0] for line in open(os.path.join(out, "truth.tsv"))]
    rows = []
    with torch.no_grad():
        for i in range(0, len(paths), 500):
            batch = [np.asarray(Image.open(p).convert("RGB"), dtype=np.float32) for p in paths[i:i + 500]]
            x = torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2) / 255.0
            prob = torch.softmax(model((x - mean) / std), 1)
            rows += [path + "".join(f"\t{v:.9g}" for v in p) + "\n"
                     for path, p in zip(paths[i:i + 500], prob.tolist())]
    replace(os.path.join(out, "probs.tsv"), lambda f: f.write("".join(rows).encode()))


def write_demo(tf, out):
    images, labels = tf.load_split(tf.DATA, "test")
    names = [line.strip() for line in open(os.path.join(MODELS, "fashion_labels.txt"))]
    os.makedirs(out, exist_ok=True)
    for c, name in enumerate(names):
        i = int(np.flatnonzero(labels == c)[0])
        slug = name.lower().replace("/", "_").replace(" ", "_")
        Image.fromarray(images[i], mode="L").save(os.path.join(out, f"{c:02d}_{slug}.png"),
                                                  optimize=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", help="folder for the PNGs and the references")
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--demo", help="write one image per class into this folder")
    args = ap.parse_args()
    torch.set_num_threads(1)
    tf = train_module()
    if args.demo:
        write_demo(tf, args.demo)
    if not args.out:
        return 0
    weights = os.path.join(MODELS, "fashion_resnet20.safetensors")
    stamp_path = os.path.join(args.out, "reference.stamp")
    stamp = (f"count {args.count}\nweights {sha256(weights)}\n"
             f"fashion_ref.py {sha256(os.path.abspath(__file__))}\n"
             f"train_fashion.py {sha256(os.path.join(MODELS, 'train_fashion.py'))}\n")
    old = open(stamp_path).read() if os.path.exists(stamp_path) else ""
    if old != stamp or not all(os.path.exists(os.path.join(args.out, f))
                               for f in ("truth.tsv", "probs.tsv")):
        os.makedirs(args.out, exist_ok=True)
        write_pngs(tf, args.out, args.count)
        predict(tf, args.out, weights)
        replace(stamp_path, lambda f: f.write(stamp.encode()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
