#!/usr/bin/python3
"""torch_bench.py -- the PyTorch peer of compare.sh (Debian's python3-torch).

    torch_bench.py bench --model resnet18 --weights W.safetensors --batch 1 \\
                         --threads 2 --runs 20 [--modes eager,channels_last,jit]
        one JSON line per mode (peer_timing.report): eager is the model as
        written, channels_last the same on NHWC tensors, jit
        torch.jit.optimize_for_inference(torch.jit.script(model)) (frozen,
        convolutions handed to oneDNN).  The variant also names the BLAS
        the process loaded, as compare.sh runs it with either.

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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_timing  # noqa: E402


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


def build(name, weights):
    model = getattr(torchvision.models, name)(weights=None)
    model.load_state_dict(load_safetensors(weights), strict=False)
    return model.eval()


def blas_name():
    """The BLAS library this process loaded (torch links libblas.so.3)."""
    with open("/proc/self/maps") as f:
        maps = f.read()
    if "openblas" in maps:
        return "openblas"
    return "refblas" if "libblas" in maps else "noblas"


def cmd_bench(args):
    model = build(args.model, args.weights)
    x = torch.randn(args.batch, 3, args.size, args.size)
    blas = blas_name()
    for mode in args.modes.split(","):
        m, xin = copy.deepcopy(model), x   # .to() converts a module in place
        if mode == "channels_last":
            m, xin = m.to(memory_format=torch.channels_last), x.to(memory_format=torch.channels_last)
        elif mode == "jit":
            with torch.no_grad():
                m = torch.jit.optimize_for_inference(torch.jit.script(m))
        elif mode != "eager":
            sys.exit(f"torch_bench.py: unknown mode {mode!r} (eager, channels_last, jit)")
        with torch.inference_mode():
            result = peer_timing.time_forward(lambda: m(xin), args.runs)
        peer_timing.report("pytorch", f"{mode}+{blas}", args.model, args.batch, args.threads, args.runs, result)


def cmd_classify(args):
    from PIL import Image
    import torchvision.transforms as T

    model = build(args.model, args.weights)
    prep = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
                      T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])])
    x = prep(Image.open(args.image).convert("RGB")).unsqueeze(0)
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
    b.add_argument("--modes", default="eager,channels_last,jit")
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
