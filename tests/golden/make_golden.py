#!/usr/bin/python3
"""make_golden.py -- the expected `resnet summary` text, by a second route.

    /usr/bin/python3 tests/golden/make_golden.py resnet18 > tests/golden/resnet18.summary.txt
    /usr/bin/python3 tests/golden/make_golden.py --all     # every golden file

src/net.c + src/summary.c derive the table from the JSON spec in C.  This
script shares none of that.  Two routes feed one Python layout:

  torchvision  torchvision's own model, run on one image with hooks to read
               every module's output shape, named the way Keras Applications
               names its ResNet layers (a ZeroPadding2D wherever torchvision
               pads a convolution or pool);
  keras        the Keras Applications source itself (Debian's
               python3-keras-applications, keras_applications/resnet_common.py)
               run against `minikeras` below: a stand-in for the few Keras
               layers it calls, which infers shapes, counts parameters and
               multiply-adds, and names unnamed layers as tf.keras does
               (conv2d, conv2d_1, ... per class, in creation order).  The
               tutorials' networks and Keras's CIFAR ResNet v2 example are
               written here against the same stand-in, step by step as
               their code builds them.

The layers are then ordered as Keras's functional Model orders them
(keras/engine/functional.py, _map_graph_network) and laid out as Keras 2.3 /
tf.keras 2.x print_summary() does (keras/utils/layer_utils.py).
tests/test_summary.c compares the C output with these files byte for byte.
"""
import math
import os
import re
import sys
import types

import torch
import torchvision

LINE_LENGTH = 98
POSITIONS = [int(LINE_LENGTH * p) for p in (0.33, 0.55, 0.67, 1.0)]


class Layer:
    def __init__(self, name, cls, inputs, shape, params=0):
        self.name, self.cls, self.inputs = name, cls, inputs
        self.shape, self.params = shape, params


