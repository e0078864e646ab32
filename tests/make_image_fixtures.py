#!/usr/bin/python3
"""make_image_fixtures.py -- the committed fixtures of tests/test_image.c.

Writes into tests/images/:

  decode.txt       one line per good image: file width height tolerance
  <stem>.rgb       what Pillow decodes it to (convert('RGB')): raw u8 [h][w][3]
  bad.txt          one line per bad file: file word-the-error-must-contain
  bad/*            truncated, empty, corrupt and oversized files
  tensor.txt       one line per preprocessing case:
                   stem input width height resize out_h out_w mean0 mean1 mean2 std0 std1 std2
                   interpolation (bilinear, bicubic, nearest)
  <stem>.u8        its input pixels, raw u8 [h][w][3], when input is "u8"; input
                   "hash" means pixels too large to commit, made by hash_pixels()
                   here and by its twin in the C test
  <stem>.f32       torchvision's output for it on the PIL image (Resize,
                   CenterCrop, ToTensor, Normalize), little-endian f32 [3][out_h][out_w]

PNGs are written by the small encoder below rather than by Pillow, because
Pillow cannot write 16-bit RGB, low bit depths of every colour type, or Adam7
interlacing; Pillow still decodes them for the expected pixels, so the C
decoder is checked against an independent reader.  JPEGs come from Pillow,
which on Debian uses the same libjpeg-turbo as the C code.

Run with the Debian python (PIL, numpy, torch, torchvision):
    /usr/bin/python3 tests/make_image_fixtures.py
The output is deterministic, so rerunning it leaves git clean.
"""
import io
import os
import struct
import warnings
import zlib

import numpy as np
import torch
from PIL import Image

from pil_reference import pil_tensor

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "images")
rng = np.random.default_rng(20240611)


# --- a minimal PNG encoder ---------------------------------------------------

