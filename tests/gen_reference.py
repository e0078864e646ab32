#!/usr/bin/python3
"""gen_reference.py -- golden references for tests/test_parity.c.

Builds ResNets in PyTorch with random weights, gives their BatchNorm layers
realistic running statistics by running random batches in train() mode, and
writes each network as one case directory the C side can read without Python:

    spec.json                  the architecture, in the spec format of src/spec.h
    labels.txt                 class names (only where the spec names it)
    weights.safetensors        torchvision state_dict names, F32 (+ I64 counters)
    expected.safetensors       per test image: input.<file> [3, H, W] F32, the
                               preprocessed tensor, and probs.<file> [classes]
                               F32, the softmax of the network on that input
    weights.<dt>.safetensors   the same weights stored as F16 / BF16, and
    expected.<dt>.safetensors  probs.<file> of the network whose weights were
                               rounded to that dtype (inputs are unchanged)

The test images are every .jpg / .jpeg / .png in tests/images/parity/.

    gen_reference.py           the small fixtures, into tests/fixtures/ (committed)
    gen_reference.py --full    also torchvision's resnet18/34/50 at 224x224 and two
                               CIFAR nets, into --out (default tests/cache); a case
                               made by this same script is kept, not remade

Everything is computed in float64 and stored in float32, so the files do not
depend on the CPU's summation order: the fixtures reproduce byte for byte.
(The full-size cases gather their batch statistics in float32 for speed;
they are a local cache and never committed.)

Random networks give near-uniform probabilities, where the top-5 order rests
on differences far below float32 noise.  So the fc layer is scaled until the
logits are spread out, and the generator asserts that, for every image and
every stored dtype, the six largest logits are at least MIN_GAP apart.
"""
import argparse
import copy
import hashlib
import json
import os
import struct
import sys
import time

import torch
import torch.nn as nn
import torchvision
import torchvision.transforms.functional as TF
from torchvision.models.resnet import BasicBlock, Bottleneck

from pil_reference import pil_tensor

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGES = os.path.join(HERE, "images", "parity")
FIXTURES = os.path.join(HERE, "fixtures")

MIN_GAP = 1e-3        # between consecutive logits among the top 6 of every image
LOGIT_SPREAD = 3.0    # target std of the logits over the classes, per image
FC_TRIES = 32         # fresh fc draws before giving up on MIN_GAP

IMAGENET_PRE = {"resize": 256, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
CIFAR_PRE = {"resize": 32, "mean": [0.4914, 0.4822, 0.4465], "std": [0.2470, 0.2435, 0.2616]}
CIFAR_LABELS = ["airplane", "automobile", "bird", "cat", "deer",
                "dog", "frog", "horse", "ship", "truck"]
# Stored weight dtypes beside F32: file suffix -> (torch dtype, safetensors name).
LOW_DTYPES = {"f16": torch.float16, "bf16": torch.bfloat16}


# --------------------------------------------------------------------------
# safetensors, written by hand: u64 LE header length, JSON header, raw LE data

ST_DTYPE = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
            torch.float64: "F64", torch.int64: "I64"}


