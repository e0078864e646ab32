/* image.h -- photo files in, 8-bit RGB pixels out.
 *
 * JPEG (libjpeg-turbo) and PNG (libpng) of every common flavour decode to
 * 8-bit RGB; a bad file is an error for that file only, never an exit.
 * The format is told by content (img_format_of), never by the file name.
 * preprocess.h turns the pixels into a network's input tensor. */
#ifndef RESNET_IMAGE_H
#define RESNET_IMAGE_H

#include <stddef.h>

#include "err.h"

struct image {
    int w, h;
    unsigned char *rgb;   /* [h][w][3] */
};

enum img_format { IMG_UNKNOWN, IMG_JPEG, IMG_PNG };

/* The first bytes of a file that img_format_of needs to know it. */
#define IMG_FORMAT_BYTES 8

/* The format whose whole signature `head` (n bytes) starts with: the only
 * test of "is this a JPEG or a PNG", for the decoder and for the listing of
 * directories alike.  Fewer bytes than a signature are IMG_UNKNOWN. */
enum img_format img_format_of(const unsigned char *head, size_t n);

/* Images whose header claims more pixels than the limit are refused before
 * any pixel buffer is allocated (decoded, every pixel costs 3 bytes; a
 * forged header can claim 4 G of them).  n <= 0 restores the default.  Set
 * it before decoding starts: the decoders only read it. */
#define IMG_DEFAULT_MAX_PIXELS 100000000LL
void img_set_max_pixels(long long n);
long long img_max_pixels(void);

/* Decode a whole file at full size, EXIF orientation applied (a photo taken
 * sideways comes out upright); the pixels are Pillow's
 * ImageOps.exif_transpose(Image.open(path)).convert('RGB'). */
int img_load(const char *path, struct image *im, struct err *e);

/* The size the decoded picture will be resized to, upright: `shorter` > 0
 * makes the shorter side `shorter` and the longer one what torchvision's
 * Resize(shorter) makes it (img_resized_size); otherwise w x h.  All 0: no
 * resize. */
struct img_draft {
    int shorter;
    int w, h;
};

/* torchvision's _compute_resized_output_size: the shorter side becomes
 * `shorter`, the longer int(shorter * long / short) (truncated); an image
 * whose shorter side already matches keeps its size. */
int img_resized_size(int w, int h, int shorter, int *rw, int *rh, struct err *e);

/* Decode for a resize to `d` (NULL or {0}: full size, like img_load): a
 * JPEG at least twice the target on both axes is decoded by libjpeg-turbo
 * at 1/2, 1/4 or 1/8 of its size, exactly as Pillow decodes it after
 * Image.draft('RGB', target): the largest of 8, 4, 2 that is at most
 * min(W // target_w, H // target_h), sizes rounded up.  At 1/8 the decoder
 * does a fraction of the IDCT and colour-conversion work, and the pixels
 * take 1/64 of the memory.  PNGs are always decoded at full size. */
int img_load_for(const char *path, const struct img_draft *d, struct image *im, struct err *e);

/* Decode from memory; `name` is used in error messages. */
int img_decode(const unsigned char *data, size_t size, const char *name,
               struct image *im, struct err *e);
int img_decode_for(const unsigned char *data, size_t size, const char *name,
                   const struct img_draft *d, struct image *im, struct err *e);

void img_free(struct image *im);

#endif
