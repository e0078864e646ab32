#!/usr/bin/python3
"""gen_keras_reference.py -- golden references for tests/test_keras_parity.c.

The Keras-side networks (Keras Applications' ResNet v1 and v2, the Keras
tutorials' ResNet-50, ResNet-34 and CIFAR ResNet v2, Keras's own CIFAR
ResNet v2 example), timm's pre-activation ResNetV2 and He et al. 2016's
pre-activation CIFAR net, with random weights,
written the way their own code would write them, plus what they compute on
the photos of tests/images/parity/.  One case directory each:

    spec.json             the network in the spec format of src/spec.h
                          (small cases only: a full-size case is checked
                          against the built-in spec its directory is named for)
    weights.h5            Keras's save_weights() layout, written with h5py:
                          root attribute layer_names (every layer, in Keras's
                          model.layers order), per layer a group with attribute
                          weight_names ("conv1_conv/kernel:0", ...), one
                          dataset per weight; kernels HWIO, Dense [in, out]
      or weights.safetensors  timm's state_dict names, F32, num_batches_tracked
                          I64 (timm layout)
    expected.safetensors  per image: input.<file> [3, H, W] F32, the network's
                          input as its own preprocessing makes it (Keras's
                          load_img + preprocess_input, or torchvision's), in
                          the network's channel order; probs.<file> [classes]
                          F32, the softmax the network gives on that input
    generator.sha256      (full-size cases) what made them; written last

    gen_keras_reference.py         the small cases, into tests/fixtures/keras/
                                   (committed); the narrowed copies of built-in
                                   specs differ from models/NAME.json only in
                                   the keys builtin_spec() is given
    gen_keras_reference.py --full  the built-in keras_resnet50, keras_resnet50v2
                                   and timm_resnetv2_50 at 224x224 with 1000
                                   classes, tutorial_resnetv2_cifar and
                                   keras_example_resnetv2_cifar (ResNet-56 v2,
                                   32x32), into --out/keras/ (default
                                   tests/cache); a case made by this same
                                   script (and the two it imports from) is
                                   kept, not remade

How the networks are built.  The Keras ones come from Keras code run against
`tkeras` below, a stand-in for the Keras layer API that records the graph
and runs it in PyTorch with Keras's semantics: TensorFlow's 'same' padding
(the odd row at the bottom/right), zero-padded pools after ZeroPadding2D,
'same' pools that ignore padded cells, Flatten over NHWC, and tf.keras's
names for unnamed layers.  Keras Applications' networks are its own
resnet_common.py (Debian's python3-keras-applications): ResNet50 and
ResNet50V2 themselves for the full-size cases, ResNet() with a smaller
stack_fn for the small ones; the tutorials' networks are written out below
as their code builds them (the CIFAR v2 ones in golden/make_golden.py, which
builds them on its own stand-in for the summary tables).  timm's is a PyTorch module with timm's module
names (timm/models/resnetv2.py: PreActBottleneck, DownsampleConv,
BatchNormAct2d, a 1x1-conv head); with a 3x3/1 stem conv it is the
pre-activation CIFAR net of He et al. 2016 under timm's names.

BatchNorm statistics are those of a random batch at each BN's input (Keras)
or of random batches in train() mode (timm), so the activations stay in
range, and the classifier is scaled until the six largest logits of every
image are at least MIN_GAP apart, so that the top-5 order is well defined
(asserted).  The references are computed in float64 from float32 weights;
the small files reproduce byte for byte.  (The full-size cases gather their
BN statistics in float32 for speed; they are a local cache, never committed.)

    /usr/bin/python3 tests/gen_keras_reference.py [--full [--out DIR]]
"""
import argparse
import hashlib
import json
import math
import os
import sys
import time

import h5py
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "golden"))
sys.path.insert(0, HERE)
from make_golden import TUTORIAL_V2, cifar_resnet_v2, keras_order, snake   # noqa: E402
from gen_reference import CIFAR_PRE, write_file, write_safetensors   # noqa: E402
from pil_reference import pil_tensor                                  # noqa: E402

OUT = os.path.join(HERE, "fixtures", "keras")
MODELS = os.path.join(os.path.dirname(HERE), "models")
IMAGES = os.path.join(HERE, "images", "parity")
PHOTOS = ["chelsea.jpg", "coffee.png"]   # a JPEG and a PNG, both shrunk
MIN_GAP = 1e-3
LOGIT_SPREAD = 3.0


# --------------------------------------------------------------------------
# tkeras: Keras layers that record a graph and run it in PyTorch


def pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def same_pads(n, k, s):
    """TensorFlow's 'same': (before, after), the odd one after."""
    out = (n + s - 1) // s
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


class T:
    """A symbolic tensor: the layer that makes it and its per-image shape."""

    def __init__(self, layer, shape):
        self.layer, self.shape = layer, shape


class L:
    cls = "Layer"
    weight_names = ()

    def __init__(self, k, name=None, **ignored):
        self.k = k
        keep = name is not None and k.keep_names
        self.name = name if keep else k.auto_name(snake(self.cls))
        self.inputs, self.weights = [], {}

    def __call__(self, x):
        xs = x if isinstance(x, list) else [x]
        self.inputs = [t.layer.name for t in xs]
        self.srcs = [t.layer for t in xs]
        self.shape = self.infer(*[t.shape for t in xs])
        self.k.graph.append(self)
        return T(self, self.shape)

    def infer(self, s):
        return s


