#!/usr/bin/python3
"""torch_bench.py -- the PyTorch peers of compare.sh (Debian's python3-torch).

    torch_bench.py bench --model resnet18 --weights W.safetensors --batch 1 \\
                         --threads 2 --runs 20 [--modes eager,channels_last,jit] \\
                         [--precision fp32|bf16|int8] [--calib IMAGE|DIR ...]
        one JSON line per mode (peer_timing.report): eager is the model as
        written, channels_last the same on NHWC tensors, jit
        torch.jit.optimize_for_inference of the TorchScript model (frozen,
        convolutions handed to oneDNN).  The variant also names the BLAS
        the process loaded, as compare.sh runs it with either.

        --precision (default fp32) chooses what runs:
          fp32  torchvision's model; jit is torch.jit.script.
          bf16  the same model, each forward pass inside
                torch.autocast("cpu", dtype=torch.bfloat16); jit is
                torch.jit.trace under autocast (torch.jit.script does not
                apply autocast) of the channels_last model on NHWC tensors.
                The peer is "pytorch-bf16".
          int8  torchvision's quantizable ResNet (torchvision.models.quantization,
                quantize=False) with the same fp32 weights, fuse_model(),
                static post-training quantization by torch.ao.quantization on
                the "onednn" engine (its default qconfig: per-channel
                symmetric int8 weights, histogram-calibrated u8 activations),
                calibrated on the --calib images (files or folders of
                .jpg/.jpeg/.png, ImageNet preprocessing: resize 256, centre
                crop 224, normalise; default tests/images/parity), then
                converted; jit is torch.jit.script.  The peer is "pytorch-int8".
        For bf16 and int8, stderr says how often the top-1 class of the
        calibration images agrees with fp32's.  The timed input is the same
        random fp32 batch for every precision: converting it (autocast,
        QuantStub) is part of the forward pass.

    torch_bench.py classify --model resnet18 --weights W.safetensors \\
                            --threads 2 photo.jpg
        what a PyTorch user writes: PIL + torchvision transforms, top-5
        index and probability on stdout.  compare.sh times the whole process.
"""
import argparse
import copy
import json
import os
import struct
import sys

import numpy as np
import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import peer_timing  # noqa: E402

CALIB_DEFAULT = os.path.join(os.path.dirname(HERE), "tests", "images", "parity")
IMAGE_EXT = (".jpg", ".jpeg", ".png")
PEER = {"fp32": "pytorch", "bf16": "pytorch-bf16", "int8": "pytorch-int8"}
MODES = ("eager", "channels_last", "jit")


def load_safetensors(path):
    """state_dict from a safetensors file (F32 only: what make_models.py writes)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    state = {}
    for key, v in header.items():
        if key == "__metadata__":
            continue
        if v["dtype"] != "F32":
            sys.exit(f"torch_bench.py: {path}: {key} is {v['dtype']}, only F32 is read")
        a, b = v["data_offsets"]
        state[key] = torch.from_numpy(np.frombuffer(data, "<f4", (b - a) // 4, a).reshape(v["shape"]).copy())
    return state


def load_weights(model, path):
    """The weights into model; only BatchNorm's training counter may be absent."""
    missing, unexpected = model.load_state_dict(load_safetensors(path), strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        sys.exit(f"torch_bench.py: {path} does not fit the model: missing {missing[:3]}, "
                 f"unexpected {unexpected[:3]}")
    return model.eval()


def build(name, weights):
    return load_weights(getattr(torchvision.models, name)(weights=None), weights)


def quantizable(name):
    """torchvision's quantizable ResNet of that name: it ships resnet18 and
    resnet50; the other depths are its same classes with their block counts."""
    import torchvision.models.quantization as qm
    from torchvision.models.quantization.resnet import (QuantizableBasicBlock, QuantizableBottleneck,
                                                        QuantizableResNet)
    if name in ("resnet18", "resnet50"):
        return getattr(qm, name)(weights=None, quantize=False)
    block, layers = {"resnet34": (QuantizableBasicBlock, [3, 4, 6, 3]),
                     "resnet101": (QuantizableBottleneck, [3, 4, 23, 3]),
                     "resnet152": (QuantizableBottleneck, [3, 8, 36, 3])}[name]
    return QuantizableResNet(block, layers)


def blas_name():
    """The BLAS library this process loaded (torch links libblas.so.3)."""
    with open("/proc/self/maps") as f:
        maps = f.read()
    if "openblas" in maps:
        return "openblas"
    return "refblas" if "libblas" in maps else "noblas"


def imagenet_transform():
    import torchvision.transforms as T
    return T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
                      T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])])


def load_images(paths):
    """[N, 3, 224, 224]: the image files given, and those in the folders given."""
    from PIL import Image
    files = []
    for p in paths:
        if os.path.isdir(p):
            files += sorted(os.path.join(p, f) for f in os.listdir(p) if f.lower().endswith(IMAGE_EXT))
        else:
            files.append(p)
    if not files:
        sys.exit(f"torch_bench.py: no calibration images (.jpg, .jpeg, .png) in {' '.join(paths)}")
    prep = imagenet_transform()
    return torch.stack([prep(Image.open(f).convert("RGB")) for f in files])


