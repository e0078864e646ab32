#!/usr/bin/python3
"""make_photo_fixtures.py -- real photographs, EXIF orientations and fuzz seeds.

Writes:

  tests/images/exif/    the 8 EXIF orientations of one photo, as JPEG (APP1)
                        and PNG (eXIf), plus damaged and odd EXIF, and one
                        larger sideways JPEG for libjpeg-turbo's scaled decoding.
                        exif.txt lists the cases for tests/test_image.c:
                          file shorter width height expected.rgb|-
                        where expected.rgb is what Pillow gives,
                        ImageOps.exif_transpose(im).convert('RGB') (after
                        im.draft() for a scaled JPEG), raw u8 [h][w][3].
  tests/images/mixed/   one directory of what a user's photo folder holds:
                        ok_* are real photographs of many sizes, orientations
                        and colour types that must be classified; bad_* are
                        truncated, empty, non-image, corrupt and huge-header
                        files that must each be reported (tests/test_pipeline.sh).
  tests/fuzz/seeds/     the seed corpora of the libFuzzer harnesses (make fuzz).

The photos are the scikit-image sample images that Debian ships in
python3-skimage (public domain or CC0, see skimage/data/README.txt there),
downscaled and re-encoded so that everything committed stays small.

Run with the Debian python (PIL, numpy, python3-skimage):
    /usr/bin/python3 tests/make_photo_fixtures.py
The output is deterministic, so rerunning it leaves git clean.
"""
import io
import json
import os
import shutil
import struct
import sys
import warnings
import zlib

import numpy as np
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXIF_DIR = os.path.join(HERE, "images", "exif")
MIXED_DIR = os.path.join(HERE, "images", "mixed")
SEEDS_DIR = os.path.join(HERE, "fuzz", "seeds")

try:
    import skimage
except ImportError:
    sys.exit("make_photo_fixtures.py needs python3-skimage (apt-get install python3-skimage): "
             "its sample photographs are the source of these fixtures")
PHOTOS = os.path.join(os.path.dirname(skimage.__file__), "data")

# The PNG encoder of the decoder fixtures: Pillow cannot write Adam7
# interlacing or 16-bit RGB.
sys.path.insert(0, HERE)
from make_image_fixtures import encode_png, chunk  # noqa: E402


def photo(name, size=None, mode="RGB"):
    im = Image.open(os.path.join(PHOTOS, name))
    im.load()
    im = im.convert(mode)
    im.info = {}   # no ICC profile or text chunks copied into the fixtures
    if size:
        im = im.resize(size, Image.LANCZOS)
    return im


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def fresh(path):
    """Empty a generated directory, so renamed cases leave nothing behind."""
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)


# --- EXIF ----------------------------------------------------------------------

# What to do to an upright picture so that orientation o turns it upright
# again: the inverse of the transposition exif_transpose applies.
STORE = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,    # exif_transpose rotates 270 back
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def tiff(orientation, big_endian, ifd_offset=8, extra_tags=True):
    """A TIFF structure whose IFD0 holds Make, Orientation and XResolution,
    as a camera writes them; Orientation is not the first entry, so the
    reader has to walk the IFD."""
    e = ">" if big_endian else "<"
    make = b"resnet test\0"
    entries = []
    if extra_tags:
        entries.append((0x010F, 2, len(make), None))   # Make, ASCII, out of line
    entries.append((0x0112, 3, 1, orientation))        # Orientation, SHORT
    if extra_tags:
        entries.append((0x011A, 5, 1, None))           # XResolution, RATIONAL, out of line
    n = len(entries)
    data_at = ifd_offset + 2 + 12 * n + 4
    head = (b"MM" if big_endian else b"II") + struct.pack(e + "HI", 42, ifd_offset)
    ifd = struct.pack(e + "H", n)
    tail = b""
    for tag, typ, count, value in entries:
        if tag == 0x010F:
            ifd += struct.pack(e + "HHII", tag, typ, count, data_at + len(tail))
            tail += make
        elif tag == 0x011A:
            ifd += struct.pack(e + "HHII", tag, typ, count, data_at + len(tail))
            tail += struct.pack(e + "II", 72, 1)
        else:   # a SHORT sits left-justified in the 4-byte value field
            ifd += struct.pack(e + "HHIH", tag, typ, count, value) + b"\0\0"
    ifd += struct.pack(e + "I", 0)   # no IFD1
    return head + bytes(ifd_offset - 8) + ifd + tail


def jpeg_bytes(im, exif=None, **kw):
    out = io.BytesIO()
    if exif is not None:
        kw["exif"] = exif
    im.save(out, "JPEG", **kw)
    return out.getvalue()