class ZeroPadding2D(L):
    cls = "ZeroPadding2D"

    def __init__(self, k, padding=(1, 1), **kw):
        super().__init__(k, **kw)
        p = padding
        self.pad = ((p, p), (p, p)) if isinstance(p, int) else \
            ((p[0], p[0]), (p[1], p[1])) if isinstance(p[0], int) else p

    def infer(self, s):
        return (s[0] + sum(self.pad[0]), s[1] + sum(self.pad[1]), s[2])

    def run(self, x):
        (t, b), (l, r) = self.pad
        return F.pad(x, (l, r, t, b))


class Conv2D(L):
    cls = "Conv2D"

    def __init__(self, k, filters, kernel_size, strides=1, padding="valid", use_bias=True,
                 **kw):
        super().__init__(k, **kw)
        self.filters, self.ks, self.st = filters, pair(kernel_size), pair(strides)
        self.padding, self.use_bias = padding.lower(), use_bias
        self.weight_names = ("kernel", "bias") if use_bias else ("kernel",)

    def infer(self, s):
        self.in_c = s[2]
        if self.padding == "same":
            return ((s[0] + self.st[0] - 1) // self.st[0], (s[1] + self.st[1] - 1) // self.st[1],
                    self.filters)
        return ((s[0] - self.ks[0]) // self.st[0] + 1, (s[1] - self.ks[1]) // self.st[1] + 1,
                self.filters)

    def run(self, x):
        if self.padding == "same":
            t, b = same_pads(x.shape[2], self.ks[0], self.st[0])
            l, r = same_pads(x.shape[3], self.ks[1], self.st[1])
            x = F.pad(x, (l, r, t, b))
        w = torch.from_numpy(self.weights["kernel"]).to(x.dtype).permute(3, 2, 0, 1)  # HWIO->OIHW
        b = torch.from_numpy(self.weights["bias"]).to(x.dtype) if self.use_bias else None
        return F.conv2d(x, w, b, stride=self.st)

    def init(self, rng):
        fan_in = self.ks[0] * self.ks[1] * self.in_c
        self.weights["kernel"] = rng.normal(0, np.sqrt(2.0 / fan_in),
                                            self.ks + (self.in_c, self.filters))
        if self.use_bias:
            self.weights["bias"] = rng.normal(0, 0.1, self.filters)


class BatchNormalization(L):
    cls = "BatchNormalization"
    weight_names = ("gamma", "beta", "moving_mean", "moving_variance")

    def __init__(self, k, axis=-1, epsilon=1e-3, **kw):
        super().__init__(k, **kw)
        self.eps = epsilon

    def run(self, x):
        w = {n: torch.from_numpy(v).to(x.dtype) for n, v in self.weights.items()}
        shape = (1, -1, 1, 1) if x.dim() == 4 else (1, -1)
        return ((x - w["moving_mean"].view(shape)) / torch.sqrt(w["moving_variance"].view(shape) +
                                                               self.eps)
                * w["gamma"].view(shape) + w["beta"].view(shape))

    def calibrate(self, x, rng):
        """Statistics of the batch at its input, a little off, as a trained net's."""
        dims = (0, 2, 3) if x.dim() == 4 else (0,)
        c = x.shape[1]
        self.weights = {
            "gamma": rng.uniform(0.5, 1.5, c),
            "beta": rng.normal(0, 0.2, c),
            "moving_mean": x.mean(dims).double().numpy() + rng.normal(0, 0.05, c),
            "moving_variance": x.var(dims).double().numpy() * rng.uniform(0.8, 1.25, c) + 1e-3,
        }


class Activation(L):
    cls = "Activation"

    def __init__(self, k, activation, **kw):
        super().__init__(k, **kw)
        self.act = activation

    def run(self, x):
        return torch.relu(x) if self.act == "relu" else torch.softmax(x, 1)


