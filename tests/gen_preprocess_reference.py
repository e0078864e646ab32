#!/usr/bin/python3
"""gen_preprocess_reference.py -- input tensors and probabilities as PIL,
torchvision and PyTorch make them from image files of every kind and size.

Writes into OUT (default tests/cache/preprocess, remade when this script
changes):

  *.jpg, *.png       images from 32x32 to camera size (4032x3024, and a
                     sideways one with EXIF orientation 6): JPEG baseline
                     4:2:0/4:2:2/4:4:4, progressive, grey, CMYK; PNG RGB 8
                     and 16 bits, grey, palette with tRNS, RGBA, LA; odd
                     sizes, up- and downscaling
  cases.txt          one line per case:
                       file resize out_h out_w interpolation fit mode full_decode
                       mean0 mean1 mean2 std0 std1 std2 stem
                     (resize 0 for fit stretch; mean and std for mode torch)
  <stem>.f32         the reference tensor, little-endian f32 [3][out_h][out_w]
  <stem>.probs       for the resnet18 cases: PyTorch's probabilities (float64
                     forward of tests/cache/resnet18's weights), f32 [1000]

The reference is pil_reference.pil_tensor: Resize/CenterCrop/ToTensor/
Normalize on the PIL image, drafted as resnet drafts unless full_decode.
tests/test_preprocess.c compares resnet against it.  16-bit grey PNGs are
left out: Pillow opens them as 32-bit integers and convert('RGB') clips
them to 255, which resnet does not copy (resnet.1 says so).

Run with the Debian python (PIL, numpy, torch, torchvision, python3-skimage)
after gen_reference.py --full has made tests/cache/resnet18.
"""
import argparse
import hashlib
import io
import json
import os
import struct
import sys

import numpy as np
import torch
import torchvision
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_image_fixtures import encode_png                                 # noqa: E402
from make_photo_fixtures import STORE, jpeg_bytes, photo, png_bytes, tiff   # noqa: E402
from pil_reference import pil_tensor                                       # noqa: E402

IMAGENET = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
TIMM = {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}

rng = np.random.default_rng(20261202)


def camera(name, size):
    """A photo blown up to `size` with a little sensor noise, so that it
    compresses like a camera's JPEG rather than a smooth upscale."""
    im = photo(name, size)
    pix = np.asarray(im, dtype=np.int16)
    pix = np.clip(pix + rng.integers(-6, 7, size=pix.shape), 0, 255).astype(np.uint8)
    return Image.fromarray(pix)


def images():
    cam = camera("chelsea.png", (4032, 3024))
    yield "cam_4032x3024.jpg", jpeg_bytes(cam, quality=90)
    # stored landscape, shown portrait: the draft and resize see 3024x4032
    yield "cam_sideways_o6.jpg", jpeg_bytes(cam.transpose(STORE[6]),
                                            b"Exif\0\0" + tiff(6, False), quality=88)
    yield "progressive_1600x1200.jpg", jpeg_bytes(camera("coffee.png", (1600, 1200)),
                                                  quality=90, progressive=True)
    yield "odd_1001x751_422.jpg", jpeg_bytes(camera("rocket.jpg", (1001, 751)),
                                             quality=85, subsampling=1)
    yield "q95_640x480_444.jpg", jpeg_bytes(photo("astronaut.png", (640, 480)),
                                            quality=95, subsampling=0)
    yield "gray_800x600.jpg", jpeg_bytes(photo("camera.png", (800, 600), "L"), quality=90)
    cmyk = photo("coffee.png", (700, 500)).convert("CMYK")
    yield "cmyk_700x500.jpg", jpeg_bytes(cmyk, quality=90)
    yield "tiny_32x32.jpg", jpeg_bytes(photo("chelsea.png", (32, 32)), quality=90)
    yield "exact_256x256.jpg", jpeg_bytes(photo("astronaut.png", (256, 256)), quality=90)
    yield "rgb8_500x375.png", png_bytes(photo("astronaut.png", (500, 375)))
    yield "odd_33x47.png", png_bytes(photo("rocket.jpg", (33, 47)))
    yield "crop_size_224x224.png", png_bytes(photo("coffee.png", (224, 224)))
    rgb16 = (np.asarray(photo("chelsea.png", (300, 200)), dtype=np.uint16) * 257
             + rng.integers(0, 256, size=(200, 300, 3)).astype(np.uint16))
    yield "rgb16_300x200.png", encode_png(rgb16, 16, 2)
    yield "gray8_640x480.png", png_bytes(photo("camera.png", (640, 480), "L"))
    pal = photo("chelsea.png", (256, 192)).quantize(64)
    out = io.BytesIO()
    pal.save(out, "PNG", transparency=bytes(range(0, 256, 4)))
    yield "palette_trns_256x192.png", out.getvalue()
    rgba = photo("astronaut.png", (400, 300)).convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize((400, 300)))
    yield "rgba_400x300.png", png_bytes(rgba)
    yield "la_150x150.png", png_bytes(photo("camera.png", (150, 150), "LA"))


