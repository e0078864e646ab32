/* pipeline.h -- paths in, batches of network inputs out, decoding ahead.
 *
 * Paths come from the command line (files, directories in sorted order,
 * recursively with `recursive`) and from standard input ("-": one per line,
 * or NUL-separated with `nul`).  A thread decodes and preprocesses the next
 * batch while the caller runs the network on the current one.  Batches come
 * out in input order; an image that failed is a slot with its error, so the
 * caller reports it in its place and goes on. */
#ifndef RESNET_PIPELINE_H
#define RESNET_PIPELINE_H

#include "err.h"
#include "spec.h"

struct pipe_opts {
    int batch;        /* images per batch, >= 1 */
    int recursive;    /* descend into subdirectories */
    int nul;          /* standard input paths are NUL-separated */
};

struct pipe_slot {
    char *path;
    int failed;       /* 1: `error` says why; the tensor is zeros */
    char error[ERR_LEN];
};

struct pipe_batch {
    int n;                    /* images in this batch, 1..batch */
    struct pipe_slot *slot;   /* [n] */
    float *input;             /* [batch][3][in_h][in_w], slots past n are zeros */
};

struct pipeline;

/* Start decoding.  `paths` are the command-line operands; directories are
 * listed here (unreadable ones are errors), so a bad operand fails early. */
int pipe_open(struct pipeline **out, char *const *paths, int n_paths, const struct arch *a,
              const struct pipe_opts *o, struct err *e);

/* Total number of images when known (no "-" operand), else -1. */
long pipe_total(const struct pipeline *p);

/* The next batch, waiting for it; NULL when every path is done.  The batch
 * stays valid until the next call. */
const struct pipe_batch *pipe_next(struct pipeline *p);

void pipe_close(struct pipeline *p);

#endif