def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def pack_row(samples, depth):
    """One scanline of samples (1-D, already interleaved) as PNG bytes."""
    if depth == 16:
        return samples.astype(">u2").tobytes()
    if depth == 8:
        return samples.astype(np.uint8).tobytes()
    per_byte = 8 // depth
    padded = np.zeros(-(-len(samples) // per_byte) * per_byte, dtype=np.uint8)
    padded[: len(samples)] = samples
    padded = padded.reshape(-1, per_byte)
    out = np.zeros(len(padded), dtype=np.uint8)
    for i in range(per_byte):   # most significant bits first
        out |= padded[:, i] << (8 - depth * (i + 1))
    return out.tobytes()


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_row(kind, row, prev, bpp):
    """Apply PNG filter `kind` so the decoder exercises all five."""
    out = bytearray(len(row))
    for i, x in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][kind]
        out[i] = (x - pred) & 0xFF
    return bytes([kind]) + bytes(out)


def scanlines(pix, depth):
    """pix: [h][w][channels] samples -> filtered bytes of one (sub)image."""
    h, w, ch = pix.shape
    bpp = max(1, ch * depth // 8)
    prev = bytes(len(pack_row(pix[0].reshape(-1), depth))) if h else b""
    out = b""
    for y in range(h):
        row = pack_row(pix[y].reshape(-1), depth)
        out += filter_row(y % 5, row, prev, bpp)
        prev = row
    return out


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
         (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def encode_png(pix, depth, color_type, palette=None, trns=None, interlace=False,
               iend=True):
    """pix: [h][w][channels] integer samples (palette indices for type 3)."""
    h, w, _ = pix.shape
    if interlace:
        raw = b""
        for x0, y0, dx, dy in ADAM7:
            sub = pix[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                raw += scanlines(sub, depth)
    else:
        raw = scanlines(pix, depth)
    png = b"\x89PNG\r\n\x1a\n"
    png += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0,
                                      1 if interlace else 0))
    if palette is not None:
        png += chunk(b"PLTE", bytes(np.asarray(palette, dtype=np.uint8).reshape(-1)))
    if trns is not None:
        png += chunk(b"tRNS", trns)
    z = zlib.compress(raw, 9)
    # Two IDAT chunks, so the decoder has to cross a chunk boundary.
    png += chunk(b"IDAT", z[: len(z) // 2]) + chunk(b"IDAT", z[len(z) // 2:])
    if iend:
        png += chunk(b"IEND", b"")
    return png


# --- writing -----------------------------------------------------------------

def write(name, data):
    path = os.path.join(OUT, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def pil_rgb(data):
    with warnings.catch_warnings():
        # Pillow suggests RGBA for palette+tRNS; the C decoder drops alpha too.
        warnings.simplefilter("ignore")
        im = Image.open(io.BytesIO(data))
        im.load()
        return im, np.asarray(im.convert("RGB"), dtype=np.uint8)


def good(manifest, name, data, expected, tol=0):
    write(name, data)
    write(name.rsplit(".", 1)[0] + ".rgb", np.ascontiguousarray(expected).tobytes())
    h, w, _ = expected.shape
    manifest.append(f"{name} {w} {h} {tol}")


def png_cases(manifest):
    w, h = 13, 11   # odd, and not a multiple of 8: partial bytes and Adam7 gaps
    def samples(depth, ch):
        return rng.integers(0, 1 << depth, size=(h, w, ch), dtype=np.int64)

    cases = []
    for depth in (1, 2, 4, 8, 16):
        cases.append((f"png_gray{depth}.png", samples(depth, 1), depth, 0, {}))
    cases += [
        ("png_gray8_trns.png", samples(8, 1), 8, 0, {"trns": struct.pack(">H", 7)}),
        ("png_graya8.png", samples(8, 2), 8, 4, {}),
        ("png_graya16.png", samples(16, 2), 16, 4, {}),
        ("png_rgb8.png", samples(8, 3), 8, 2, {}),
        ("png_rgb8_trns.png", samples(8, 3), 8, 2, {"trns": struct.pack(">HHH", 1, 2, 3)}),
        ("png_rgb16.png", samples(16, 3), 16, 2, {}),
        ("png_rgba8.png", samples(8, 4), 8, 6, {}),
        ("png_rgba16.png", samples(16, 4), 16, 6, {}),
        ("png_rgb8_interlaced.png", samples(8, 3), 8, 2, {"interlace": True}),
        ("png_gray1_interlaced.png", samples(1, 1), 1, 0, {"interlace": True}),
        ("png_rgba16_interlaced.png", samples(16, 4), 16, 6, {"interlace": True}),
    ]
    for depth in (1, 2, 4, 8):
        n = 1 << depth
        pal = rng.integers(0, 256, size=(n, 3))
        cases.append((f"png_pal{depth}.png", samples(depth, 1), depth, 3, {"palette": pal}))
    pal = rng.integers(0, 256, size=(16, 3))
    trns = bytes(rng.integers(0, 256, size=9, dtype=np.uint8))   # shorter than PLTE
    cases.append(("png_pal4_trns.png", samples(4, 1), 4, 3, {"palette": pal, "trns": trns}))
    cases.append(("png_pal8_interlaced_trns.png", samples(8, 1), 8, 3,
                  {"palette": rng.integers(0, 256, size=(256, 3)),
                   "trns": bytes(rng.integers(0, 256, size=256, dtype=np.uint8)),
                   "interlace": True}))

    for name, pix, depth, ctype, opts in cases:
        data = encode_png(pix, depth, ctype, **opts)
        im, rgb = pil_rgb(data)
        if depth == 16:
            # Pillow keeps the high byte of 16-bit RGB/RGBA/LA samples, as the
            # C decoder does; check that against the source samples ...
            hi = (pix >> 8).astype(np.uint8)
            if ctype == 0:
                # ... but it opens 16-bit grey as mode "I" and clips that to
                # 255 on convert('RGB'), so its expectation is built here.
                assert im.mode == "I" and (np.asarray(im) == pix[..., 0]).all()
                rgb = np.repeat(hi, 3, axis=2)
            else:
                grey = hi[..., :1] if ctype == 4 else hi[..., :3]
                assert (rgb == np.broadcast_to(grey, rgb.shape)).all(), name
        good(manifest, name, data, rgb)

    # All pixels present but no IEND: accepted, as Pillow accepts it.
    data = encode_png(samples(8, 3), 8, 2, iend=False)
    good(manifest, "png_rgb8_noiend.png", data, pil_rgb(data)[1])


def photo(w, h, channels=3):
    """A smooth picture with some texture: what JPEG is made for."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    base = []
    for c in range(channels):
        fx, fy, ph = rng.uniform(0.05, 0.3), rng.uniform(0.05, 0.3), rng.uniform(0, 6)
        base.append(128 + 90 * np.sin(fx * x + ph) * np.cos(fy * y))
    pix = np.stack(base, axis=-1) + rng.normal(0, 12, size=(h, w, channels))
    return np.clip(pix, 0, 255).astype(np.uint8)


def jpeg_cases(manifest):
    w, h = 27, 21   # odd: chroma subsampling has partial blocks at both edges
    jpegs = {
        "jpg_baseline420.jpg": (Image.fromarray(photo(w, h)), {"quality": 90}),
        "jpg_baseline422.jpg": (Image.fromarray(photo(w, h)), {"quality": 85, "subsampling": 1}),
        "jpg_baseline444.jpg": (Image.fromarray(photo(w, h)), {"quality": 95, "subsampling": 0}),
        "jpg_progressive.jpg": (Image.fromarray(photo(w, h)), {"quality": 90, "progressive": True}),
        "jpg_gray.jpg": (Image.fromarray(photo(w, h, 1)[..., 0], "L"), {"quality": 90}),
        "jpg_gray_progressive.jpg": (Image.fromarray(photo(w, h, 1)[..., 0], "L"),
                                     {"quality": 90, "progressive": True}),
        # Pillow writes CMYK inverted with an Adobe marker, as Photoshop does.
        "jpg_cmyk.jpg": (Image.frombytes("CMYK", (w, h), photo(w, h, 4).tobytes()), {"quality": 90}),
    }
    out = {}
    for name, (im, opts) in jpegs.items():
        b = io.BytesIO()
        im.save(b, "JPEG", **opts)
        data = b.getvalue()
        good(manifest, name, data, pil_rgb(data)[1])
        out[name] = data
    return out


def bad_cases(jpegs):
    pngdata = open(os.path.join(OUT, "png_rgb8.png"), "rb").read()
    base = jpegs["jpg_baseline420.jpg"]
    prog = jpegs["jpg_progressive.jpg"]
    bad = []

    def add(name, data, word):
        write("bad/" + name, data)
        bad.append(f"bad/{name} {word}")

    add("truncated.jpg", base[: len(base) * 6 // 10], "truncated")
    add("truncated_progressive.jpg", prog[: len(prog) * 6 // 10], "truncated")
    add("no_eoi.jpg", base[:-2], "truncated")
    add("header_only.jpg", base[:200], "truncated")
    add("truncated.png", pngdata[: len(pngdata) * 6 // 10], "truncated")
    add("empty.jpg", b"", "empty")
    add("text.jpg", b"This is a text file, not a photo.\n", "not a JPEG or PNG")
    add("image.gif", b"GIF89a" + bytes(40), "GIF")
    add("garbage.png", b"\x89PNG\r\n\x1a\n" + bytes(rng.integers(0, 256, 200, dtype=np.uint8)), "PNG")
    # One flipped bit in the first IDAT's CRC: the data inflates, the check fails.
    idat = pngdata.index(b"IDAT")
    crc_at = idat + 4 + struct.unpack(">I", pngdata[idat - 4: idat])[0]
    flipped = bytearray(pngdata)
    flipped[crc_at] ^= 0x10
    add("bad_crc.png", bytes(flipped), "CRC")
    # One flipped bit in the compressed data, with its CRC made to match.
    length = struct.unpack(">I", pngdata[idat - 4: idat])[0]
    body = bytearray(pngdata[idat: idat + 4 + length])
    body[12] ^= 0x10
    add("bad_zlib.png", pngdata[: idat - 4] + chunk(bytes(body[:4]), bytes(body[4:]))
        + pngdata[idat + 8 + length:], "PNG error")
    # Headers that claim more pixels than the limit, then a little pixel data.
    add("huge.png", b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 12000, 10000, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(bytes(100))) + chunk(b"IEND", b""), "too large")
    sof = base.index(b"\xff\xc0")
    huge = bytearray(base)
    huge[sof + 5: sof + 9] = struct.pack(">HH", 10000, 12000)   # height, width
    add("huge.jpg", bytes(huge), "too large")
    return bad


# --- preprocessing references ------------------------------------------------

IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
CIFAR = ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))

# stem, width, height, resize, out_h, out_w, (mean, std); "hash_" stems use hash_pixels()
TENSOR_CASES = [
    ("t_down", 40, 30, 16, 14, 14, IMAGENET, "bilinear"),        # 40x30 -> 21x16, crop left 3.5 -> 4
    ("t_up", 10, 8, 20, 18, 18, IMAGENET, "bilinear"),           # 10x8 -> 25x20
    ("t_portrait", 23, 41, 16, 20, 12, CIFAR, "bilinear"),       # non-square input and crop
    ("t_odd_offset", 37, 29, 24, 19, 19, IMAGENET, "bilinear"),  # offsets 2.5 -> 2 and 5.5 -> 6
    ("t_big_factor", 49, 31, 5, 5, 5, IMAGENET, "bilinear"),     # shrink by 6.2: wide filter
    ("t_same_short", 30, 16, 16, 14, 14, IMAGENET, "bilinear"),  # shorter side already 16: no resize
    ("t_pad", 12, 9, 8, 11, 11, IMAGENET, "bilinear"),           # 10x8 is smaller than the crop
    ("t_no_resize", 20, 12, 0, 16, 16, IMAGENET, "bilinear"),    # resize 0: crop and pad only
    # bicubic: negative lobes, values clamped to 0..255 after each pass
    ("t_down_bicubic", 40, 30, 16, 14, 14, IMAGENET, "bicubic"),
    ("t_up_bicubic", 10, 8, 20, 18, 18, IMAGENET, "bicubic"),
    ("t_big_factor_bicubic", 49, 31, 5, 5, 5, IMAGENET, "bicubic"),
    ("t_odd_offset_nearest", 37, 29, 24, 19, 19, IMAGENET, "nearest"),
    ("t_up_nearest", 10, 8, 20, 18, 18, IMAGENET, "nearest"),
    # Near scale 1 at 2000 pixels every filter centre sits between two
    # pixels in its own way: one wrong rounding of a tap shows.
    ("hash_near_one", 2000, 1999, 1998, 16, 16, IMAGENET, "bilinear"),
    ("hash_near_one_bicubic", 2000, 1999, 1998, 16, 16, IMAGENET, "bicubic"),
]


def hash_pixels(w, h):
    """[h][w][3] u8 noise from coordinates: uint32 maths, as in test_image.c."""
    y, x, c = np.meshgrid(np.arange(h, dtype=np.uint64), np.arange(w, dtype=np.uint64),
                          np.arange(3, dtype=np.uint64), indexing="ij")
    v = (x * np.uint64(73856093)) ^ (y * np.uint64(19349663)) ^ (c * np.uint64(83492791))
    v = (v * np.uint64(2654435761)) & np.uint64(0xFFFFFFFF)
    return (v >> np.uint64(24)).astype(np.uint8)


def tensor_cases():
    lines = []
    for stem, w, h, resize, oh, ow, (mean, std), interp in TENSOR_CASES:
        hashed = stem.startswith("hash_")
        pix = hash_pixels(w, h) if hashed else photo(w, h)
        pre = {"resize": resize, "mean": list(mean), "std": list(std), "interpolation": interp}
        x = pil_tensor(Image.fromarray(pix), pre, oh, ow)
        assert x.shape == (3, oh, ow) and x.dtype == torch.float32
        if not hashed:
            write(stem + ".u8", pix.tobytes())
        write(stem + ".f32", x.numpy().astype("<f4").tobytes())
        lines.append(f"{stem} {'hash' if hashed else 'u8'} {w} {h} {resize} {oh} {ow} "
                     + " ".join(repr(v) for v in mean + std) + f" {interp}")
    return lines


def main():
    os.makedirs(OUT, exist_ok=True)
    decode = []
    png_cases(decode)
    jpegs = jpeg_cases(decode)
    bad = bad_cases(jpegs)
    tensors = tensor_cases()
    header = "# written by tests/make_image_fixtures.py -- do not edit\n"
    write("decode.txt", (header + "# file width height tolerance\n"
                         + "\n".join(decode) + "\n").encode())
    write("bad.txt", (header + "# file word-the-error-must-contain\n"
                      + "\n".join(bad) + "\n").encode())
    write("tensor.txt", (header + "# stem input width height resize out_h out_w mean[3] std[3] interpolation\n"
                         + "\n".join(tensors) + "\n").encode())


if __name__ == "__main__":
    main()
