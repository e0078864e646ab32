#!/usr/bin/python3
"""opencv_bench.py -- the OpenCV DNN peer of compare.sh (Debian's python3-opencv).

    opencv_bench.py bench --onnx NAME.onnx --model resnet18 --batch 1 \\
                          --threads 2 --runs 20
        one JSON line (peer_timing.report): net.forward() of
        cv2.dnn.readNetFromONNX on the default (OpenCV, CPU) backend.

    opencv_bench.py classify --onnx NAME.onnx --threads 2 photo.jpg
        what an OpenCV user writes: cv2.imread, resize + centre crop,
        blobFromImage, net.forward; top-5 index and probability on stdout.
        compare.sh times the whole process.
"""
import argparse
import os
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_timing  # noqa: E402

MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def load(path):
    net = cv2.dnn.readNetFromONNX(path)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    return net


def cmd_bench(args):
    net = load(args.onnx)
    blob = np.random.default_rng(1).standard_normal((args.batch, 3, args.size, args.size), np.float32)

    def run():
        net.setInput(blob)
        net.forward()

    result = peer_timing.time_forward(run, args.runs)
    peer_timing.report("opencv", "dnn", args.model, args.batch, args.threads, args.runs, result)


def cmd_classify(args):
    net = load(args.onnx)
    img = cv2.imread(args.image)
    if img is None:
        sys.exit(f"opencv_bench.py: cannot read {args.image}")
    # torchvision's recipe: shorter side to 256, centre 224x224, RGB, /255, (x - mean) / std
    h, w = img.shape[:2]
    s = 256 / min(h, w)
    img = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    h, w = img.shape[:2]
    y, x = (h - 224) // 2, (w - 224) // 2
    img = img[y:y + 224, x:x + 224]
    blob = cv2.dnn.blobFromImage(img, 1 / 255.0, swapRB=True) - MEAN.reshape(1, 3, 1, 1)
    blob /= STD.reshape(1, 3, 1, 1)
    net.setInput(blob)
    logits = net.forward()[0].astype(np.float64)
    e = np.exp(logits - logits.max())
    for i, p in peer_timing.top5(e / e.sum()):
        print(f"{i}\t{p:.6f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bench")
    b.add_argument("--model", required=True)
    b.add_argument("--batch", type=int, default=1)
    b.add_argument("--runs", type=int, default=20)
    b.add_argument("--size", type=int, default=224)
    c = sub.add_parser("classify")
    c.add_argument("image")
    for p in (b, c):
        p.add_argument("--onnx", required=True)
        p.add_argument("--threads", type=int, required=True)
    args = ap.parse_args()
    cv2.setNumThreads(args.threads)
    (cmd_bench if args.cmd == "bench" else cmd_classify)(args)


if __name__ == "__main__":
    main()