class Pooling2D(L):
    def __init__(self, k, pool_size=(2, 2), strides=None, padding="valid", **kw):
        super().__init__(k, **kw)
        self.ks = pair(pool_size)
        self.st = pair(strides) if strides is not None else self.ks
        self.padding = padding.lower()

    def infer(self, s):
        if self.padding == "same":
            return ((s[0] + self.st[0] - 1) // self.st[0], (s[1] + self.st[1] - 1) // self.st[1],
                    s[2])
        return ((s[0] - self.ks[0]) // self.st[0] + 1, (s[1] - self.ks[1]) // self.st[1] + 1, s[2])

    def pads(self, x):
        if self.padding != "same":
            return (0, 0, 0, 0)
        t, b = same_pads(x.shape[2], self.ks[0], self.st[0])
        l, r = same_pads(x.shape[3], self.ks[1], self.st[1])
        return (l, r, t, b)


class MaxPooling2D(Pooling2D):
    cls = "MaxPooling2D"

    def run(self, x):
        # TensorFlow's padded cells never win
        x = F.pad(x, self.pads(x), value=-float("inf"))
        return F.max_pool2d(x, self.ks, self.st)


class AveragePooling2D(Pooling2D):
    cls = "AveragePooling2D"

    def run(self, x):
        # TensorFlow leaves padded cells out of the mean
        p = self.pads(x)
        total = F.avg_pool2d(F.pad(x, p), self.ks, self.st, divisor_override=1)
        count = F.avg_pool2d(F.pad(torch.ones_like(x[:1, :1]), p), self.ks, self.st,
                             divisor_override=1)
        return total / count


class Add(L):
    cls = "Add"

    def infer(self, a, b):
        assert a == b, (self.name, a, b)
        return a


class GlobalAveragePooling2D(L):
    cls = "GlobalAveragePooling2D"

    def infer(self, s):
        return (s[2],)

    def run(self, x):
        return x.mean((2, 3))


class Flatten(L):
    cls = "Flatten"

    def infer(self, s):
        return (s[0] * s[1] * s[2],)

    def run(self, x):
        return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)     # Keras is NHWC


class Dense(L):
    cls = "Dense"
    weight_names = ("kernel", "bias")

    def __init__(self, k, units, activation=None, **kw):
        super().__init__(k, **kw)
        self.units, self.act = units, activation

    def infer(self, s):
        self.in_c = s[0]
        return (self.units,)

    def run(self, x, logits=False):
        y = x @ torch.from_numpy(self.weights["kernel"]).to(x.dtype) + \
            torch.from_numpy(self.weights["bias"]).to(x.dtype)
        if logits or self.act is None:
            return y
        return torch.relu(y) if self.act == "relu" else torch.softmax(y, 1)

    def init(self, rng):
        self.weights["kernel"] = rng.normal(0, np.sqrt(2.0 / self.in_c), (self.in_c, self.units))
        self.weights["bias"] = rng.normal(0, 0.1, self.units)


class Dropout(L):
    cls = "Dropout"

    def __init__(self, k, rate, **kw):
        super().__init__(k, **kw)

    def run(self, x):
        return x


class InputLayer(L):
    cls = "InputLayer"


class TKeras:
    """The `backend`, `layers`, `models` and `utils` a Keras model's code
    calls, for one model.  keep_names=False drops every name the code
    gives, as a tutorial that never names its layers."""

    def __init__(self, keep_names=True):
        self.graph, self.uids, self.keep_names = [], {}, keep_names
        self.backend = type("backend", (), {
            "image_data_format": staticmethod(lambda: "channels_last"),
            "is_keras_tensor": staticmethod(lambda x: isinstance(x, T))})
        classes = [ZeroPadding2D, Conv2D, BatchNormalization, Activation, MaxPooling2D,
                   AveragePooling2D, Add, GlobalAveragePooling2D, Flatten, Dense, Dropout]
        self.layers = type("layers", (), {})()
        for c in classes:
            setattr(self.layers, c.__name__, self.bind(c))
        self.layers.MaxPool2D = self.bind(MaxPooling2D)
        self.layers.Input = self.input
        self.layers.add = lambda xs: Add(self)(xs)
        self.models = type("models", (), {})()
        self.models.Model = self.model
        self.utils = type("utils", (), {})()

    def bind(self, cls):
        return lambda *a, **kw: cls(self, *a, **kw)

    def auto_name(self, stem):
        n = self.uids.get(stem, 0)
        self.uids[stem] = n + 1
        return stem if n == 0 else "%s_%d" % (stem, n)

    def input(self, shape=None, **ignored):
        layer = InputLayer(self, name="input_1")
        layer.name = "input_1"                 # Keras's Input counts from 1, named or not
        layer.shape, layer.inputs, layer.srcs = tuple(shape), [], []
        self.graph.append(layer)
        return T(layer, layer.shape)

    def model(self, inputs, outputs, name="model"):
        self.name, self.output = name, outputs.layer
        return self

    def kwargs(self):
        return dict(backend=self.backend, layers=self.layers, models=self.models,
                    utils=self.utils)

    def run(self, x, rng=None, upto=None):
        """x: [N, 3, H, W], float64 (or float32 to gather BN statistics
        faster); the layers compute in x's dtype.  With rng, initialise the
        weights on the way (BN statistics from this batch).  `upto` stops
        before that layer and returns its input."""
        vals = {}
        for layer in self.graph:
            if isinstance(layer, InputLayer):
                vals[layer.name] = x
                continue
            args = [vals[s.name] for s in layer.srcs]
            if layer is upto:
                return args[0]
            if rng is not None:
                if isinstance(layer, BatchNormalization):
                    layer.calibrate(args[0], rng)
                elif hasattr(layer, "init"):
                    layer.init(rng)
                layer.weights = {n: v.astype(np.float32) for n, v in layer.weights.items()}
            vals[layer.name] = args[0] + args[1] if isinstance(layer, Add) else layer.run(*args)
        return vals[self.output.name]


# --------------------------------------------------------------------------
# the networks


