#!/usr/bin/python3
"""make_models.py -- the one network every peer of compare.sh runs.

For each model, a torchvision ResNet with seeded random weights is saved twice
into the cache folder:

    NAME.safetensors   torchvision state_dict names, F32: read by `resnet`
                       and by the PyTorch peer
    NAME.onnx          the same network exported by torch.onnx.export, batch
                       as a dynamic axis: read by ONNX Runtime and OpenCV DNN

Random weights time exactly like trained ones; the BatchNorm statistics are
gathered from one train-mode pass over random images all the same, so the
activations stay in a normal range and the peers' top-1 classes of a photo
can be compared as a sanity check.  A model whose two files exist is kept.

    make_models.py --out bench/cache resnet18 resnet50
"""
import argparse
import json
import os
import struct
import sys

import torch
import torchvision

SEED = 20240229
SIZE = 224


def build(name):
    """torchvision's model with seeded weights and calibrated BN statistics."""
    torch.manual_seed(SEED)
    model = getattr(torchvision.models, name)(weights=None)
    # momentum None: the running statistics become the plain average of the
    # batches seen, here exactly the statistics of this one batch.
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None
    model.train()
    with torch.no_grad():
        model(torch.randn(4, 3, SIZE, SIZE))
    return model.eval()


def save_safetensors(state, path):
    """safetensors: u64 LE header length, JSON header, raw little-endian data."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for key, t in state.items():
        if key.endswith("num_batches_tracked"):
            continue  # a training counter, not a weight
        data = t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[key] = {"dtype": "F32", "shape": list(t.shape),
                       "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def save_onnx(model, path):
    tmp = path + ".tmp"
    torch.onnx.export(model, torch.randn(1, 3, SIZE, SIZE), tmp,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                      opset_version=13, do_constant_folding=True)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "cache"))
    ap.add_argument("models", nargs="+", choices=["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"])
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name in args.models:
        st = os.path.join(args.out, name + ".safetensors")
        onnx = os.path.join(args.out, name + ".onnx")
        if os.path.exists(st) and os.path.exists(onnx):
            continue
        print(f"make_models.py: writing {st} and {onnx}", file=sys.stderr)
        model = build(name)
        save_safetensors(model.state_dict(), st)
        save_onnx(model, onnx)


if __name__ == "__main__":
    main()