def keras_layers(model, image_size=224):
    """The Keras-granularity layer list of a torchvision ResNet, in build order."""
    shapes, macs = {}, [0]

    def hook(module, inputs, output):
        shapes[module] = tuple(output.shape[1:])
        if isinstance(module, torch.nn.Conv2d):
            kh, kw = module.kernel_size
            macs[0] += output.numel() * module.in_channels // module.groups * kh * kw
        elif isinstance(module, torch.nn.Linear):
            macs[0] += module.in_features * module.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (torch.nn.Conv2d, torch.nn.BatchNorm2d,
                                 torch.nn.MaxPool2d, torch.nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, image_size, image_size))
    for h in handles:
        h.remove()

    def nhwc(module):
        c, h, w = shapes[module]
        return (None, h, w, c)

    def count(module):
        n = sum(p.numel() for p in module.parameters())
        if isinstance(module, torch.nn.BatchNorm2d):
            n += module.running_mean.numel() + module.running_var.numel()
        return n

    layers = [Layer('input_1', 'InputLayer', [], (None, image_size, image_size, 3))]

    def emit(name, cls, inputs, shape, params=0):
        layers.append(Layer(name, cls, inputs, shape, params))
        return name

    def padded(x, pad, name):
        """A ZeroPadding2D in front of a padded torchvision window, if it pads."""
        if pad == 0:
            return x
        _, h, w, c = next(l for l in layers if l.name == x).shape
        return emit(name, 'ZeroPadding2D', [x], (None, h + 2 * pad, w + 2 * pad, c))

    def conv_bn(x, conv, bn, prefix):
        x = padded(x, conv.padding[0], prefix + '_pad')
        x = emit(prefix + '_conv', 'Conv2D', [x], nhwc(conv), count(conv))
        return emit(prefix + '_bn', 'BatchNormalization', [x], nhwc(bn), count(bn))

    def relu(x, name):
        shape = next(l for l in layers if l.name == x).shape
        return emit(name, 'Activation', [x], shape)

    x = conv_bn('input_1', model.conv1, model.bn1, 'conv1')
    x = relu(x, 'conv1_relu')
    x = padded(x, model.maxpool.padding, 'pool1_pad')
    x = emit('pool1_pool', 'MaxPooling2D', [x], nhwc(model.maxpool))

    for s in range(1, 5):
        for b, block in enumerate(getattr(model, 'layer%d' % s)):
            prefix = 'conv%d_block%d' % (s + 1, b + 1)
            n_convs = 3 if hasattr(block, 'conv3') else 2
            shortcut, y = x, x
            for k in range(1, n_convs + 1):
                y = conv_bn(y, getattr(block, 'conv%d' % k), getattr(block, 'bn%d' % k),
                            '%s_%d' % (prefix, k))
                if k < n_convs:
                    y = relu(y, '%s_%d_relu' % (prefix, k))
            if block.downsample is not None:
                conv, bn = block.downsample[0], block.downsample[1]
                shortcut = emit(prefix + '_0_conv', 'Conv2D', [x], nhwc(conv), count(conv))
                shortcut = emit(prefix + '_0_bn', 'BatchNormalization', [shortcut],
                                nhwc(bn), count(bn))
            # Keras Applications adds [shortcut, x] in that order.
            y = emit(prefix + '_add', 'Add', [shortcut, y],
                     next(l for l in layers if l.name == y).shape)
            x = relu(y, prefix + '_out')

    c = model.fc.in_features
    x = emit('avg_pool', 'GlobalAveragePooling2D', [x], (None, c))
    emit('predictions', 'Dense', [x], (None, model.fc.out_features), count(model.fc))

    trainable = sum(p.numel() for p in model.parameters())
    frozen = sum(m.running_mean.numel() + m.running_var.numel()
                 for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    return layers, trainable, frozen, macs[0]


def keras_order(layers):
    """Layers as a Keras functional Model lists them: by depth from the output
    (deepest first), ties in the order a depth-first walk from the output
    first meets them."""
    by_name = {l.name: l for l in layers}
    index, finished, postorder = {}, set(), []

    def visit(name):
        if name in finished:
            return
        index.setdefault(name, len(index))
        for parent in by_name[name].inputs:
            visit(parent)
        finished.add(name)
        postorder.append(name)

    visit(layers[-1].name)
    depth = {}
    for name in reversed(postorder):          # every consumer before its inputs
        d = depth.setdefault(name, 0)
        for parent in by_name[name].inputs:
            depth[parent] = max(depth.get(parent, 0), d + 1)
    return sorted(layers, key=lambda l: (-depth[l.name], index[l.name]))


def row(fields):
    line = ''
    for i, field in enumerate(fields):
        if i:
            line = line[:-1] + ' '     # a cut field still leaves one blank
        line = (line + str(field))[:POSITIONS[i]]
        line = line.ljust(POSITIONS[i])
    return line


def summary(name, layers, trainable, frozen, macs):
    out = ['Model: "%s"' % name, '_' * LINE_LENGTH,
           row(['Layer (type)', 'Output Shape', 'Param #', 'Connected to']),
           '=' * LINE_LENGTH]
    ordered = keras_order(layers)
    for i, l in enumerate(ordered):
        links = ['%s[0][0]' % p for p in l.inputs] or ['']
        # tf.keras 2.x gives an InputLayer's output shape as a list of one shape
        shape = [l.shape] if l.cls == 'InputLayer' else l.shape
        out.append(row(['%s (%s)' % (l.name, l.cls), shape, l.params, links[0]]))
        out.extend(row(['', '', '', link]) for link in links[1:])
        out.append(('=' if i == len(ordered) - 1 else '_') * LINE_LENGTH)
    out += ['Total params: {:,}'.format(trainable + frozen),
            'Trainable params: {:,}'.format(trainable),
            'Non-trainable params: {:,}'.format(frozen),
            '_' * LINE_LENGTH,
            'FLOPs (multiply-adds): {:,}'.format(macs)]
    return '\n'.join(out) + '\n'


# --------------------------------------------------------------------------
# minikeras: the slice of the Keras API that the ResNet code calls


def snake(cls):
    """tf.keras's to_snake_case: Conv2D -> conv2d, MaxPooling2D -> max_pooling2d."""
    s = re.sub('(.)([A-Z][a-z0-9]+)', r'\1_\2', cls)
    return re.sub('([a-z])([A-Z])', r'\1_\2', s).lower()


def out_length(n, k, stride, padding):
    """keras.utils.conv_utils.conv_output_length, dilation 1."""
    n = n - k + 1 if padding == 'valid' else n
    return (n + stride - 1) // stride


def pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


class KTensor:
    def __init__(self, layer, shape):
        self.layer, self.shape = layer, shape      # shape: per image, (h, w, c) or (c,)


class KLayer:
    """A layer: named when created, wired and shaped when called."""
    cls = 'Layer'

    def __init__(self, env, name=None, **ignored):
        self.env = env
        if name is None or not env.keep_names:
            name = env.auto_name(snake(self.cls))
        self.name, self.inputs, self.params, self.frozen, self.macs = name, [], 0, 0, 0

    def __call__(self, x):
        xs = x if isinstance(x, list) else [x]
        self.inputs = [t.layer.name for t in xs]
        self.shape = self.infer(*[t.shape for t in xs])
        self.env.graph.append(self)
        return KTensor(self, self.shape)


class ZeroPadding2D(KLayer):
    cls = 'ZeroPadding2D'

    def __init__(self, env, padding=(1, 1), **kw):
        super().__init__(env, **kw)
        p = padding
        if isinstance(p, int):
            p = ((p, p), (p, p))
        elif isinstance(p[0], int):
            p = ((p[0], p[0]), (p[1], p[1]))
        self.pad = p

    def infer(self, s):
        return (s[0] + sum(self.pad[0]), s[1] + sum(self.pad[1]), s[2])


class Conv2D(KLayer):
    cls = 'Conv2D'

    def __init__(self, env, filters, kernel_size, strides=1, padding='valid', use_bias=True,
                 **kw):
        super().__init__(env, **kw)
        self.filters, self.k, self.s = filters, pair(kernel_size), pair(strides)
        self.padding, self.use_bias = padding.lower(), use_bias

    def infer(self, s):
        h = out_length(s[0], self.k[0], self.s[0], self.padding)
        w = out_length(s[1], self.k[1], self.s[1], self.padding)
        weights = self.k[0] * self.k[1] * s[2] * self.filters
        self.params = weights + (self.filters if self.use_bias else 0)
        self.macs = weights * h * w
        return (h, w, self.filters)


class BatchNormalization(KLayer):
    cls = 'BatchNormalization'

    def infer(self, s):
        self.params, self.frozen = 2 * s[-1], 2 * s[-1]    # gamma, beta | moving mean, var
        return s


class Activation(KLayer):
    cls = 'Activation'

    def __init__(self, env, activation, **kw):
        super().__init__(env, **kw)

    def infer(self, s):
        return s


class Pooling2D(KLayer):
    def __init__(self, env, pool_size=(2, 2), strides=None, padding='valid', **kw):
        super().__init__(env, **kw)
        self.k = pair(pool_size)
        self.s = pair(strides) if strides is not None else self.k
        self.padding = padding.lower()

    def infer(self, s):
        return (out_length(s[0], self.k[0], self.s[0], self.padding),
                out_length(s[1], self.k[1], self.s[1], self.padding), s[2])


class MaxPooling2D(Pooling2D):
    cls = 'MaxPooling2D'


class AveragePooling2D(Pooling2D):
    cls = 'AveragePooling2D'


class Add(KLayer):
    cls = 'Add'

    def infer(self, a, b):
        assert a == b, (self.name, a, b)
        return a


class GlobalAveragePooling2D(KLayer):
    cls = 'GlobalAveragePooling2D'

    def infer(self, s):
        return (s[-1],)


class Flatten(KLayer):
    cls = 'Flatten'

    def infer(self, s):
        return (math.prod(s),)


class Dense(KLayer):
    cls = 'Dense'

    def __init__(self, env, units, activation=None, use_bias=True, **kw):
        super().__init__(env, **kw)
        self.units, self.use_bias = units, use_bias

    def infer(self, s):
        assert len(s) == 1, (self.name, 'Dense on a 4D tensor')
        self.params = s[0] * self.units + (self.units if self.use_bias else 0)
        self.macs = s[0] * self.units
        return (self.units,)


class Dropout(KLayer):
    cls = 'Dropout'

    def __init__(self, env, rate, **kw):
        super().__init__(env, **kw)

    def infer(self, s):
        return s


class InputLayer(KLayer):
    cls = 'InputLayer'

    def __init__(self, env):
        self.env, self.params, self.frozen, self.macs = env, 0, 0, 0


class MiniKeras:
    """One model's worth of Keras: `backend`, `layers`, `models`, `utils`
    objects to hand to keras_applications.  keep_names=False drops every
    name the code gives, as a tutorial that never names its layers."""

    def __init__(self, keep_names=True):
        self.keep_names, self.graph, self.uids = keep_names, [], {}
        self.backend = types.SimpleNamespace(
            image_data_format=lambda: 'channels_last',
            is_keras_tensor=lambda x: isinstance(x, KTensor),
            int_shape=lambda x: (None,) + x.shape)
        classes = [ZeroPadding2D, Conv2D, BatchNormalization, Activation, MaxPooling2D,
                   AveragePooling2D, Add, GlobalAveragePooling2D, Flatten, Dense, Dropout]
        self.layers = types.SimpleNamespace(
            Input=self.input, MaxPool2D=self.bind(MaxPooling2D),
            add=lambda xs: self.bind(Add)()(xs),
            **{c.__name__: self.bind(c) for c in classes})
        self.models = types.SimpleNamespace(Model=self.model)
        self.utils = types.SimpleNamespace()

    def bind(self, cls):
        return lambda *args, **kw: cls(self, *args, **kw)

    def auto_name(self, stem):
        """backend.unique_object_name(..., zero_based=True): stem, stem_1, ..."""
        n = self.uids.get(stem, 0)
        self.uids[stem] = n + 1
        return stem if n == 0 else '%s_%d' % (stem, n)

    def input(self, shape=None, **ignored):
        layer = InputLayer(self)
        layer.name = 'input_%d' % (1 + sum(l.cls == 'InputLayer' for l in self.graph))
        layer.shape, layer.inputs = tuple(shape), []     # Input counts from 1
        self.graph.append(layer)
        return KTensor(layer, layer.shape)

    def model(self, inputs, outputs, name='model'):
        self.name, self.output = name, outputs.layer
        return self

    def kwargs(self):
        return dict(backend=self.backend, layers=self.layers, models=self.models,
                    utils=self.utils)

    def summary_args(self, rename=None):
        """(layers, trainable, frozen, macs) for summary(), in creation order."""
        rename = rename or {}
        names = {l.name: rename.get(l.name, l.name) for l in self.graph}
        layers = [Layer(names[l.name], l.cls, [names[i] for i in l.inputs],
                        (None,) + tuple(l.shape), l.params + l.frozen) for l in self.graph]
        return (layers, sum(l.params for l in self.graph), sum(l.frozen for l in self.graph),
                sum(l.macs for l in self.graph))


# --------------------------------------------------------------------------
# the Keras networks


def applications(fn_name, keep_names=True):
    """A Keras Applications ResNet, from its own source.  tf.keras's copy of
    resnet_common names the classifier `predictions`; keras_applications 1.0.8
    says `probs`."""
    from keras_applications import resnet_common
    k = MiniKeras(keep_names)
    getattr(resnet_common, fn_name)(weights=None, **k.kwargs())
    return k, {'probs': 'predictions'} if keep_names else {}


def tutorial_resnet50():
    """The conv1 + residual_stack tutorial builds Keras Applications' v1
    ResNet-50 (its stem, block and stack functions) without naming a
    layer, and calls Model() without a name."""
    k, _ = applications('ResNet50', keep_names=False)
    k.name = 'model'
    return k, {}


def tutorial_cifar_resnet34():
    """The CIFAR-10 ResNet-34 of identity_block / convolutional_block."""
    k = MiniKeras()
    L = k.layers

    def identity_block(x, filters):
        skip = x
        x = L.Conv2D(filters, (3, 3), padding='same')(x)
        x = L.BatchNormalization(axis=3)(x)
        x = L.Activation('relu')(x)
        x = L.Conv2D(filters, (3, 3), padding='same')(x)
        x = L.BatchNormalization(axis=3)(x)
        x = L.Add()([x, skip])
        return L.Activation('relu')(x)

    def convolutional_block(x, filters):
        skip = x
        x = L.Conv2D(filters, (3, 3), padding='same', strides=(2, 2))(x)
        x = L.BatchNormalization(axis=3)(x)
        x = L.Activation('relu')(x)
        x = L.Conv2D(filters, (3, 3), padding='same')(x)
        x = L.BatchNormalization(axis=3)(x)
        skip = L.Conv2D(filters, (1, 1), strides=(2, 2))(skip)    # no BN on the shortcut
        x = L.Add()([x, skip])
        return L.Activation('relu')(x)

    inputs = L.Input((32, 32, 3))
    x = L.ZeroPadding2D((3, 3))(inputs)
    x = L.Conv2D(64, kernel_size=7, strides=2, padding='same')(x)   # both paddings apply
    x = L.BatchNormalization()(x)
    x = L.Activation('relu')(x)
    x = L.MaxPool2D(pool_size=3, strides=2, padding='same')(x)
    filters = 64
    for stage, blocks in enumerate([3, 4, 6, 3]):
        if stage:
            filters *= 2
            x = convolutional_block(x, filters)
            blocks -= 1
        for _ in range(blocks):
            x = identity_block(x, filters)
    x = L.AveragePooling2D((2, 2), padding='same')(x)
    x = L.Flatten()(x)
    x = L.Dense(512, activation='relu')(x)
    x = L.Dense(10, activation='softmax')(x)
    k.models.Model(inputs=inputs, outputs=x, name='ResNet34')
    return k, {}


def cifar_resnet_v2(k, depth, filters_in=16, classes=10, conv_dropout=None, head=None):
    """The 9n+2 pre-activation ResNet of Keras's examples/cifar10_resnet.py
    (resnet_v2 and its resnet_layer: bottleneck units of BN-ReLU-Conv2D, the
    first unit reusing the stem's BN-ReLU, 1x1 projections from the unit's
    input, created after its branch), on the layers and models of k:
    minikeras here, tkeras in tests/gen_keras_reference.py.  The ResNetV2
    tutorial's build_resnet_model is the same code but for three things
    (TUTORIAL_V2): num_filters_in is 32, not 16; its residual_block, conv
    first, puts a Dropout(0.2) after the activation, so the stem is
    conv-BN-ReLU-Dropout (the projections are conv first too, but have no
    activation and so no dropout); its head puts Dense(512, relu)-BN-
    Dropout(0.5) before the classifier (head=(units, rate))."""
    L = k.layers

    def conv_layer(x, filters, kernel_size=3, strides=1, activation='relu',
                   batch_normalization=True, conv_first=True):
        # made before the BN and ReLU it may follow: the first to take its name
        conv = L.Conv2D(filters, kernel_size=kernel_size, strides=strides, padding='same')
        if conv_first:
            x = conv(x)
            if batch_normalization:
                x = L.BatchNormalization()(x)
            if activation is not None:
                x = L.Activation(activation)(x)
                if conv_dropout is not None:
                    x = L.Dropout(conv_dropout)(x)
            return x
        if batch_normalization:
            x = L.BatchNormalization()(x)
        if activation is not None:
            x = L.Activation(activation)(x)
        return conv(x)

    n = (depth - 2) // 9
    inputs = L.Input((32, 32, 3))
    x = conv_layer(inputs, filters_in)
    for stage in range(3):
        for unit in range(n):
            activation, bn, strides = 'relu', True, 1
            if stage == 0:
                filters_out = filters_in * 4
                if unit == 0:
                    activation, bn = None, False
            else:
                filters_out = filters_in * 2
                if unit == 0:
                    strides = 2
            y = conv_layer(x, filters_in, 1, strides, activation, bn, conv_first=False)
            y = conv_layer(y, filters_in, conv_first=False)
            y = conv_layer(y, filters_out, 1, conv_first=False)
            if unit == 0:
                x = conv_layer(x, filters_out, 1, strides, None, False)
            x = L.add([x, y])
        filters_in = filters_out
    x = L.BatchNormalization()(x)
    x = L.Activation('relu')(x)
    x = L.AveragePooling2D(pool_size=8)(x)
    x = L.Flatten()(x)
    if head:
        units, rate = head
        x = L.Dense(units, activation='relu')(x)
        x = L.BatchNormalization()(x)
        x = L.Dropout(rate)(x)
    x = L.Dense(classes, activation='softmax')(x)
    k.models.Model(inputs=inputs, outputs=x)
    return k


# What the ResNetV2 tutorial changes in cifar10_resnet.py's resnet_v2
TUTORIAL_V2 = dict(filters_in=32, conv_dropout=0.2, head=(512, 0.5))


# golden file -> how it is made; the C side prints the built-in spec of that name
KERAS_GOLDEN = {
    'keras_resnet50': lambda: applications('ResNet50'),
    'keras_resnet50v2': lambda: applications('ResNet50V2'),
    'tutorial_resnet50': tutorial_resnet50,
    'tutorial_cifar_resnet34': tutorial_cifar_resnet34,
    'tutorial_resnetv2_cifar': lambda: (cifar_resnet_v2(MiniKeras(), 56, **TUTORIAL_V2), {}),
    'keras_example_resnetv2_cifar': lambda: (cifar_resnet_v2(MiniKeras(), 56), {}),
}
TORCHVISION_GOLDEN = ['resnet18']


def golden_text(name):
    if name in KERAS_GOLDEN:
        k, rename = KERAS_GOLDEN[name]()
        return summary(k.name, *k.summary_args(rename))
    model = getattr(torchvision.models, name)()
    return summary(name, *keras_layers(model))


def main():
    if sys.argv[1:] == ['--all']:
        here = os.path.dirname(os.path.abspath(__file__))
        for name in TORCHVISION_GOLDEN + list(KERAS_GOLDEN):
            with open(os.path.join(here, name + '.summary.txt'), 'w') as f:
                f.write(golden_text(name))
        return
    sys.stdout.write(golden_text(sys.argv[1] if len(sys.argv) > 1 else 'resnet18'))


if __name__ == '__main__':
    main()
