#!/usr/bin/python3
"""gen_keras_reference.py -- golden references for tests/test_keras_parity.c.

The Keras-side networks (Keras Applications' ResNet v1 and v2, the Keras
tutorials' ResNet-34 and CIFAR ResNet v2) and timm's pre-activation ResNetV2,
at reduced widths, with random weights, written the way their own code would
write them, plus what they compute on the photos of tests/images/parity/.
One case directory each, under tests/fixtures/keras/:

    spec.json             the network in the spec format of src/spec.h
    weights.h5            Keras's save_weights() layout, written with h5py:
                          root attribute layer_names (every layer, in Keras's
                          model.layers order), per layer a group with attribute
                          weight_names ("conv1_conv/kernel:0", ...), one
                          dataset per weight; kernels HWIO, Dense [in, out]
      or weights.safetensors  timm's state_dict names (timm case)
    expected.safetensors  per image: input.<file> [3, H, W] F32, the network's
                          input as the spec's preprocessing makes it (Keras's
                          load_img + preprocess_input, or torchvision's), in
                          the network's channel order; probs.<file> [classes]
                          F32, the softmax the network gives on that input

How the networks are built.  The Keras ones come from Keras code run against
`tkeras` below, a stand-in for the Keras layer API that records the graph
and runs it in PyTorch (float64) with Keras's semantics: TensorFlow's 'same'
padding (the odd row at the bottom/right), zero-padded pools after
ZeroPadding2D, 'same' pools that ignore padded cells, Flatten over NHWC, and
tf.keras's names for unnamed layers.  Keras Applications' networks are its
own resnet_common.py (Debian's python3-keras-applications) with a smaller
stack_fn; the tutorials' networks are written out below as their code builds
them.  timm's is a PyTorch module with timm's module names
(timm/models/resnetv2.py: PreActBottleneck, DownsampleConv, BatchNormAct2d,
a 1x1-conv head).

BatchNorm statistics are those of a random batch at each BN's input, so the
activations stay in range, and the classifier is scaled until the six
largest logits of every image are at least MIN_GAP apart, so that the top-5
order is well defined.  Everything is computed in float64 from float32
weights; the files reproduce byte for byte.

    /usr/bin/python3 tests/gen_keras_reference.py
"""
import json
import os
import sys

import h5py
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.transforms.functional as TF
from PIL import Image
from torchvision.transforms import InterpolationMode

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "golden"))
sys.path.insert(0, HERE)
from make_golden import keras_order, snake                      # noqa: E402
from gen_reference import write_file, write_safetensors         # noqa: E402

