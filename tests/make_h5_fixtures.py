#!/usr/bin/python3
"""make_h5_fixtures.py -- the committed Keras HDF5 fixtures of tests/test_h5.c.

Writes tiny .h5 files into tests/fixtures/h5/, each a variation that real
Keras weight files show (or a way a file can be broken).  Every good file
holds the same little network, in Keras's layer order:

    input_1  conv1_pad  conv1_conv  conv1_bn  conv1_relu  avg_pool  predictions

with weights (shapes as Keras stores them)

    conv1_conv   kernel [3,3,2,4] (HWIO)   bias [4]
    conv1_bn     gamma, beta, moving_mean, moving_variance [4]
    predictions  kernel [4,3] ([in, out])  bias [3]

Element i (C order) of the weight with seed s is  (s + i/4) * (-1)^i,  which
float16 holds exactly for these sizes; test_h5.c recomputes it.

Good files (vlen and fixed in the file format h5py writes by default, as
Keras files are; nested and split in HDF5 1.10's format, compact groups):
  vlen.h5        save_weights() by h5py 3: variable-length UTF-8 string
                 attributes, layer groups created in sorted order (so the
                 order must come from layer_names), empty float64
                 weight_names on layers without weights
  fixed.h5       tf.keras / Keras 2 style: fixed-length null-padded ('S')
                 attributes, one weight_names null-terminated and one
                 space-padded, a float16 gamma, a float64 kernel, and the
                 final Dense named `probs` (keras-applications 1.0.8)
  nested.h5      model.save(): everything under /model_weights, weight
                 paths with another prefix than the layer name
                 (conv1_conv_1/kernel:0), a big-endian float32 dataset
  split.h5       layer_names split into layer_names0/1 and conv1_bn's
                 weight_names into weight_names0/1 (HDF5_OBJECT_HEADER_LIMIT
                 chunking), Keras 3 names without ':0', and a
                 top_level_model_weights group that is not a layer

Broken files (bad/): not HDF5, truncated, a missing dataset or group, an
integer dataset, no layer_names, 5 dimensions, 16 TiB declared, a dataset
never written, a NaN, integer layer_names, a duplicate layer, a control
character in a name, an external link.  Each must give one error naming
the file and the item.

Objects are written without timestamps, so rerunning the script leaves git
clean.  Run with the Debian python (h5py, numpy):
    /usr/bin/python3 tests/make_h5_fixtures.py
"""
import os

import h5py
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "h5")
BAD = os.path.join(OUT, "bad")

LAYERS = ["input_1", "conv1_pad", "conv1_conv", "conv1_bn", "conv1_relu",
          "avg_pool", "predictions"]
# layer -> [(leaf, shape, seed)]; the leaf gets a "layer/" prefix and ":0".
WEIGHTS = {
    "conv1_conv": [("kernel", (3, 3, 2, 4), 10), ("bias", (4,), 20)],
    "conv1_bn": [("gamma", (4,), 30), ("beta", (4,), 40),
                 ("moving_mean", (4,), 50), ("moving_variance", (4,), 60)],
    "predictions": [("kernel", (4, 3), 70), ("bias", (3,), 80)],
}


def values(shape, seed, dtype="<f4"):
    i = np.arange(int(np.prod(shape)), dtype=np.float64)
    v = (seed + i / 4) * np.where(i % 2 == 0, 1.0, -1.0)
    return v.reshape(shape).astype(dtype)


def fixed(strings):
    """Keras 2's np.asarray(list of bytes): fixed-length, null-padded."""
    return np.asarray([s.encode() for s in strings])


def string_attr(obj, name, strings, pad):
    """A fixed-length string attribute with the given padding (h5py's
    high-level API only writes null-padded ones)."""
    size = max(len(s) for s in strings) + (pad == h5py.h5t.STR_NULLTERM)
    t = h5py.h5t.C_S1.copy()
    t.set_size(size)
    t.set_strpad(pad)
    fill = b" " if pad == h5py.h5t.STR_SPACEPAD else b"\0"
    data = np.array([s.encode().ljust(size, fill) for s in strings], dtype="S%d" % size)
    space = h5py.h5s.create_simple((len(strings),))
    a = h5py.h5a.create(obj.id, name.encode(), t, space)
    a.write(data, mtype=t)