def keras_applications(preact, stack_fn, h, w, classes, keep_names=True):
    """Keras Applications' ResNet() with its own stem, blocks and top."""
    from keras_applications import resnet_common
    k = TKeras(keep_names)
    resnet_common.ResNet(lambda x: stack_fn(resnet_common, x), preact, True,
                         "resnet_small", include_top=True, weights=None, input_shape=(h, w, 3),
                         classes=classes, **k.kwargs())
    return k


def keras_full(fn_name):
    """Keras Applications' ResNet50 / ResNet50V2 as its own function builds
    it: 224x224, 1000 classes."""
    from keras_applications import resnet_common
    k = TKeras()
    getattr(resnet_common, fn_name)(weights=None, **k.kwargs())
    return k


def keras_v1_small():
    def stacks(rc, x):
        x = rc.stack1(x, 4, 2, stride1=1, name="conv2")
        x = rc.stack1(x, 8, 1, name="conv3")
        return rc.stack1(x, 12, 1, name="conv4")
    return keras_applications(False, stacks, 40, 32, 7)


def keras_v2_small():
    def stacks(rc, x):
        x = rc.stack2(x, 4, 2, name="conv2")
        x = rc.stack2(x, 8, 2, name="conv3")
        return rc.stack2(x, 12, 2, stride1=1, name="conv4")
    return keras_applications(True, stacks, 40, 32, 7)


def tutorial_resnet50_small():
    """The conv1 + residual_stack tutorial: Keras Applications' v1 stem,
    block1 and stack1 with no layer named (tf.keras's auto names) and
    Model() unnamed; four stages as ResNet-50's, one or two narrow blocks."""
    def stacks(rc, x):
        x = rc.stack1(x, 4, 2, stride1=1, name="conv2")
        x = rc.stack1(x, 8, 1, name="conv3")
        x = rc.stack1(x, 12, 1, name="conv4")
        return rc.stack1(x, 16, 1, name="conv5")
    return keras_applications(False, stacks, 40, 48, 10, keep_names=False)


def tutorial_resnet34_small():
    """The CIFAR-10 tutorial's identity_block / convolutional_block network,
    one block per stage and narrow."""
    k = TKeras()
    Ly = k.layers

    def identity_block(x, f):
        skip = x
        x = Ly.Activation("relu")(Ly.BatchNormalization(axis=3)(
            Ly.Conv2D(f, (3, 3), padding="same")(x)))
        x = Ly.BatchNormalization(axis=3)(Ly.Conv2D(f, (3, 3), padding="same")(x))
        return Ly.Activation("relu")(Ly.Add()([x, skip]))

    def convolutional_block(x, f):
        skip = x
        x = Ly.Activation("relu")(Ly.BatchNormalization(axis=3)(
            Ly.Conv2D(f, (3, 3), padding="same", strides=(2, 2))(x)))
        x = Ly.BatchNormalization(axis=3)(Ly.Conv2D(f, (3, 3), padding="same")(x))
        skip = Ly.Conv2D(f, (1, 1), strides=(2, 2))(skip)
        return Ly.Activation("relu")(Ly.Add()([x, skip]))

    inputs = Ly.Input((32, 32, 3))
    x = Ly.ZeroPadding2D((3, 3))(inputs)
    x = Ly.Conv2D(6, kernel_size=7, strides=2, padding="same")(x)
    x = Ly.Activation("relu")(Ly.BatchNormalization()(x))
    x = Ly.MaxPool2D(pool_size=3, strides=2, padding="same")(x)
    x = identity_block(x, 6)
    x = convolutional_block(x, 8)
    x = convolutional_block(x, 12)
    x = Ly.AveragePooling2D((2, 2), padding="same")(x)       # 3x3 -> 2x2: a padded window
    x = Ly.Flatten()(x)
    x = Ly.Dense(16, activation="relu")(x)
    x = Ly.Dense(10, activation="softmax")(x)
    k.models.Model(inputs=inputs, outputs=x, name="ResNet34")
    return k


def keras_cifar_v2_small():
    """cifar10_resnet.py's resnet_v2 at depth 11 (one unit a stage), 2
    filters in, with a Dense(16, relu)-BN-Dropout(0.5) head before the
    classifier, from a spec written out here: the spec keys of such a net,
    apart from a built-in's."""
    return cifar_resnet_v2(TKeras(), 11, filters_in=2, head=(16, 0.5))


# timm's ResNetV2, with timm's module names, for state_dict keys

class BatchNormAct2d(nn.BatchNorm2d):
    """timm's BatchNormAct2d: BN then ReLU, a BN's parameter names."""

    def forward(self, x):
        return torch.relu(super().forward(x))


class DownsampleConv(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 1, stride=stride, bias=False)

    def forward(self, x):
        return self.conv(x)          # preact: no norm


class PreActBottleneck(nn.Module):
    def __init__(self, cin, cout, stride, project):
        super().__init__()
        mid = cout // 4
        self.downsample = DownsampleConv(cin, cout, stride) if project else None
        self.norm1 = BatchNormAct2d(cin)
        self.conv1 = nn.Conv2d(cin, mid, 1, bias=False)
        self.norm2 = BatchNormAct2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride=stride, padding=1, bias=False)
        self.norm3 = BatchNormAct2d(mid)
        self.conv3 = nn.Conv2d(mid, cout, 1, bias=False)

    def forward(self, x):
        p = self.norm1(x)
        shortcut = self.downsample(p) if self.downsample is not None else x
        return self.conv3(self.norm3(self.conv2(self.norm2(self.conv1(p))))) + shortcut


