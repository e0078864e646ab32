/* blk.h -- the channel-blocked activation layout every kernel works on.
 *
 * A tensor of c channels, h x w pixels per image is stored as
 *     [n][cb = ceil(c/16)][h + 2*halo][w + 2*halo][16]
 * Sixteen channels of one pixel are one 64-byte vector, so a kernel loads an
 * output-channel block's weights as one vector and broadcasts one input
 * channel of one pixel.  Lanes past c in the last block are zero.  The halo is
 * a frame of zeros that a padded convolution or max pool reads instead of
 * testing bounds; every producer writes its halo's zeros along with the
 * pixels, because buffers are shared by values of different shapes. */
#ifndef RESNET_BLK_H
#define RESNET_BLK_H

#include <stddef.h>
#include <string.h>

#define BLK 16   /* channels per block: one AVX-512 vector of floats */

struct blk {
    float *p;               /* pixel (0,0), channel block 0, image 0: inside the halo */
    int c, h, w, halo;
};

static inline int blk_cb(const struct blk *t) { return (t->c + BLK - 1) / BLK; }
/* floats between vertically adjacent pixels */
static inline size_t blk_row(const struct blk *t) { return (size_t)(t->w + 2 * t->halo) * BLK; }
/* floats between channel blocks */
static inline size_t blk_plane(const struct blk *t) { return (size_t)(t->h + 2 * t->halo) * blk_row(t); }
/* floats between images */
static inline size_t blk_image(const struct blk *t) { return (size_t)blk_cb(t) * blk_plane(t); }
/* floats a buffer needs for n images; p starts this many floats past its base */
static inline size_t blk_floats(const struct blk *t, int n) { return (size_t)n * blk_image(t); }
static inline size_t blk_origin(const struct blk *t) { return (size_t)t->halo * (blk_row(t) + BLK); }

/* Pointer to pixel (y, x) of block cb of image i; y and x may reach into the halo. */
static inline float *blk_at(const struct blk *t, int i, int cb, int y, int x)
{
    return t->p + i * blk_image(t) + cb * blk_plane(t) + (ptrdiff_t)y * (ptrdiff_t)blk_row(t) +
           (ptrdiff_t)x * BLK;
}

/* Zero the halo next to rows [y0, y1) of blocks [cb0, cb1) of image i: the
 * left and right columns of those rows, and the top (bottom) frame rows when
 * the range starts at the first (ends at the last) row.  A producer calls it
 * for the rows it writes, inside its own split of the work, so each halo
 * element is written by exactly one thread.  The layout's p is `base`,
 * whose elements are `elem` bytes (floats here, bytes for conv8.h's u8),
 * and every byte of the halo is `byte` (0: zeros; a u8 zero point). */
static inline void blk_fill_halo_of(void *base, size_t elem, const struct blk *t, int i, int cb0,
                                    int cb1, int y0, int y1, int byte)
{
    const int hl = t->halo;
    if (!hl)
        return;
    char *p = base;
    const size_t side = (size_t)hl * BLK * elem, row = blk_row(t) * elem;
#define AT(cb, y, x) (p + (i * blk_image(t) + (cb) * blk_plane(t)) * elem + \
                      (ptrdiff_t)(y) * (ptrdiff_t)row + (ptrdiff_t)(x) * BLK * (ptrdiff_t)elem)
    for (int cb = cb0; cb < cb1; cb++) {
        if (y0 == 0)
            memset(AT(cb, -hl, -hl), byte, (size_t)hl * row);
        if (y1 == t->h)
            memset(AT(cb, t->h, -hl), byte, (size_t)hl * row);
        for (int y = y0; y < y1; y++) {
            memset(AT(cb, y, -hl), byte, side);
            memset(AT(cb, y, t->w), byte, side);
        }
    }
#undef AT
}

static inline void blk_zero_halo(const struct blk *t, int i, int cb0, int cb1, int y0, int y1)
{
    blk_fill_halo_of(t->p, sizeof(float), t, i, cb0, cb1, y0, y1, 0);
}

#endif