OUT = os.path.join(HERE, "fixtures", "keras")
IMAGES = os.path.join(HERE, "images", "parity")
PHOTOS = ["chelsea.jpg", "coffee.png"]   # a JPEG and a PNG, both shrunk
MIN_GAP = 1e-3
LOGIT_SPREAD = 3.0
CAFFE_MEAN = np.array([103.939, 116.779, 123.68], dtype=np.float32)   # BGR


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
        self.name = name if name is not None else k.auto_name(snake(self.cls))
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
        w = torch.from_numpy(self.weights["kernel"]).double().permute(3, 2, 0, 1)   # HWIO -> OIHW
        b = torch.from_numpy(self.weights["bias"]).double() if self.use_bias else None
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
        w = {n: torch.from_numpy(v).double() for n, v in self.weights.items()}
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
            "moving_mean": x.mean(dims).numpy() + rng.normal(0, 0.05, c),
            "moving_variance": x.var(dims).numpy() * rng.uniform(0.8, 1.25, c) + 1e-3,
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
        y = x @ torch.from_numpy(self.weights["kernel"]).double() + \
            torch.from_numpy(self.weights["bias"]).double()
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
    calls, for one model."""

    def __init__(self):
        self.graph, self.uids = [], {}
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
        """x: [N, 3, H, W] float64.  With rng, initialise the weights on the
        way (BN statistics from this batch).  `upto` stops before that layer
        and returns its input."""
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


def keras_applications(preact, stack_fn, h, w, classes):
    """Keras Applications' ResNet() with its own stem, blocks and top."""
    from keras_applications import resnet_common
    k = TKeras()
    resnet_common.ResNet(lambda x: stack_fn(resnet_common, x), preact, True,
                         "resnet_small", include_top=True, weights=None, input_shape=(h, w, 3),
                         classes=classes, **k.kwargs())
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
    """examples/cifar10_resnet.py's resnet_v2 at depth 11 (one unit per
    stage), 2 filters in, with the Dense(hidden)-BN-Dropout head."""
    k = TKeras()
    Ly = k.layers

    def conv_layer(x, filters, kernel_size=3, strides=1, activation="relu",
                   batch_normalization=True, conv_first=True):
        conv = Ly.Conv2D(filters, kernel_size=kernel_size, strides=strides, padding="same")
        if conv_first:
            x = conv(x)
            x = Ly.BatchNormalization()(x) if batch_normalization else x
            return Ly.Activation(activation)(x) if activation else x
        x = Ly.BatchNormalization()(x) if batch_normalization else x
        x = Ly.Activation(activation)(x) if activation else x
        return conv(x)

    filters_in = 2
    inputs = Ly.Input((32, 32, 3))
    x = conv_layer(inputs, filters_in)
    for stage in range(3):
        activation, bn, strides = "relu", True, 1
        if stage == 0:
            filters_out, activation, bn = filters_in * 4, None, False
        else:
            filters_out, strides = filters_in * 2, 2
        y = conv_layer(x, filters_in, 1, strides, activation, bn, conv_first=False)
        y = conv_layer(y, filters_in, conv_first=False)
        y = conv_layer(y, filters_out, 1, conv_first=False)
        x = conv_layer(x, filters_out, 1, strides, None, False)
        x = Ly.add([x, y])
        filters_in = filters_out
    x = Ly.Activation("relu")(Ly.BatchNormalization()(x))
    x = Ly.AveragePooling2D(pool_size=8)(x)
    x = Ly.Flatten()(x)
    x = Ly.Dense(16, activation="relu")(x)
    x = Ly.BatchNormalization()(x)
    x = Ly.Dropout(0.5)(x)
    x = Ly.Dense(10, activation="softmax")(x)
    k.models.Model(inputs=inputs, outputs=x)
    return k


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
    def __init__(self, layers, channels, stem_chs, classes):
        super().__init__()
        self.stem = nn.Sequential()
        self.stem.add_module("conv", nn.Conv2d(3, stem_chs, 7, stride=2, padding=3, bias=False))
        self.stem.add_module("pool", nn.MaxPool2d(3, stride=2, padding=1))
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
    [3, h, w] float32, in the network's channel order."""
    img = Image.open(path)
    if img.mode != "RGB":
        img = img.convert("RGB")
    if img.size != (w, h):
        img = img.resize((w, h), Image.NEAREST)
    x = np.asarray(img, dtype=np.float32).copy()
    if mode == "caffe":
        x = x[..., ::-1] - CAFFE_MEAN
    elif mode == "tf":
        x /= np.float32(127.5)
        x -= np.float32(1.0)
    else:                                      # torch with mean 0, std 1: x / 255
        x = x / np.float32(255.0)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))


def torch_input(path, pre, h, w):
    t = TF.to_tensor(Image.open(path).convert("RGB")).double()
    t = TF.resize(t, pre["resize"], interpolation=InterpolationMode.BILINEAR, antialias=True)
    t = TF.center_crop(t, [h, w])
    return TF.normalize(t, pre["mean"], pre["std"]).float()


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


def keras_case(name, k, spec, mode, seed):
    rng = np.random.default_rng(seed)
    h, w = spec["input"][0], spec["input"][1]
    # weights, BN statistics from a random batch of inputs in the mode's range
    batch = torch.from_numpy(rng.normal(0, 1 if mode != "caffe" else 60, (8, 3, h, w)))
    k.run(batch, rng=rng)
    x = torch.stack([keras_input(os.path.join(IMAGES, p), h, w, mode) for p in PHOTOS])
    fc = k.output
    feats = k.run(x.double(), upto=fc)
    fc.weights["kernel"], fc.weights["bias"] = fit_dense(
        feats, fc.weights["kernel"].astype(np.float64), fc.weights["bias"].astype(np.float64),
        rng, fc.units)
    probs = k.run(x.double())
    assert top6_gap(fc.run(feats, logits=True)) > MIN_GAP
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    write_file(os.path.join(d, "spec.json"), spec_text(spec))
    keras_h5(os.path.join(d, "weights.h5"), k)
    write_expected(d, x, probs)