class Stage(nn.Module):
    def __init__(self, cin, cout, stride, depth):
        super().__init__()
        self.blocks = nn.Sequential(*[
            PreActBottleneck(cin if i == 0 else cout, cout, stride if i == 0 else 1, i == 0)
            for i in range(depth)])

    def forward(self, x):
        return self.blocks(x)


class Head(nn.Module):
    def __init__(self, c, classes):
        super().__init__()
        self.fc = nn.Conv2d(c, classes, 1)

    def forward(self, x):
        return self.fc(x.mean((2, 3), keepdim=True)).flatten(1)


class TimmResNetV2(nn.Module):
    """stem "imagenet": timm's 7x7/2 conv + 3x3/2 max pool; "cifar": He et
    al. 2016's CIFAR stem, one 3x3/1 conv, under timm's name."""

    def __init__(self, layers, channels, stem_chs, classes, stem="imagenet"):
        super().__init__()
        self.stem = nn.Sequential()
        if stem == "imagenet":
            self.stem.add_module("conv", nn.Conv2d(3, stem_chs, 7, stride=2, padding=3,
                                                   bias=False))
            self.stem.add_module("pool", nn.MaxPool2d(3, stride=2, padding=1))
        else:
            self.stem.add_module("conv", nn.Conv2d(3, stem_chs, 3, padding=1, bias=False))
        self.stages = nn.Sequential(*[
            Stage(stem_chs if i == 0 else channels[i - 1], channels[i], 1 if i == 0 else 2, d)
            for i, d in enumerate(layers)])
        self.norm = BatchNormAct2d(channels[-1])
        self.head = Head(channels[-1], classes)

    def features(self, x):
        return self.norm(self.stages(self.stem(x))).mean((2, 3))

    def forward(self, x):
        return self.head(self.norm(self.stages(self.stem(x))))


# --------------------------------------------------------------------------
# preprocessing, as each side does it


def keras_input(path, h, w, mode):
    """load_img(path, target_size=(h, w)) + img_to_array + preprocess_input:
    [3, h, w] float32, in the network's channel order (pil_reference.py)."""
    return pil_tensor(path, {"mode": mode, "fit": "stretch"}, h, w)


def torch_input(path, pre, h, w):
    return pil_tensor(path, pre, h, w)


# --------------------------------------------------------------------------
# writing


def h5_group(parent, name):
    """A group without creation times, so the file reproduces byte for byte."""
    gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
    gcpl.set_obj_track_times(False)
    return h5py.Group(h5py.h5g.create(parent.id, name.encode(), gcpl=gcpl))


def keras_h5(path, k):
    """save_weights(): every layer in Keras's order in layer_names, a group
    per layer with weight_names ("conv1_conv/kernel:0" is the dataset
    conv1_conv/conv1_conv/kernel:0), an empty float64 array for layers
    without weights."""
    ordered = keras_order(k.graph)
    tmp = path + ".tmp"
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_obj_track_times(False)
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    fapl.set_libver_bounds(h5py.h5f.LIBVER_LATEST, h5py.h5f.LIBVER_LATEST)   # compact headers
    with h5py.File(h5py.h5f.create(tmp.encode(), h5py.h5f.ACC_TRUNC, fapl=fapl, fcpl=fcpl)) as f:
        f.attrs["backend"] = np.bytes_("tensorflow")
        f.attrs["keras_version"] = np.bytes_("2.4.0")
        f.attrs["layer_names"] = np.array([l.name.encode() for l in ordered])
        for layer in ordered:
            g = h5_group(f, layer.name)
            short = [n for n in layer.weight_names if n in layer.weights]
            names = ["%s/%s:0" % (layer.name, n) for n in short]
            g.attrs["weight_names"] = np.array([n.encode() for n in names]) if names else \
                np.zeros((0,), dtype=np.float64)
            if names:
                sub = h5_group(g, layer.name)
                for n in short:
                    sub.create_dataset(n + ":0", data=layer.weights[n].astype("<f4"),
                                       track_times=False)
    with open(tmp, "rb") as f:
        data = f.read()
    os.remove(tmp)
    write_file(path, data)


def top6_gap(logits):
    top = torch.sort(logits, dim=1, descending=True).values[:, :6]
    return float((top[:, :-1] - top[:, 1:]).min())


