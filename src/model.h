/* model.h -- one way to open a ready model, and to close it.
 *
 *     spec (name or file) -> struct arch, the weight file's sidecar applied
 *       -> net -> labels -> weights: mapped from the packed cache, or read,
 *          folded and packed (and cached), or generated -> forward plan
 *
 * Every caller that runs a network goes through here: the classify and
 * bench commands, the published library (resnet.c), the tests and the
 * fuzzers.  Errors come back as values (struct err); nothing prints or
 * exits.  Opening has two halves so that a caller can start decoding images
 * with the model's preprocessing while its weights are still being read:
 * model_define (no weights touched) and model_load. */
#ifndef RESNET_MODEL_H
#define RESNET_MODEL_H

#include <limits.h>

#include "err.h"
#include "forward.h"
#include "kernels.h"
#include "labels.h"
#include "net.h"

struct model_opts {
    const char *model;      /* built-in name or spec file; NULL = "resnet50" */
    const char *weights;    /* weight file; NULL = the model's default (cache_weights_path) */
    int batch;              /* images per forward pass; 0 = 1 */
    int input_size;         /* > 0: run on size x size inputs instead of the spec's
                             * (the resize before the crop scales with it) */
    int winograd;           /* fwd_opts.winograd */
    int full_decode;        /* preprocess.full_decode: JPEGs at full size, never drafted */
    int no_cache;           /* neither use nor write the packed-weight cache */
    int no_tuning;          /* neither use nor write the tuning file (tune.h): the
                             * kernels' own cuts, Winograd where wino_plan expects it */
    int random_ok;          /* no weight file: generated weights instead of an error
                             * (bench: timing does not depend on the values) */
    int no_labels;          /* leave labels empty (bench: the names are not needed) */
    const struct kernels *kernels;   /* NULL: the table cpu_kernels() picks */
    enum fwd_precision precision;    /* FWD_INT8: int8 convolutions, with ranges */
    const struct fwd_ranges *ranges; /* int8: NULL = the calibration `resnet calibrate`
                                      * stored for this weight file (ranges.h); generated
                                      * weights take any range */
};

struct model {
    struct net net;         /* net.arch: the spec as evaluated (sidecar, input size) */
    struct labels labels;   /* [net.arch.classes] names, unless no_labels */
    struct fwd *fwd;        /* NULL until model_load */
    char weights[PATH_MAX]; /* the weight file; "" when generated weights are used */
    int batch;
    int from_cache;         /* model_load mapped the packed weights from the cache */
    struct fwd_ranges ranges;   /* int8: what model_load found in the cache */
    struct model_opts opts; /* as given (its strings are the caller's) */
};

/* The model's spec, net and labels, and which weight file it will load:
 * the given one, else the model's default when it exists.  No default
 * file is an error that says how to get one, unless o->random_ok.
 * *out is NULL after an error. */
int model_define(struct model **out, const struct model_opts *o, struct err *e);

/* Its forward plan, without weights: each convolution's cut as tune.h
 * measured it on this CPU, timing the shapes it has not met before (so
 * nothing else should be running then: classify plans before its decoding
 * thread starts).  model_load calls it when the caller has not. */
int model_plan(struct model *m, struct err *e);

/* Its weights and forward plan: mapped from the packed cache when it holds
 * this file packed for this plan (the weight file is then never opened),
 * else read, folded and packed, and written to the cache for the next
 * process. */
int model_load(struct model *m, struct err *e);

/* The cache entry of the activation ranges for m's weight file and net. */
int model_ranges_path(const struct model *m, char out[PATH_MAX], struct err *e);

/* model_define then model_load. */
int model_open(struct model **out, const struct model_opts *o, struct err *e);

/* in: [batch][3][in_h][in_w] preprocessed; [batch][classes] probabilities,
 * valid until the next run.  model_load must have succeeded. */
const float *model_run(struct model *m, const float *in);

void model_close(struct model *m);

#endif