def png_bytes(im, exif=None):
    out = io.BytesIO()
    kw = {"exif": exif} if exif is not None else {}
    im.save(out, "PNG", optimize=False, compress_level=9, **kw)
    return out.getvalue()


def pillow_upright(data, draft=None):
    """What the C decoder must give: Pillow's decode, turned upright."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # "Corrupt EXIF data" of the damaged cases
        im = Image.open(io.BytesIO(data))
        if draft:
            im.draft("RGB", draft)
        im = ImageOps.exif_transpose(im)
        return np.asarray(im.convert("RGB"), dtype=np.uint8)


def exif_cases():
    fresh(EXIF_DIR)
    manifest = ["# written by tests/make_photo_fixtures.py -- do not edit",
                "# file shorter width height expected.rgb|- (- checks the size only)"]

    def case(name, data, expected, min_short=0, exp_name=None, size=None):
        write(os.path.join(EXIF_DIR, name), data)
        if expected is None:
            w, h = size
            manifest.append(f"{name} {min_short} {w} {h} -")
            return
        exp_name = exp_name or name.replace(".", "_") + ".rgb"
        h, w, _ = expected.shape
        path = os.path.join(EXIF_DIR, exp_name)
        if not os.path.exists(path):
            write(path, expected.tobytes())
        elif open(path, "rb").read() != expected.tobytes():
            sys.exit(f"{exp_name}: two cases share it but expect different pixels")
        manifest.append(f"{name} {min_short} {w} {h} {exp_name}")

    # 36x22: not a multiple of the 8x8 or 16x16 MCU, and clearly not square.
    upright = photo("chelsea.png", (36, 22))
    up_pix = np.asarray(upright, dtype=np.uint8)
    for o in range(1, 9):
        stored = upright.transpose(STORE[o]) if STORE[o] is not None else upright
        exif = b"Exif\0\0" + tiff(o, big_endian=o % 2 == 0)
        jpg = jpeg_bytes(stored, exif, quality=92)
        case(f"o{o}.jpg", jpg, pillow_upright(jpg))
        png = png_bytes(stored, exif)
        got = pillow_upright(png)
        assert (got == up_pix).all(), f"Pillow does not turn o{o}.png upright"
        # Lossless, so all eight PNGs are the one upright picture.
        case(f"o{o}.png", png, got, exp_name="upright.rgb")

    stored6 = upright.transpose(STORE[6])
    # Damaged or odd EXIF: the picture is shown as stored, as Pillow shows it.
    bad_ifd = b"Exif\0\0" + b"II" + struct.pack("<HI", 42, 4000) + bytes(32)
    jpg = jpeg_bytes(stored6, bad_ifd, quality=92)
    case("bad_ifd.jpg", jpg, pillow_upright(jpg))
    jpg = jpeg_bytes(stored6, b"Exif\0\0" + tiff(9, False), quality=92)
    case("orient9.jpg", jpg, pillow_upright(jpg))
    jpg = jpeg_bytes(stored6, b"Exif\0\0" + tiff(6, True, extra_tags=False)[:18], quality=92)
    case("cut_ifd.jpg", jpg, pillow_upright(jpg))   # the entry is cut off: as stored
    # Two EXIF blocks: the first counts (Pillow keeps the first APP1 "Exif").
    first = jpeg_bytes(stored6, b"Exif\0\0" + tiff(6, False), quality=92)
    second = b"\xff\xe1" + struct.pack(">H", 2 + 6 + len(tiff(3, True))) + b"Exif\0\0" + tiff(3, True)
    soi_app = first.index(b"\xff\xdb")   # before the first quantisation table
    jpg = first[:soi_app] + second + first[soi_app:]
    case("two_exif.jpg", jpg, pillow_upright(jpg))
    # A PNG whose eXIf is not a TIFF structure: libpng drops it, Pillow
    # raises an exception; resnet shows the picture as stored.
    png = png_bytes(stored6)
    idat = png.index(b"IDAT") - 4
    png = png[:idat] + chunk(b"eXIf", b"XX" + bytes(10)) + png[idat:]
    case("bad_exif.png", png, np.asarray(stored6, dtype=np.uint8))

    # Scaled decoding: a sideways 161x97 photo (orientation 6) to be resized
    # so that its shorter side is `shorter`, decoded as Pillow decodes it
    # after draft() for that resize: the upright target, torchvision's
    # Resize(shorter) size, turned back to the stored orientation.  Pillow
    # picks the scale (the largest of 8, 4, 2 at most min(W // w, H // h)):
    # 48 and 25 give 1/2, 24 and 13 1/4, 12 and 1 1/8; 49 and 1000 none.
    big_up = photo("rocket.jpg", (97, 161))
    jpg = jpeg_bytes(big_up.transpose(STORE[6]), b"Exif\0\0" + tiff(6, True), quality=90)
    up_w, up_h = 97, 161
    for shorter in (49, 48, 25, 24, 13, 12, 1, 1000):
        long_side = int(shorter * up_h / up_w) if shorter != up_w else up_h
        expected = pillow_upright(jpg, draft=(long_side, shorter))   # stored: 161 wide
        h, w, _ = expected.shape
        denom = -(-up_w // w)
        if denom == 1:
            case("scaled_o6.jpg", jpg, None, min_short=shorter, size=(w, h))
        else:
            case("scaled_o6.jpg", jpg, expected, min_short=shorter, exp_name=f"scaled_o6_d{denom}.rgb")
    manifest = [line for i, line in enumerate(manifest) if line not in manifest[:i]]
    write(os.path.join(EXIF_DIR, "exif.txt"), ("\n".join(manifest) + "\n").encode())


# --- the mixed photo folder ------------------------------------------------------

def mixed_cases():
    fresh(MIXED_DIR)

    def put(name, data):
        write(os.path.join(MIXED_DIR, name), data)
        return data

    # Real photographs, each a different size, encoding and colour type.
    astro = put("ok_astronaut.jpg", jpeg_bytes(photo("astronaut.png", (200, 200)), quality=80))
    put("ok_coffee_progressive.jpg",
        jpeg_bytes(photo("coffee.png", (300, 200)), quality=70, progressive=True))
    put("ok_rocket_cmyk.jpg", jpeg_bytes(photo("rocket.jpg", (160, 107)).convert("CMYK"), quality=80))
    put("ok_hubble_large.jpg", jpeg_bytes(photo("hubble_deep_field.jpg", (640, 558)), quality=40))
    put("ok_page_gray.jpg", jpeg_bytes(photo("page.png", (192, 96), "L"), quality=80))
    put("ok_camera_gray.png", png_bytes(photo("camera.png", (96, 96), "L")))
    coins = np.asarray(photo("coins.png", (76, 60), "L"), dtype=np.uint16)
    put("ok_coins_gray16.png", encode_png((coins * 257)[:, :, None], 16, 0))
    motor = np.asarray(photo("motorcycle_left.png", (74, 50)), dtype=np.uint16)
    put("ok_motorcycle_rgb16.png", encode_png(motor * 257 + 3, 16, 2))
    put("ok_astronaut_interlaced.png",
        encode_png(np.asarray(photo("astronaut.png", (64, 64))), 8, 2, interlace=True))
    pal = photo("chelsea.png", (90, 60)).quantize(64)
    put("ok_chelsea_palette.png", png_bytes(pal))
    put("ok_horse_rgba.png", png_bytes(photo("horse.png", (80, 66), "RGBA")))
    put("ok_tiny.png", png_bytes(photo("color.png", (5, 3))))
    # A PNG saved as .jpg: recognised by content, not by name.
    put("ok_misnamed_png.jpg", png_bytes(photo("ihc.png", (48, 48))))
    # The same picture upright and stored sideways (a phone's portrait
    # photo, eXIf 8): lossless, so the two must classify identically.
    cat = photo("chelsea.png", (72, 96))
    put("ok_chelsea_upright.png", png_bytes(cat))
    put("ok_chelsea_exif8.png", png_bytes(cat.transpose(STORE[8]), b"Exif\0\0" + tiff(8, False)))
    put("ok_chelsea_exif6.jpg",
        jpeg_bytes(photo("chelsea.png", (150, 100)).transpose(STORE[6]), b"Exif\0\0" + tiff(6, True),
                   quality=80))

    # What must be reported, each with its own reason.
    put("bad_truncated.jpg", astro[: len(astro) * 4 // 10])
    png = png_bytes(photo("coffee.png", (60, 40)))
    put("bad_truncated.png", png[: len(png) // 2])
    put("bad_empty.jpg", b"")
    put("bad_notes.txt", b"Holiday photos, summer: see the folder next door.\n")
    put("bad_animation.gif", b"GIF89a" + bytes(40))
    put("bad_corrupt.jpg", b"\xff\xd8\xff\xe0" + bytes(np.random.default_rng(5).integers(0, 256, 300,
                                                                                       dtype=np.uint8)))
    # Headers that claim 100000x100000 (PNG) and 65500x65500 (JPEG's 16-bit
    # maximum) pixels, followed by a little data.
    put("bad_huge.png", b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(bytes(1000))) + chunk(b"IEND", b""))
    small = jpeg_bytes(photo("astronaut.png", (16, 16)), quality=80)
    sof = small.index(b"\xff\xc0")
    huge = bytearray(small)
    huge[sof + 5: sof + 9] = struct.pack(">HH", 65500, 65500)
    put("bad_huge.jpg", bytes(huge))


# --- fuzz seeds ------------------------------------------------------------------

def st_bytes(tensors, metadata=None, pad_to=8):
    """A .safetensors file: tensors is [(name, dtype, shape, raw bytes)]."""
    header, data = {}, b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % pad_to)
    return struct.pack("<Q", len(text)) + text + data


# The net the safetensors harness loads into (tests/fuzz/fuzz_safetensors.c):
# a CIFAR stem, one stage of one basic block, 4 filters, 3 classes.
FUZZ_NET = [("conv1.weight", (4, 3, 3, 3))] + \
    [(f"bn1.{k}", (4,)) for k in ("weight", "bias", "running_mean", "running_var")] + \
    [("layer1.0.conv1.weight", (4, 4, 3, 3))] + \
    [(f"layer1.0.bn1.{k}", (4,)) for k in ("weight", "bias", "running_mean", "running_var")] + \
    [("layer1.0.conv2.weight", (4, 4, 3, 3))] + \
    [(f"layer1.0.bn2.{k}", (4,)) for k in ("weight", "bias", "running_mean", "running_var")] + \
    [("fc.weight", (3, 4)), ("fc.bias", (3,))]


def seed_cases():
    fresh(SEEDS_DIR)
    rng = np.random.default_rng(7)

    def seed(kind, name, data):
        write(os.path.join(SEEDS_DIR, kind, name), data)

    # Images: small fixtures of every decoder path, and the EXIF ones.
    images = os.path.join(HERE, "images")
    for f in ("jpg_baseline420.jpg", "jpg_baseline444.jpg", "jpg_progressive.jpg", "jpg_cmyk.jpg",
              "jpg_gray.jpg", "png_gray1_interlaced.png", "png_gray16.png", "png_pal4_trns.png",
              "png_rgb8.png", "png_rgba16_interlaced.png", "png_graya8.png"):
        seed("image", f, open(os.path.join(images, f), "rb").read())
    for f in ("o6.jpg", "o5.png", "two_exif.jpg"):
        seed("image", "exif_" + f, open(os.path.join(EXIF_DIR, f), "rb").read())
    seed("image", "tiny.png", open(os.path.join(MIXED_DIR, "ok_tiny.png"), "rb").read())

    # Specs: the built-in models and every key in use.
    for f in sorted(os.listdir(os.path.join(ROOT, "models"))):
        if f.endswith(".json"):
            seed("spec", f, open(os.path.join(ROOT, "models", f), "rb").read())
    seed("spec", "all_keys.json", b'{"name": "x", "version": 1, "block": "bottleneck", "stages": [1, 2],'
         b' "widths": [8, 16], "stem": "imagenet", "stem_width": 12, "classes": 7, "input": [40, 48, 3],'
         b' "preprocess": {"resize": 50, "crop": 40, "mean": [0.5, 0.5, 0.5], "std": [0.2, 0.2, 0.2]}}')
    seed("spec", "cifar_depth.json", b'{"depth": 20, "stem": "cifar"}')
    seed("spec", "fuzz_net.json", b'{"block": "basic", "stages": [1], "widths": [4], "stem": "cifar",'
         b' "classes": 3, "input": [8, 8, 3]}')

    # Safetensors: the harness's net in each float dtype, and odd layouts.
    def raw(shape, dtype):
        n = int(np.prod(shape))
        x = rng.standard_normal(n).astype(np.float32)
        if dtype == "F32":
            return x.tobytes()
        if dtype == "F16":
            return x.astype("<f2").tobytes()
        return (x.view(np.uint32) >> 16).astype("<u2").tobytes()   # BF16
    for dtype in ("F32", "F16", "BF16"):
        seed("safetensors", f"net_{dtype.lower()}.safetensors",
             st_bytes([(n, dtype, s, raw(s, dtype)) for n, s in FUZZ_NET], {"format": "pt"}))
    seed("safetensors", "scalar_and_empty.safetensors",
         st_bytes([("s", "F32", (), b"\0\0\x80\x3f"), ("e", "F32", (0, 3), b""),
                   ("i", "I64", (2,), bytes(16)), ("b", "BOOL", (3,), b"\1\0\1")]))
    seed("safetensors", "empty_header.safetensors", st_bytes([]))


def main():
    exif_cases()
    mixed_cases()
    seed_cases()
    total = sum(os.path.getsize(os.path.join(d, f)) for top in (EXIF_DIR, MIXED_DIR, SEEDS_DIR)
                for d, _, fs in os.walk(top) for f in fs)
    print(f"wrote tests/images/exif, tests/images/mixed and tests/fuzz/seeds: {total // 1024} KB")


if __name__ == "__main__":
    main()