def spec_text(s):
    lines = ["  %s: %s" % (json.dumps(k), json.dumps(v, separators=(", ", ": ")))
             for k, v in s.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def fit_dense(feats, kernel, bias, rng, out_dim):
    """Scale (and if need be redraw) a classifier [in, out] until the logits
    spread by LOGIT_SPREAD and their top 6 are MIN_GAP apart."""
    for attempt in range(32):
        if attempt:
            kernel = rng.normal(0, 1, kernel.shape)
            bias = rng.normal(0, 0.1, out_dim)
        k = torch.from_numpy(kernel).double()
        spread = float((feats @ k).std(dim=1).mean())
        kernel = (kernel * LOGIT_SPREAD / spread).astype(np.float32)
        bias = (bias * LOGIT_SPREAD / spread).astype(np.float32)
        logits = feats @ torch.from_numpy(kernel).double() + torch.from_numpy(bias).double()
        if top6_gap(logits) > MIN_GAP:
            return kernel, bias
    raise AssertionError("no classifier draw gives top-6 logit gaps > %g" % MIN_GAP)


def keras_case(d, k, mode, seed, spec=None, stat_batch=8, stat_dtype=torch.float64):
    """Weights for Keras model k, BN statistics from a random batch of
    stat_batch inputs in the mode's range (gathered in stat_dtype), then the
    references in float64; into directory d.  Returns a line about them."""
    rng = np.random.default_rng(seed)
    h, w = k.graph[0].shape[:2]
    if spec:
        assert spec["input"][:2] == [h, w], (spec["input"], h, w)
    batch = rng.normal(0, 1 if mode != "caffe" else 60, (stat_batch, 3, h, w))
    k.run(torch.from_numpy(batch).to(stat_dtype), rng=rng)
    x = torch.stack([keras_input(os.path.join(IMAGES, p), h, w, mode) for p in PHOTOS])
    fc = k.output
    feats = k.run(x.double(), upto=fc)
    fc.weights["kernel"], fc.weights["bias"] = fit_dense(
        feats, fc.weights["kernel"].astype(np.float64), fc.weights["bias"].astype(np.float64),
        rng, fc.units)
    logits = fc.run(feats, logits=True)
    gap = top6_gap(logits)
    assert gap > MIN_GAP, "%s: top-6 logit gap %.2e <= %g" % (d, gap, MIN_GAP)
    probs = torch.softmax(logits, 1)
    os.makedirs(d, exist_ok=True)
    if spec:
        write_file(os.path.join(d, "spec.json"), spec_text(spec))
    keras_h5(os.path.join(d, "weights.h5"), k)
    write_expected(d, x, probs)
    return summary_note(probs, gap)


def summary_note(probs, gap):
    top1 = probs.max(dim=1).values
    return "top-1 probability %.2f..%.2f, smallest top-6 logit gap %.1e" % (
        float(top1.min()), float(top1.max()), gap)


def write_expected(d, x, probs):
    tensors = [("input.%s" % p, x[i].float()) for i, p in enumerate(PHOTOS)]
    tensors += [("probs.%s" % p, probs[i].float()) for i, p in enumerate(PHOTOS)]
    write_safetensors(os.path.join(d, "expected.safetensors"), tensors,
                      {"format": "pt", "generator": "tests/gen_keras_reference.py"})


def timm_case(d, make, pre, h, w, seed, spec=None, stat_batches=3, stat_batch=8,
              stat_dtype=torch.float64):
    """timm's ResNetV2 from make(), its BN statistics from stat_batches
    random batches in train() mode (in stat_dtype), then the references in
    float64 from the float32 weights; into directory d."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = make().to(stat_dtype)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data.uniform_(0.5, 1.5, generator=gen)
            m.bias.data.normal_(0.0, 0.2, generator=gen)
            m.momentum = None
    model.train()
    with torch.no_grad():
        for _ in range(stat_batches):
            model(torch.randn(stat_batch, 3, h, w, generator=gen,
                              dtype=torch.float64).to(stat_dtype))
    for t in list(model.parameters()) + list(model.buffers()):
        if t.is_floating_point():
            t.data = t.data.float().double()
    model.eval()
    x = torch.stack([torch_input(os.path.join(IMAGES, p), pre, h, w) for p in PHOTOS])
    with torch.no_grad():
        feats = model.features(x.double())
        rng = np.random.default_rng(seed)
        fc = model.head.fc
        kernel, bias = fit_dense(feats, fc.weight.data[:, :, 0, 0].T.numpy().copy(),
                                 fc.bias.data.numpy().copy(), rng, fc.out_channels)
        fc.weight.data = torch.from_numpy(kernel.T.copy()).double()[:, :, None, None]
        fc.bias.data = torch.from_numpy(bias).double()
        logits = fc(feats[:, :, None, None]).flatten(1)      # the head on the pooled features
    gap = top6_gap(logits)
    assert gap > MIN_GAP, "%s: top-6 logit gap %.2e <= %g" % (d, gap, MIN_GAP)
    probs = torch.softmax(logits, 1)
    os.makedirs(d, exist_ok=True)
    if spec:
        write_file(os.path.join(d, "spec.json"), spec_text(spec))
    # float32 weights; num_batches_tracked stays I64, as in a timm checkpoint
    state = [(n, t.float() if t.is_floating_point() else t) for n, t in model.state_dict().items()]
    assert any(t.dtype == torch.int64 for _, t in state)
    write_safetensors(os.path.join(d, "weights.safetensors"), state,
                      {"format": "pt", "generator": "tests/gen_keras_reference.py"})
    write_expected(d, x, probs)
    return summary_note(probs, gap)


def builtin_spec(builtin, replace=None, **changes):
    """The built-in spec models/<builtin>.json with `changes` applied in place
    (keys it lacks go at the end), and each key of `replace` swapped for the
    keys it maps to: a small case that differs from the shipped spec only
    where it says so."""
    with open(os.path.join(MODELS, builtin + ".json")) as f:
        base = json.load(f)
    out = {}
    for key, v in base.items():
        if replace and key in replace:
            out.update(replace[key])
        else:
            out[key] = changes.pop(key, v)
    out.update(changes)
    return out


# timm's resnetv2_50 pretrained_cfg: crop_pct 0.95, so resize floor(224 / 0.95)
# then crop 224, bicubic; Inception's mean and std.
TIMM_PRE = {"resize": int(math.floor(224 / 0.95)), "interpolation": "bicubic",
            "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}
STRETCH = {"fit": "stretch"}


def small_cases():
    keras_case(os.path.join(OUT, "keras_v1_small"), keras_v1_small(), "caffe", 41, {
        "name": "keras-v1-small", "version": 1, "block": "bottleneck", "stages": [2, 1, 1],
        "widths": [4, 8, 12], "stem_width": 64, "stride_at": "1x1", "bias": "all",
        "bn_eps": 1.001e-5, "padding": "same", "pool_padding": "zero",
        "weights_names": "keras", "classes": 7, "input": [40, 32, 3],
        "preprocess": dict(mode="caffe", **STRETCH)})
    keras_case(os.path.join(OUT, "keras_v2_small"), keras_v2_small(), "tf", 42, {
        "name": "keras-v2-small", "version": 2, "block": "bottleneck", "stages": [2, 2, 2],
        "widths": [4, 8, 12], "stem_width": 64, "stride_at": "last", "bias": "v2",
        "bn_eps": 1.001e-5, "padding": "explicit", "pool_padding": "zero", "shortcut": "conv",
        "shortcut_from": "preact", "weights_names": "keras", "classes": 7,
        "input": [40, 32, 3], "preprocess": dict(mode="tf", **STRETCH)})
    keras_case(os.path.join(OUT, "tutorial_resnet34_small"), tutorial_resnet34_small(), "torch",
               43, {
        "name": "tutorial-resnet34-small", "model_name": "ResNet34", "version": 1,
        "block": "basic", "stages": [1, 1, 1], "widths": [6, 8, 12],
        "stem": [{"type": "zeropad", "pad": 3},
                 {"type": "conv", "filters": 6, "kernel": 7, "stride": 2, "padding": "same"},
                 {"type": "bn"}, {"type": "relu"},
                 {"type": "maxpool", "pool": 3, "stride": 2, "padding": "same"}],
        "stride_at": "3x3", "bias": "all", "bn_eps": 0.001, "padding": "same",
        "shortcut": "conv", "add_order": "residual_first", "shortcut_created": "last",
        "head": [{"type": "avgpool", "pool": 2, "padding": "same"}, {"type": "flatten"},
                 {"type": "dense", "units": 16, "activation": "relu"},
                 {"type": "dense", "activation": "softmax"}],
        "names": "auto", "weights_names": "keras", "classes": 10, "input": [32, 32, 3],
        "preprocess": dict(mode="torch", mean=[0, 0, 0], std=[1, 1, 1], **STRETCH)})
    keras_case(os.path.join(OUT, "keras_cifar_v2_small"), keras_cifar_v2_small(), "torch", 44, {
        "name": "keras-cifar-v2-small", "version": 2, "block": "bottleneck", "stages": [1, 1, 1],
        "widths": [2, 8, 16], "out_widths": [8, 16, 32],
        "stem": [{"type": "conv", "filters": 2, "kernel": 3, "padding": "same"},
                 {"type": "bn"}, {"type": "relu"}],
        "stride_at": "1x1", "bias": "all", "bn_eps": 0.001, "padding": "same",
        "shortcut": "conv", "shortcut_from": "input", "first_preact": False,
        "shortcut_created": "last",
        "head": [{"type": "avgpool", "pool": 8}, {"type": "flatten"},
                 {"type": "dense", "units": 16, "activation": "relu"}, {"type": "bn"},
                 {"type": "dropout", "rate": 0.5}, {"type": "dense", "activation": "softmax"}],
        "names": "auto", "weights_names": "keras", "classes": 10, "input": [32, 32, 3],
        "preprocess": dict(mode="torch", mean=[0, 0, 0], std=[1, 1, 1], **STRETCH)})
    timm_spec = {
        "name": "timm-v2-small", "version": 2, "block": "bottleneck", "stages": [1, 2, 1],
        "widths": [4, 8, 12], "stem_width": 8, "stride_at": "3x3", "bias": "none",
        "bn_eps": 1e-5, "padding": "explicit", "pool_padding": "min", "shortcut": "conv",
        "shortcut_from": "preact", "weights_names": "timm", "classes": 7,
        "input": [40, 48, 3],
        "preprocess": {"resize": 44, "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}}
    timm_case(os.path.join(OUT, "timm_v2_small"),
              lambda: TimmResNetV2([1, 2, 1], [16, 32, 48], 8, 7), timm_spec["preprocess"],
              40, 48, 45, timm_spec)

    # The shipped specs, narrowed: each differs from models/<name>.json only
    # in the keys given here.
    keras_case(os.path.join(OUT, "tutorial_resnet50_small"), tutorial_resnet50_small(),
               "caffe", 46, builtin_spec(
                   "tutorial_resnet50", name="tutorial_resnet50_small",
                   replace={"depth": {"block": "bottleneck", "stages": [2, 1, 1, 1],
                                      "widths": [4, 8, 12, 16], "stem_width": 64}},
                   classes=10, input=[40, 48, 3]))
    for name, seed, changes in [("tutorial_resnetv2_cifar", 47, TUTORIAL_V2),
                                ("keras_example_resnetv2_cifar", 49, {})]:
        with open(os.path.join(MODELS, name + ".json")) as f:
            stem = json.load(f)["stem"]
        stem[0]["filters"] = 2
        keras_case(os.path.join(OUT, name + "_small"),
                   cifar_resnet_v2(TKeras(), 20, **dict(changes, filters_in=2)), "torch", seed,
                   builtin_spec(name, name=name + "_small", depth=20, stem=stem,
                                widths=[2, 8, 16], out_widths=[8, 16, 32]))
    # He et al. 2016's CIFAR v2 net (depth 9n + 2, n = 2), timm's names
    timm_case(os.path.join(OUT, "resnet164v2_cifar_small"),
              lambda: TimmResNetV2([2, 2, 2], [16, 24, 32], 4, 10, stem="cifar"), CIFAR_PRE,
              32, 32, 48, builtin_spec("resnet164v2_cifar", name="resnet164v2_cifar_small",
                                       depth=20, widths=[4, 6, 8]))
    for case in sorted(os.listdir(OUT)):
        size = sum(os.path.getsize(os.path.join(OUT, case, f))
                   for f in os.listdir(os.path.join(OUT, case)))
        print("%s: %d bytes -> %s" % (case, size, os.path.join(OUT, case)))


# The full-size cases: directory name = the built-in spec test_keras_parity.c
# loads by name; (weight file, maker).  BN statistics of the 224x224 nets in
# float32 from one batch of 4 (Keras) or two (timm), references in float64,
# as gen_reference.py does for its full-size nets; the 32x32 ones are small
# enough to make as the small cases are.
FULL = [
    ("keras_resnet50", "weights.h5",
     lambda d: keras_case(d, keras_full("ResNet50"), "caffe", 50, stat_batch=4,
                          stat_dtype=torch.float32)),
    ("keras_resnet50v2", "weights.h5",
     lambda d: keras_case(d, keras_full("ResNet50V2"), "tf", 51, stat_batch=4,
                          stat_dtype=torch.float32)),
    ("timm_resnetv2_50", "weights.safetensors",          # timm's resnetv2_50
     lambda d: timm_case(d, lambda: TimmResNetV2([3, 4, 6, 3], [256, 512, 1024, 2048], 64, 1000),
                         TIMM_PRE, 224, 224, 52, stat_batches=2, stat_batch=4,
                         stat_dtype=torch.float32)),
    ("tutorial_resnetv2_cifar", "weights.h5",            # ResNet-56 v2, 32x32: quick
     lambda d: keras_case(d, cifar_resnet_v2(TKeras(), 56, **TUTORIAL_V2), "torch", 53)),
    ("keras_example_resnetv2_cifar", "weights.h5",
     lambda d: keras_case(d, cifar_resnet_v2(TKeras(), 56), "torch", 54)),
]


def generator_version():
    """This script and the three it takes code from: a change to any remakes
    the full-size cases."""
    h = hashlib.sha256()
    for f in (os.path.abspath(__file__), os.path.join(HERE, "gen_reference.py"),
              os.path.join(HERE, "pil_reference.py"), os.path.join(HERE, "golden", "make_golden.py")):
        with open(f, "rb") as fh:
            h.update(fh.read())
    return h.hexdigest()


def full_cases(out):
    version = generator_version()
    for name, weights, make in FULL:
        d = os.path.join(out, "keras", name)
        stamp = os.path.join(d, "generator.sha256")
        have = all(os.path.exists(os.path.join(d, f)) for f in (weights, "expected.safetensors"))
        if have and os.path.exists(stamp) and open(stamp).read().strip() == version:
            print("%s: up to date in %s" % (name, d))
            continue
        if os.path.exists(stamp):
            os.remove(stamp)
        t0 = time.time()
        note = make(d)
        write_file(stamp, version + "\n")        # written last: a half-made case is remade
        print("%s: %s, %.1f s -> %s" % (name, note, time.time() - t0, d))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--full", action="store_true",
                    help="the full-size cases (the built-in keras_resnet50, keras_resnet50v2, "
                         "timm_resnetv2_50, tutorial_resnetv2_cifar, "
                         "keras_example_resnetv2_cifar) into OUT/keras/, instead of the small "
                         "fixtures")
    ap.add_argument("--out", default=os.path.join(HERE, "cache"),
                    help="where --full writes (default tests/cache)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    if args.full:
        full_cases(args.out)
    else:
        small_cases()


if __name__ == "__main__":
    main()
