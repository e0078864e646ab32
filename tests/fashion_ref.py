#!/usr/bin/python3
"""fashion_ref.py -- Fashion-MNIST test images as PNG files, and PyTorch's
predictions on them with the shipped model, for tests/test_fashion.sh.

    fashion_ref.py --out tests/cache/fashion [--count 2000]
        OUT/png/NNNNN.png   the first COUNT images of the test set (8-bit grey)
        OUT/truth.tsv       path <TAB> true class index
        OUT/torch.tsv       path <TAB> PyTorch's top-1 index <TAB> its probability
      Both are reused while the count and the weights file are unchanged
      (OUT/stamp records them).

    fashion_ref.py --demo tests/images/fashion
        one image of each class: the first in the test set, NN_name.png

PyTorch reads the same PNG files (PIL, grey to RGB as resnet does it),
normalises with the spec's mean and std and runs the network of
models/train_fashion.py with the weights in models/fashion_resnet20.safetensors.
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


def write_pngs(tf, out, count):
    images, labels = tf.load_split(tf.DATA, "test")
    os.makedirs(os.path.join(out, "png"), exist_ok=True)
    rows = []
    for i in range(count):
        rel = os.path.join(out, "png", f"{i:05d}.png")
        Image.fromarray(images[i], mode="L").save(rel, optimize=True)
        rows.append(f"{rel}\t{labels[i]}\n")
    with open(os.path.join(out, "truth.tsv"), "w") as f:
        f.writelines(rows)


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
            p, idx = prob.max(1)
            rows += [f"{path}\t{k}\t{v:.6f}\n" for path, k, v in
                     zip(paths[i:i + 500], idx.tolist(), p.tolist())]
    with open(os.path.join(out, "torch.tsv"), "w") as f:
        f.writelines(rows)


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
    stamp_path = os.path.join(args.out, "stamp")
    stamp = f"count {args.count}\nweights {sha256(weights)}\n"
    old = open(stamp_path).read() if os.path.exists(stamp_path) else ""
    if not old.startswith(f"count {args.count}\n"):
        write_pngs(tf, args.out, args.count)
    if old != stamp or not os.path.exists(os.path.join(args.out, "torch.tsv")):
        predict(tf, args.out, weights)
    with open(stamp_path, "w") as f:
        f.write(stamp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