def build_int8(name, weights, images):
    """Static post-training quantization on the onednn engine, calibrated on images."""
    torch.backends.quantized.engine = "onednn"
    model = load_weights(quantizable(name), weights)
    model.fuse_model()  # conv+bn(+relu) into one module, as the engine runs them
    model.qconfig = torch.ao.quantization.get_default_qconfig("onednn")
    torch.ao.quantization.prepare(model, inplace=True)
    with torch.no_grad():
        for chunk in images.split(8):
            model(chunk)
    return torch.ao.quantization.convert(model, inplace=True)


def autocast_bf16(**kw):
    return torch.autocast("cpu", dtype=torch.bfloat16, **kw)


def at_precision(precision, m):
    """m's forward function: for bf16 inside autocast, as a user writes it around each call."""
    if precision != "bf16":
        return m

    def forward(x):
        with autocast_bf16():
            return m(x)
    return forward


def agreement(precision, name, fp32, run, images):
    """To stderr: how far this precision's answers are from fp32's on the images."""
    with torch.inference_mode():
        p32 = torch.cat([torch.softmax(fp32(c), dim=1) for c in images.split(8)])
        p = torch.cat([torch.softmax(run(c).float(), dim=1) for c in images.split(8)])
    same = int((p32.argmax(1) == p.argmax(1)).sum())
    print(f"torch_bench.py: {precision} {name}: top-1 equal to fp32 on {same} of {len(images)} "
          f"calibration images, largest probability difference {float((p - p32).abs().max()):.4f}",
          file=sys.stderr)


def variant(precision, mode, model, x):
    """(forward function, its input) of one mode of the model at that precision."""
    m, xin = copy.deepcopy(model), x   # .to() converts a module in place
    if mode == "channels_last":
        m, xin = m.to(memory_format=torch.channels_last), x.to(memory_format=torch.channels_last)
    elif mode == "jit":
        with torch.no_grad():
            if precision == "bf16":
                # Traced on NHWC tensors: optimize_for_inference leaves the
                # autocast graph's convolutions in PyTorch's layout, where
                # oneDNN's bf16 kernels want NHWC (NCHW was 1.6x slower).
                # Autocast's weight-cast cache breaks tracing; the traced
                # graph holds the casts.
                m, xin = m.to(memory_format=torch.channels_last), x.to(memory_format=torch.channels_last)
                with autocast_bf16(cache_enabled=False):
                    m = torch.jit.optimize_for_inference(torch.jit.trace(m, xin, check_trace=False))
            else:
                m = torch.jit.optimize_for_inference(torch.jit.script(m))
    return at_precision(precision, m), xin


def cmd_bench(args):
    modes = args.modes.split(",")
    for mode in modes:
        if mode not in MODES:
            sys.exit(f"torch_bench.py: unknown mode {mode!r} ({', '.join(MODES)})")
    model = timed = build(args.model, args.weights)
    if args.precision != "fp32":
        images = load_images(args.calib)
        if args.precision == "int8":
            timed = build_int8(args.model, args.weights, images)
        agreement(args.precision, args.model, model, at_precision(args.precision, timed), images)
    x = torch.randn(args.batch, 3, args.size, args.size)
    blas = blas_name()
    for mode in modes:
        forward, xin = variant(args.precision, mode, timed, x)
        with torch.inference_mode():
            result = peer_timing.time_forward(lambda: forward(xin), args.runs)
        peer_timing.report(PEER[args.precision], f"{mode}+{blas}", args.model, args.batch, args.threads,
                           args.runs, result, precision=None if args.precision == "fp32" else args.precision)


def cmd_classify(args):
    from PIL import Image

    model = build(args.model, args.weights)
    x = imagenet_transform()(Image.open(args.image).convert("RGB")).unsqueeze(0)
    with torch.inference_mode():
        probs = torch.softmax(model(x), dim=1)[0].tolist()
    for i, p in peer_timing.top5(probs):
        print(f"{i}\t{p:.6f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bench")
    b.add_argument("--batch", type=int, default=1)
    b.add_argument("--runs", type=int, default=20)
    b.add_argument("--size", type=int, default=224)
    b.add_argument("--modes", default=",".join(MODES))
    b.add_argument("--precision", choices=sorted(PEER), default="fp32")
    b.add_argument("--calib", nargs="+", default=[CALIB_DEFAULT], metavar="IMAGE|DIR",
                   help="calibration images for int8 (bf16: only its agreement with fp32); "
                        f"default {CALIB_DEFAULT}")
    c = sub.add_parser("classify")
    c.add_argument("image")
    for p in (b, c):
        p.add_argument("--model", required=True)
        p.add_argument("--weights", required=True)
        p.add_argument("--threads", type=int, required=True)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    (cmd_bench if args.cmd == "bench" else cmd_classify)(args)


if __name__ == "__main__":
    main()