def tensor_bytes(t):
    """Raw little-endian bytes of a CPU tensor."""
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:          # numpy has no bfloat16: its bits as u16
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    np_le = {torch.float32: "<f4", torch.float16: "<f2", torch.float64: "<f8",
             torch.int64: "<i8"}[t.dtype]
    return t.numpy().astype(np_le).tobytes()


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, tensor), stored in that order."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors:
        raw = tensor_bytes(t)
        header[name] = {"dtype": ST_DTYPE[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)        # data starts 8-byte aligned, as safetensors pads
    write_file(path, struct.pack("<Q", len(text)) + text + b"".join(blobs))


def write_file(path, data):
    """Atomically; a file that already holds these bytes is left untouched, so
    regenerating the committed fixtures changes nothing, not even mtimes."""
    if isinstance(data, str):
        data = data.encode()
    if os.path.exists(path) and os.path.getsize(path) == len(data):
        with open(path, "rb") as f:
            if f.read() == data:
                return
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


# --------------------------------------------------------------------------
# networks

class RefResNet(nn.Module):
    """torchvision's ResNet layout and state_dict names, for any number of
    stages, either stem and any widths: stage 0 stride 1, later stages stride
    2 in their first block, a 1x1 projection whenever the shape changes."""

    def __init__(self, block, stages, widths, stem, stem_width, classes):
        super().__init__()
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(3, stem_width, 7, stride=2, padding=3, bias=False)
        else:
            self.conv1 = nn.Conv2d(3, stem_width, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(stem_width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1) if stem == "imagenet" else nn.Identity()
        self.n_stages = len(stages)
        inplanes = stem_width
        for i, (n_blocks, width) in enumerate(zip(stages, widths)):
            out = width * block.expansion
            blocks = []
            for b in range(n_blocks):
                stride = 2 if i > 0 and b == 0 else 1
                down = None
                if stride != 1 or inplanes != out:
                    down = nn.Sequential(
                        nn.Conv2d(inplanes, out, 1, stride=stride, bias=False),
                        nn.BatchNorm2d(out))
                blocks.append(block(inplanes, width, stride, down))
                inplanes = out
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(inplanes, classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(self.n_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


def ref_net(block, stages, widths, stem, classes, stem_width=None):
    return lambda: RefResNet(block, stages, widths, stem, stem_width or widths[0], classes)


class Case:
    def __init__(self, name, make, spec, seed, full=False, labels=None, low_dtypes=(),
                 stat_batches=3, stat_batch_size=8):
        self.name, self.make, self.spec, self.seed = name, make, spec, seed
        self.full, self.labels, self.low_dtypes = full, labels, low_dtypes
        self.stat_batches, self.stat_batch_size = stat_batches, stat_batch_size
        self.in_h, self.in_w = spec["input"][0], spec["input"][1]


def spec(name, classes, input_hw, pre, stem, **arch):
    s = {"name": name, "version": 1}
    s.update(arch)
    s.update({"stem": stem, "classes": classes, "input": [input_hw[0], input_hw[1], 3],
              "preprocess": pre})
    return s


# Small, odd shapes on purpose: channel counts that are no multiple of a SIMD
# width, non-square inputs, a stem wider or narrower than stage 0, 7 classes.
SMALL_PRE = {"resize": 72, "mean": [0.5, 0.45, 0.4], "std": [0.25, 0.2, 0.3]}
CASES = [
    Case("basic_small",
         ref_net(BasicBlock, [2, 1, 1, 1], [8, 16, 24, 32], "imagenet", 10),
         spec("basic-small", 10, (64, 64), SMALL_PRE, "imagenet", block="basic",
              stages=[2, 1, 1, 1], widths=[8, 16, 24, 32], labels="labels.txt"),
         seed=101, labels=[f"thing {c}" for c in "abcdefghij"], low_dtypes=("f16", "bf16")),
    Case("bottleneck_small",
         ref_net(Bottleneck, [1, 2, 1, 1], [4, 8, 16, 32], "imagenet", 7, stem_width=12),
         spec("bottleneck-small", 7, (56, 48), SMALL_PRE, "imagenet", block="bottleneck",
              stages=[1, 2, 1, 1], widths=[4, 8, 16, 32], stem_width=12),
         seed=102),
    Case("cifar_tiny",
         ref_net(BasicBlock, [1, 1, 1], [6, 12, 20], "cifar", 10, stem_width=5),
         spec("cifar-tiny", 10, (24, 32), CIFAR_PRE, "cifar", block="basic",
              stages=[1, 1, 1], widths=[6, 12, 20], stem_width=5),
         seed=103),
    Case("resnet18", lambda: torchvision.models.resnet18(weights=None),
         spec("resnet18", 1000, (224, 224), IMAGENET_PRE, "imagenet", depth=18),
         seed=18, full=True, stat_batches=2, stat_batch_size=4),
    Case("resnet34", lambda: torchvision.models.resnet34(weights=None),
         spec("resnet34", 1000, (224, 224), IMAGENET_PRE, "imagenet", depth=34),
         seed=34, full=True, stat_batches=2, stat_batch_size=4),
    Case("resnet50", lambda: torchvision.models.resnet50(weights=None),
         spec("resnet50", 1000, (224, 224), IMAGENET_PRE, "imagenet", depth=50),
         seed=50, full=True, stat_batches=2, stat_batch_size=4),
    Case("cifar_resnet20",
         ref_net(BasicBlock, [3, 3, 3], [16, 32, 64], "cifar", 10),
         spec("cifar-resnet20", 10, (32, 32), CIFAR_PRE, "cifar", depth=20,
              widths=[16, 32, 64], labels="labels.txt"),
         seed=20, full=True, labels=CIFAR_LABELS),
    Case("cifar_resnet29_bottleneck",
         ref_net(Bottleneck, [3, 3, 3], [16, 32, 64], "cifar", 10),
         spec("cifar-resnet29-bottleneck", 10, (32, 32), CIFAR_PRE, "cifar", depth=29,
              block="bottleneck", widths=[16, 32, 64], labels="labels.txt"),
         seed=29, full=True, labels=CIFAR_LABELS),
]


# --------------------------------------------------------------------------
# the reference pipeline

def preprocess(path, pre, h, w):
    """torchvision's recipe on the PIL image (pil_reference.py): [3, h, w] float64."""
    return pil_tensor(path, pre, h, w).double()


def randomize_bn(model, gen):
    """BN's gamma = 1, beta = 0 at init would hide a swapped or ignored pair."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data.uniform_(0.5, 1.5, generator=gen)
            m.bias.data.normal_(0.0, 0.2, generator=gen)
            m.momentum = None          # running stats = plain average over the batches


def gather_stats(model, case, gen, dtype):
    model.to(dtype).train()
    with torch.no_grad():
        for _ in range(case.stat_batches):
            x = torch.randn(case.stat_batch_size, 3, case.in_h, case.in_w, generator=gen,
                            dtype=torch.float64)
            model(x.to(dtype))


def round_model(model, dtype):
    """Round every float parameter and buffer to dtype, then compute in float64."""
    for t in list(model.parameters()) + list(model.buffers()):
        if t.is_floating_point():
            t.data = t.data.to(dtype).double()
    return model


def features(model, x):
    """The fc layer's input: [N, D]."""
    got = []
    hook = model.fc.register_forward_hook(lambda m, inp, out: got.append(inp[0]))
    with torch.no_grad():
        model(x)
    hook.remove()
    return got[0]


def top6_gap(logits):
    """Smallest difference between consecutive logits among the top 6, over all rows."""
    top = torch.sort(logits, dim=1, descending=True).values[:, :6]
    return float((top[:, :-1] - top[:, 1:]).min())


def fit_fc(model, feats, case, gen):
    """Scale (and if need be redraw) fc so that logits are spread out and the
    top 6 are well apart in every stored dtype.  feats: dtype -> fc input."""
    fc = model.fc
    for attempt in range(FC_TRIES):
        if attempt:
            bound = 1.0 / fc.in_features ** 0.5
            fc.weight.data.uniform_(-bound, bound, generator=gen)
            fc.bias.data.uniform_(-bound, bound, generator=gen)
        w, b = fc.weight.data.double(), fc.bias.data.double()
        spread = float((feats[torch.float32] @ w.T + b).std(dim=1).mean())
        w = (w * (LOGIT_SPREAD / spread)).float().double()
        b = (b * (LOGIT_SPREAD / spread)).float().double()
        gaps = [top6_gap(f @ w.to(dt).double().T + b.to(dt).double())
                for dt, f in feats.items()]
        if min(gaps) > MIN_GAP:
            fc.weight.data, fc.bias.data = w, b
            return
    raise AssertionError(f"{case.name}: no fc draw gives top-6 logit gaps > {MIN_GAP}")


def expected_probs(model, dt, feats, case, names):
    """probs.<image> of the network with its weights rounded to dt; the body
    ran once in features(), the fc layer (rounded the same way) runs here."""
    fc = round_model(copy.deepcopy(model.fc), dt)
    with torch.no_grad():
        logits = fc(feats)
    gap = top6_gap(logits)
    assert gap > MIN_GAP, f"{case.name} {dt}: top-6 logit gap {gap:.2e} <= {MIN_GAP}"
    probs = torch.softmax(logits, dim=1)
    return [(f"probs.{n}", probs[i].float()) for i, n in enumerate(names)], probs


def state_tensors(model, dt):
    out = []
    for name, t in model.state_dict().items():
        out.append((name, t.to(dt) if t.is_floating_point() else t))
    return out


def spec_text(s):
    """One key per line, values compact: the way a person writes a spec."""
    lines = [f"  {json.dumps(k)}: {json.dumps(v, separators=(', ', ': '))}" for k, v in s.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def make_case(case, out_dir, images):
    torch.manual_seed(case.seed)
    gen = torch.Generator().manual_seed(case.seed)
    model = case.make()
    randomize_bn(model, gen)
    gather_stats(model, case, gen, torch.float32 if case.full else torch.float64)
    round_model(model, torch.float32)      # what the F32 file will hold
    model.eval()

    names = [os.path.basename(p) for p in images]
    x = torch.stack([preprocess(p, case.spec["preprocess"], case.in_h, case.in_w)
                     for p in images])
    feats = {}
    for dt in [torch.float32] + [LOW_DTYPES[k] for k in case.low_dtypes]:
        feats[dt] = features(round_model(copy.deepcopy(model), dt).eval(), x)
    fit_fc(model, feats, case, gen)

    os.makedirs(out_dir, exist_ok=True)
    write_file(os.path.join(out_dir, "spec.json"), spec_text(case.spec))
    if case.labels:
        write_file(os.path.join(out_dir, case.spec["labels"]), "\n".join(case.labels) + "\n")
    meta = {"format": "pt", "generator": "tests/gen_reference.py"}

    write_safetensors(os.path.join(out_dir, "weights.safetensors"),
                      state_tensors(model, torch.float32), meta)
    probs, p = expected_probs(model, torch.float32, feats[torch.float32], case, names)
    inputs = [(f"input.{n}", x[i].float()) for i, n in enumerate(names)]
    write_safetensors(os.path.join(out_dir, "expected.safetensors"), inputs + probs, meta)
    top1 = p.max(dim=1).values

    for key in case.low_dtypes:
        dt = LOW_DTYPES[key]
        write_safetensors(os.path.join(out_dir, f"weights.{key}.safetensors"),
                          state_tensors(model, dt), meta)
        probs, _ = expected_probs(model, dt, feats[dt], case, names)
        write_safetensors(os.path.join(out_dir, f"expected.{key}.safetensors"), probs, meta)
    return f"top-1 probability {float(top1.min()):.2f}..{float(top1.max()):.2f}"


def case_files(case):
    files = ["spec.json", "weights.safetensors", "expected.safetensors"]
    files += [f"{k}.{d}.safetensors" for d in case.low_dtypes for k in ("weights", "expected")]
    if case.labels:
        files.append(case.spec["labels"])
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--full", action="store_true",
                    help="also the full-size networks (into --out)")
    ap.add_argument("--out", default=os.path.join(HERE, "cache"),
                    help="directory of the full-size cases (default tests/cache)")
    args = ap.parse_args()

    torch.set_num_threads(2)
    version = hashlib.sha256()   # this script and its reference pipeline
    for name in (os.path.abspath(__file__), os.path.join(HERE, "pil_reference.py")):
        with open(name, "rb") as f:
            version.update(f.read())
    version = version.hexdigest()
    images = sorted(os.path.join(IMAGES, f) for f in os.listdir(IMAGES)
                    if f.lower().endswith((".jpg", ".jpeg", ".png")))
    if len(images) < 4:
        sys.exit(f"gen_reference: expected at least 4 images in {IMAGES}")

    for case in CASES:
        if case.full and not args.full:
            continue
        out_dir = os.path.join(args.out if case.full else FIXTURES, case.name)
        stamp = os.path.join(out_dir, "generator.sha256")
        if case.full:
            have = all(os.path.exists(os.path.join(out_dir, f)) for f in case_files(case))
            if have and os.path.exists(stamp) and open(stamp).read().strip() == version:
                print(f"{case.name}: up to date in {out_dir}")
                continue
            if os.path.exists(stamp):
                os.remove(stamp)
        t0 = time.time()
        note = make_case(case, out_dir, images)
        if case.full:                      # written last: a half-made case is remade
            write_file(stamp, version + "\n")
        print(f"{case.name}: {len(images)} images, {note}, {time.time() - t0:.1f} s -> {out_dir}")


if __name__ == "__main__":
    main()