# (stem suffix, preprocess, out_h, out_w, full_decode, with probabilities)
TORCHVISION = dict(IMAGENET, resize=256, interpolation="bilinear")
CONFIGS = [
    ("tv", TORCHVISION, 224, 224, False, True),
    ("tv_full", TORCHVISION, 224, 224, True, True),
    ("timm", dict(TIMM, resize=235, interpolation="bicubic"), 224, 224, False, False),
    ("nearest", dict(IMAGENET, resize=160, interpolation="nearest"), 128, 96, False, False),
    ("keras", {"mode": "caffe", "fit": "stretch", "interpolation": "nearest"}, 224, 224, False,
     False),
    ("keras_bilinear", {"mode": "tf", "fit": "stretch", "interpolation": "bilinear"}, 200, 150,
     False, False),
]


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        dtype = {"F32": np.float32, "I64": np.int64}[t["dtype"]]
        a, b = t["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype=dtype).reshape(t["shape"]).copy())
    return out


def write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "cache", "preprocess"))
    ap.add_argument("--resnet18", default=os.path.join(HERE, "cache", "resnet18"),
                    help="gen_reference.py's resnet18 case (weights.safetensors)")
    args = ap.parse_args()
    # remade when this script, the reference pipeline or resnet18's weights change
    version = hashlib.sha256()
    for name in (os.path.abspath(__file__), os.path.join(HERE, "pil_reference.py"),
                 os.path.join(args.resnet18, "generator.sha256")):
        with open(name, "rb") as f:
            version.update(f.read())
    version = version.hexdigest()
    stamp = os.path.join(args.out, "generator.sha256")
    if os.path.exists(stamp) and open(stamp).read().strip() == version:
        print(f"preprocess: up to date in {args.out}")
        return
    os.makedirs(args.out, exist_ok=True)
    if os.path.exists(stamp):
        os.remove(stamp)

    torch.set_num_threads(2)
    net = torchvision.models.resnet18()
    net.load_state_dict(read_safetensors(os.path.join(args.resnet18, "weights.safetensors")))
    net = net.double().eval()

    lines = ["# written by tests/gen_preprocess_reference.py -- do not edit",
             "# file resize out_h out_w interpolation fit mode full_decode mean[3] std[3] stem"]
    for name, data in images():
        path = os.path.join(args.out, name)
        write(path, data)
        for suffix, pre, h, w, full, probs in CONFIGS:
            stem = name.rsplit(".", 1)[0] + "." + suffix
            x = pil_tensor(path, pre, h, w, draft=not full)
            write(os.path.join(args.out, stem + ".f32"), x.numpy().astype("<f4").tobytes())
            if probs:
                with torch.no_grad():
                    p = torch.softmax(net(x.double()[None]), 1)[0]
                write(os.path.join(args.out, stem + ".probs"), p.numpy().astype("<f4").tobytes())
            ms = " ".join(repr(v) for v in pre.get("mean", [0.0] * 3) + pre.get("std", [1.0] * 3))
            lines.append(f"{name} {pre.get('resize', 0)} {h} {w} {pre['interpolation']} "
                         f"{pre.get('fit', 'crop')} {pre.get('mode', 'torch')} {int(full)} {ms} {stem}")
    write(os.path.join(args.out, "cases.txt"), ("\n".join(lines) + "\n").encode())
    write(stamp, (version + "\n").encode())
    print(f"preprocess: {len(lines) - 2} cases -> {args.out}")


if __name__ == "__main__":
    main()
