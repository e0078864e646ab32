/* tune.h -- how each convolution shape runs fastest on this machine,
 * measured once and kept, like FFTW's wisdom.
 *
 * A kernel's own cut of a layer (conv_simd.inc's choose_cut) is a model of
 * a CPU, and the CPU at hand may differ from it (FMA width and throughput,
 * cache sizes, cores).  The first time a process meets a shape (with its
 * batch, threads and kernel table), tune_conv times the kernel's candidate
 * cuts (kernels.h's conv_tilings) and, where Winograd was asked for,
 * Winograd against the fastest of them, on buffers of that shape (timing
 * does not depend on the values), and keeps the fastest.  The choices live
 * in one file per CPU model,
 *     CACHE/tuning/CPU.HASH.tune      (HASH: the CPU's identification)
 * one line per shape, valid while the resnet binary is the one that wrote
 * it; so later processes start as fast as the first did not.
 *
 * A cut never changes a result (conv.h).  Winograd changes the rounding
 * (winograd.h), so with --winograd which layers take it can differ from
 * one machine to another. */
#ifndef RESNET_TUNE_H
#define RESNET_TUNE_H

#include <limits.h>

#include "conv.h"
#include "kernels.h"

struct tune_choice {
    struct conv_tiling tiling;   /* all 0: the kernel's own cut */
    int wino;                    /* Winograd timed faster than direct: 1; slower: 0;
                                  * not timed: -1 */
};

struct tune_row {
    char key[128];               /* the shape, as tune_key writes it */
    struct tune_choice c;
};

struct tune {
    struct tune_row *row;
    int n, cap;
    int changed;                 /* rows measured since tune_open: tune_close writes */
    int measure;                 /* the file can be written: shapes it lacks are measured */
    char path[PATH_MAX];         /* the file; "" without a cache folder */
    char header[256];            /* its first line: this binary and CPU */
};

/* The file of this CPU, read when it exists and was written by this binary
 * (else empty).  Never fails: without a cache folder, or one that cannot be
 * written, tune_conv measures nothing (what it measured could not be kept,
 * and every process would pay for it again) and the kernels' own cuts run. */
void tune_open(struct tune *t);

/* Write t back when it gained rows (a temporary file renamed into place,
 * so a concurrent process reads the old file or the new one), and free it.
 * The file is an optimisation: when it cannot be written, nothing is said. */
void tune_close(struct tune *t);

/* The choice for the convolution a describes (its shapes, n, k, stride,
 * padding and relu; its pointers are not used; `residual`: it adds one),
 * run by k's conv on `threads` threads: stored, else measured and stored
 * (when t->measure; else the kernel's own cut, wino -1).
 * `winograd`: also time Winograd, when wino_plan takes the shape. */
void tune_conv(struct tune *t, const struct kernels *k, const struct conv_args *a, int residual,
               int threads, int winograd, struct tune_choice *out);

#endif