def h5file(path, latest=False):
    """A new file whose objects carry no timestamps, so reruns give the same
    bytes.  latest: HDF5 1.10's compact groups (smaller; h5py's
    libver="latest"), else the default format Keras files have."""
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_obj_track_times(False)
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    low = h5py.h5f.LIBVER_LATEST if latest else h5py.h5f.LIBVER_EARLIEST
    fapl.set_libver_bounds(low, h5py.h5f.LIBVER_LATEST)
    return h5py.File(h5py.h5f.create(path.encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl, fapl=fapl))


def group(parent, path):
    """parent[path], creating every missing group on the way without times."""
    for part in path.split("/"):
        if part not in parent:
            gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
            gcpl.set_obj_track_times(False)
            h5py.h5g.create(parent.id, part.encode(), gcpl=gcpl)
        parent = parent[part]
    return parent


def dataset(parent, path, **kw):
    """A dataset at a path relative to parent, as Keras's create_dataset."""
    head, _, leaf = path.rpartition("/")
    return (group(parent, head) if head else parent).create_dataset(leaf, track_times=False, **kw)


def write_net(root, names=None, attr=lambda xs: xs, layer_names=None,
              weight_name=lambda layer, leaf: "%s/%s:0" % (layer, leaf),
              dtypes=None, rename=None):
    """One Keras save_weights_to_hdf5_group() into `root`."""
    names = names or {}
    dtypes = dtypes or {}
    rename = rename or {}
    order = [rename.get(n, n) for n in LAYERS]
    if layer_names is None:
        root.attrs["layer_names"] = attr(order)
    else:
        layer_names(root, order)
    for layer in sorted(LAYERS, key=lambda n: rename.get(n, n)):
        g = group(root, rename.get(layer, layer))
        ws = WEIGHTS.get(layer, [])
        wnames = [weight_name(layer, leaf) for leaf, _, _ in ws]
        if layer in names:
            names[layer](g, wnames)
        elif wnames:
            g.attrs["weight_names"] = attr(wnames)
        else:
            g.attrs["weight_names"] = np.zeros((0,))
        for wn, (leaf, shape, seed) in zip(wnames, ws):
            dataset(g, wn, data=values(shape, seed, dtypes.get((layer, leaf), "<f4")))


def good():
    with h5file(os.path.join(OUT, "vlen.h5")) as f:
        f.attrs["backend"] = "tensorflow"
        f.attrs["keras_version"] = "2.4.0"
        write_net(f)

    with h5file(os.path.join(OUT, "fixed.h5")) as f:
        f.attrs["backend"] = np.bytes_(b"tensorflow")
        f.attrs["keras_version"] = np.bytes_(b"2.2.4")
        names = {
            "conv1_conv": lambda g, w: string_attr(g, "weight_names", w, h5py.h5t.STR_NULLTERM),
            "conv1_bn": lambda g, w: string_attr(g, "weight_names", w, h5py.h5t.STR_SPACEPAD),
        }
        write_net(f, names=names, attr=fixed, rename={"predictions": "probs"},
                  dtypes={("conv1_bn", "gamma"): "<f2", ("predictions", "kernel"): "<f8"},
                  weight_name=lambda layer, leaf: "%s/%s:0" % ("probs" if layer == "predictions"
                                                              else layer, leaf))

    with h5file(os.path.join(OUT, "nested.h5"), latest=True) as f:
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.3.1"
        f.attrs["model_config"] = b'{"class_name": "Model", "config": {"name": "mini"}}'
        mw = group(f, "model_weights")
        mw.attrs["backend"] = b"tensorflow"
        mw.attrs["keras_version"] = b"2.3.1"
        write_net(mw, attr=fixed, dtypes={("conv1_conv", "bias"): ">f4"},
                  weight_name=lambda layer, leaf: "%s_1/%s:0" % (layer, leaf))
        opt = group(f, "optimizer_weights")
        opt.attrs["weight_names"] = fixed(["iter:0"])
        dataset(opt, "iter:0", data=np.int64(7))

    with h5file(os.path.join(OUT, "split.h5"), latest=True) as f:
        def split(obj, name, strings, at):
            obj.attrs[name + "0"] = fixed(strings[:at])
            obj.attrs[name + "1"] = fixed(strings[at:])
        f.attrs["backend"] = np.bytes_(b"jax")
        f.attrs["keras_version"] = np.bytes_(b"3.3.3")
        write_net(f, layer_names=lambda root, order: split(root, "layer_names", order, 4),
                  names={"conv1_bn": lambda g, w: split(g, "weight_names", w, 2)},
                  weight_name=lambda layer, leaf: "%s/%s" % (layer, leaf))
        top = group(f, "top_level_model_weights")
        top.attrs["weight_names"] = np.zeros((0,))


