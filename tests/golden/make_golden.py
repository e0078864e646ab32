#!/usr/bin/python3
"""make_golden.py -- the expected `resnet summary` text, by a second route.

    /usr/bin/python3 tests/golden/make_golden.py resnet18 > tests/golden/resnet18.summary.txt

src/net.c + src/summary.c derive the table from the JSON spec in C.  This
script shares none of that: it takes torchvision's own model, runs one image
through it with hooks to read every module's output shape, names the modules
the way Keras Applications names its ResNet layers (with a ZeroPadding2D
wherever torchvision pads a convolution or pool), orders them as Keras's
functional Model orders its layers (keras/engine/network.py,
_map_graph_network), and lays the table out as Keras 2.3 / tf.keras 2.x
print_summary() does (keras/utils/layer_utils.py).  tests/test_summary.c then
compares the two byte for byte.
"""
import sys

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


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else 'resnet18'
    model = getattr(torchvision.models, name)()
    sys.stdout.write(summary(name, *keras_layers(model)))


if __name__ == '__main__':
    main()