def write_expected(d, x, probs):
    tensors = [("input.%s" % p, x[i].float()) for i, p in enumerate(PHOTOS)]
    tensors += [("probs.%s" % p, probs[i].float()) for i, p in enumerate(PHOTOS)]
    write_safetensors(os.path.join(d, "expected.safetensors"), tensors,
                      {"format": "pt", "generator": "tests/gen_keras_reference.py"})


def timm_case(name, spec, seed):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    widths = spec["widths"]
    model = TimmResNetV2(spec["stages"], [4 * c for c in widths], spec["stem_width"],
                         spec["classes"]).double()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data.uniform_(0.5, 1.5, generator=gen)
            m.bias.data.normal_(0.0, 0.2, generator=gen)
            m.momentum = None
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(8, 3, spec["input"][0], spec["input"][1], generator=gen,
                              dtype=torch.float64))
    for t in list(model.parameters()) + list(model.buffers()):
        if t.is_floating_point():
            t.data = t.data.float().double()
    model.eval()
    h, w = spec["input"][0], spec["input"][1]
    x = torch.stack([torch_input(os.path.join(IMAGES, p), spec["preprocess"], h, w)
                     for p in PHOTOS])
    with torch.no_grad():
        feats = model.features(x.double())
        rng = np.random.default_rng(seed)
        fc = model.head.fc
        kernel, bias = fit_dense(feats, fc.weight.data[:, :, 0, 0].T.numpy().copy(),
                                 fc.bias.data.numpy().copy(), rng, spec["classes"])
        fc.weight.data = torch.from_numpy(kernel.T.copy()).double()[:, :, None, None]
        fc.bias.data = torch.from_numpy(bias).double()
        probs = torch.softmax(model(x.double()), 1)
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    write_file(os.path.join(d, "spec.json"), spec_text(spec))
    state = [(n, t.float() if t.is_floating_point() else t) for n, t in model.state_dict().items()]
    write_safetensors(os.path.join(d, "weights.safetensors"), state,
                      {"format": "pt", "generator": "tests/gen_keras_reference.py"})
    write_expected(d, x, probs)


STRETCH = {"fit": "stretch"}


def main():
    torch.set_num_threads(2)
    keras_case("keras_v1_small", keras_v1_small(), {
        "name": "keras-v1-small", "version": 1, "block": "bottleneck", "stages": [2, 1, 1],
        "widths": [4, 8, 12], "stem_width": 64, "stride_at": "1x1", "bias": "all",
        "bn_eps": 1.001e-5, "padding": "same", "pool_padding": "zero",
        "weights_names": "keras", "classes": 7, "input": [40, 32, 3],
        "preprocess": dict(mode="caffe", **STRETCH)}, "caffe", 41)
    keras_case("keras_v2_small", keras_v2_small(), {
        "name": "keras-v2-small", "version": 2, "block": "bottleneck", "stages": [2, 2, 2],
        "widths": [4, 8, 12], "stem_width": 64, "stride_at": "last", "bias": "v2",
        "bn_eps": 1.001e-5, "padding": "explicit", "pool_padding": "zero", "shortcut": "conv",
        "shortcut_from": "preact", "weights_names": "keras", "classes": 7,
        "input": [40, 32, 3], "preprocess": dict(mode="tf", **STRETCH)}, "tf", 42)
    keras_case("tutorial_resnet34_small", tutorial_resnet34_small(), {
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
        "preprocess": dict(mode="torch", mean=[0, 0, 0], std=[1, 1, 1], **STRETCH)},
        "torch", 43)
    keras_case("keras_cifar_v2_small", keras_cifar_v2_small(), {
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
        "preprocess": dict(mode="torch", mean=[0, 0, 0], std=[1, 1, 1], **STRETCH)},
        "torch", 44)
    timm_case("timm_v2_small", {
        "name": "timm-v2-small", "version": 2, "block": "bottleneck", "stages": [1, 2, 1],
        "widths": [4, 8, 12], "stem_width": 8, "stride_at": "3x3", "bias": "none",
        "bn_eps": 1e-5, "padding": "explicit", "pool_padding": "min", "shortcut": "conv",
        "shortcut_from": "preact", "weights_names": "timm", "classes": 7,
        "input": [40, 48, 3],
        "preprocess": {"resize": 44, "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}}, 45)
    for case in sorted(os.listdir(OUT)):
        size = sum(os.path.getsize(os.path.join(OUT, case, f))
                   for f in os.listdir(os.path.join(OUT, case)))
        print("%s: %d bytes -> %s" % (case, size, os.path.join(OUT, case)))


if __name__ == "__main__":
    main()
