"""pil_reference.py -- the input tensor as the reference libraries make it.

torchvision and timm evaluate on PIL images:
    Compose([Resize(resize, interp), CenterCrop(crop), ToTensor(), Normalize(mean, std)])
on ImageOps.exif_transpose(Image.open(f)).convert('RGB'); Keras's
load_img(target_size=(h, w), interpolation=...) resizes the same PIL image
straight to the input size, then preprocess_input ("caffe": BGR minus the
ImageNet means; "tf": x / 127.5 - 1).  resnet must give these tensors.

By default resnet decodes a JPEG at least twice the resize target as
Pillow does after Image.draft('RGB', target) -- the target being the
resize's output size, upright -- so `draft=True` asks Pillow for the same;
draft=False is plain torchvision (resnet classify --full-decode).

Imported by the test generators (run with the Debian python).
"""
import numpy as np
import torch
import torchvision.transforms as T
from PIL import Image, ImageOps
from torchvision.transforms import InterpolationMode

CAFFE_MEAN = np.array([103.939, 116.779, 123.68], dtype=np.float32)   # BGR
PIL_FILTERS = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC, "nearest": Image.NEAREST}
TV_MODES = {"bilinear": InterpolationMode.BILINEAR, "bicubic": InterpolationMode.BICUBIC,
            "nearest": InterpolationMode.NEAREST}
ORIENT_TAG = 0x0112


def resized_size(w, h, shorter):
    """torchvision's _compute_resized_output_size for Resize(shorter)."""
    short, long = (w, h) if w <= h else (h, w)
    if short == shorter:
        return w, h
    new_long = int(shorter * long / short)
    return (shorter, new_long) if w <= h else (new_long, shorter)


def interp_of(pre):
    fit = pre.get("fit", "crop")
    return pre.get("interpolation", "nearest" if fit == "stretch" else "bilinear")


def open_rgb(src, pre=None, h=None, w=None, draft=True):
    """The upright RGB image: a path (drafted for the resize when it is a
    JPEG and draft is true) or a PIL image (used as it is)."""
    if isinstance(src, Image.Image):
        return src.convert("RGB")
    im = Image.open(src)
    if draft and im.format == "JPEG" and pre is not None:
        turned = im.getexif().get(ORIENT_TAG, 1) in (5, 6, 7, 8)
        up_w, up_h = (im.size[1], im.size[0]) if turned else im.size
        if pre.get("fit", "crop") == "stretch":
            target = (w, h)
        elif pre.get("resize", 0):
            target = resized_size(up_w, up_h, pre["resize"])
        else:
            target = None
        if target:
            im.draft("RGB", (target[1], target[0]) if turned else target)
    return ImageOps.exif_transpose(im).convert("RGB")


def pil_tensor(src, pre, h, w, draft=True):
    """[3, h, w] float32, in the network's channel order (BGR for "caffe")."""
    im = open_rgb(src, pre, h, w, draft)
    interp = interp_of(pre)
    if pre.get("fit", "crop") == "stretch":
        if im.size != (w, h):
            im = im.resize((w, h), PIL_FILTERS[interp])
    else:
        if pre.get("resize", 0):
            im = T.Resize(pre["resize"], interpolation=TV_MODES[interp])(im)
        im = T.CenterCrop([h, w])(im)
    mode = pre.get("mode", "torch")
    if mode == "torch":
        t = T.ToTensor()(im)
        return T.Normalize(pre.get("mean", [0.0] * 3), pre.get("std", [1.0] * 3))(t)
    x = np.asarray(im, dtype=np.float32).copy()
    if mode == "caffe":
        x = x[..., ::-1] - CAFFE_MEAN
    else:                                   # "tf"
        x /= np.float32(127.5)
        x -= np.float32(1.0)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))