def bad():
    """Small files broken one way each: libver latest (compact groups) and
    fixed-length strings (a variable-length one costs a 4 KiB global heap)."""
    def new(name):
        return h5file(os.path.join(BAD, name), latest=True)

    def layer(f, name, weights):
        g = group(f, name)
        g.attrs["weight_names"] = fixed([w for w, _ in weights]) if weights else np.zeros((0,))
        for w, data in weights:
            if data is not None:
                dataset(g, w, data=data)
        return g

    with open(os.path.join(BAD, "not_hdf5.h5"), "wb") as fp:
        fp.write(b"this is a text file, not an HDF5 file\n" * 4)

    with open(os.path.join(OUT, "nested.h5"), "rb") as fp:
        whole = fp.read()
    with open(os.path.join(BAD, "truncated.h5"), "wb") as fp:
        fp.write(whole[: len(whole) * 2 // 3])

    kernel = values((1, 1, 2, 4), 10)
    with new("missing_dataset.h5") as f:
        f.attrs["layer_names"] = fixed(["conv1_conv"])
        layer(f, "conv1_conv", [("conv1_conv/kernel:0", kernel), ("conv1_conv/bias:0", None)])

    with new("int_dataset.h5") as f:
        f.attrs["layer_names"] = fixed(["conv1_conv", "conv1_bn"])
        layer(f, "conv1_conv", [("conv1_conv/kernel:0", kernel)])
        layer(f, "conv1_bn", [("conv1_bn/gamma:0", values((4,), 30)),
                              ("conv1_bn/moving_variance:0", np.arange(4, dtype=np.int32))])

    with new("no_layer_names.h5") as f:
        f.attrs["keras_version"] = np.bytes_(b"2.4.0")
        layer(f, "conv1_conv", [("conv1_conv/kernel:0", kernel)])

    with new("missing_group.h5") as f:
        f.attrs["layer_names"] = fixed(["conv1_conv", "conv1_bn"])
        layer(f, "conv1_conv", [("conv1_conv/kernel:0", kernel)])

    with new("five_dims.h5") as f:
        f.attrs["layer_names"] = fixed(["conv3d"])
        layer(f, "conv3d", [("conv3d/kernel:0", np.zeros((1, 1, 1, 1, 2), "<f4"))])

    with new("huge.h5") as f:
        # 2^42 floats (16 TiB) declared, no chunk ever written: a few bytes.
        f.attrs["layer_names"] = fixed(["predictions"])
        g = layer(f, "predictions", [])
        g.attrs["weight_names"] = fixed(["predictions/kernel:0"])
        dataset(g, "predictions/kernel:0", shape=(1 << 21, 1 << 21), dtype="<f4",
                chunks=(1, 1024))

    with new("unwritten.h5") as f:
        f.attrs["layer_names"] = fixed(["conv1_bn"])
        g = layer(f, "conv1_bn", [])
        g.attrs["weight_names"] = fixed(["conv1_bn/gamma:0"])
        dataset(g, "conv1_bn/gamma:0", shape=(4,), dtype="<f4")

    with new("nan.h5") as f:
        f.attrs["layer_names"] = fixed(["conv1_bn"])
        layer(f, "conv1_bn", [("conv1_bn/moving_variance:0",
                               np.array([1, 1, np.nan, 1], dtype="<f4"))])

    with new("int_layer_names.h5") as f:
        f.attrs["layer_names"] = np.arange(3, dtype=np.int32)

    with new("duplicate_layer.h5") as f:
        f.attrs["layer_names"] = fixed(["conv1_conv", "conv1_conv"])
        layer(f, "conv1_conv", [("conv1_conv/kernel:0", kernel)])

    with new("control_char.h5") as f:
        f.attrs["layer_names"] = fixed(["conv1\nconv"])
        layer(f, "conv1\nconv", [])

    with new("external_link.h5") as f:
        f.attrs["layer_names"] = fixed(["conv1_conv"])
        g = group(f, "conv1_conv")
        g.attrs["weight_names"] = fixed(["kernel:0"])
        g["kernel:0"] = h5py.ExternalLink("../vlen.h5", "/conv1_conv/conv1_conv/kernel:0")


def main():
    os.makedirs(BAD, exist_ok=True)
    good()
    bad()


if __name__ == "__main__":
    main()
