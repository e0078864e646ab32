/* forward.h -- running a net with loaded weights.
 *
 * fwd_plan fuses ReLU and the residual add into the convolution's output,
 * chooses each op's kernel and plans every activation buffer once; fwd_pack
 * folds BatchNorm into the convolutions and packs their weights (or the
 * packed cache provides them: packed_cache.h); fwd_run then allocates
 * nothing.  model.h is the one caller that strings these together. */
#ifndef RESNET_FORWARD_H
#define RESNET_FORWARD_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "kernels.h"
#include "net.h"

struct fwd;
struct tune;

enum fwd_precision { FWD_FP32, FWD_INT8, FWD_BF16 };

/* Calibrated activation ranges for an int8 plan: the largest value each
 * quantizable value takes (u8 scale = max / 255), by fwd_op_name of the op
 * that writes it (calib.h measures, stores and loads them). */
struct fwd_ranges {
    int n;
    char (*name)[64];
    float *max;
    float default_max;   /* > 0: the max of any value not listed (timing generated weights) */
};

/* Choices of how the forward pass computes; all zeros (or NULL) is the default. */
struct fwd_opts {
    enum fwd_precision precision;   /* FWD_INT8: every convolution whose input follows a
                                     * ReLU in int8 (conv8.h), with ranges; FWD_BF16:
                                     * every convolution in bf16 (conv16.h) */
    const struct fwd_ranges *ranges;
    float input_lo, input_hi;   /* int8, lo < hi: the range of the network's input as its
                                 * preprocessing makes it; the stem then runs in int8 too,
                                 * its u8 input with a zero point (conv8_quantize) */
    int winograd;   /* 3x3 stride-1 convolutions by Winograd F(4x4, 3x3) (winograd.h)
                     * where it is faster: as tune measured, else as wino_plan expects */
    struct tune *tune;   /* each fp32 convolution's cut as measured on this machine
                          * (tune.h), which measures what it lacks; NULL: the
                          * kernels' own cuts */
    const struct kernels *kernels;   /* the kernel table (kernels.h); NULL: the one
                                      * cpu_kernels() picks for this CPU */
};

/* fwd_plan needs only the net's shapes (o may be NULL); fwd_pack folds and
 * packs its loaded weights, handing each conv's unpacked weights back to
 * the kernel once packed, so they never sit in memory twice (the net's
 * conv weights read as zeros afterwards). */
int fwd_plan(struct fwd **out, const struct net *n, int batch, const struct fwd_opts *o,
             struct err *e);
int fwd_pack(struct fwd *f, struct net *n, struct err *e);

/* The packed block fwd_pack made (bytes long, 64-byte aligned). */
const float *fwd_params(const struct fwd *f, size_t *bytes);

/* Use params (fwd_params's bytes, as an earlier fwd_pack of the same layout
 * made them) instead of packing; f unmaps `mapping` when freed. */
void fwd_adopt_params(struct fwd *f, const float *params, void *mapping, size_t mapping_bytes);

/* A hash of what decides the packed block's layout and which weights go
 * where: equal for two plans whose fwd_params are interchangeable given the
 * same weight file. */
uint64_t fwd_params_layout(const struct fwd *f);

/* The kernel table the plan runs from. */
const struct kernels *fwd_kernels(const struct fwd *f);

/* in: [batch][in_c][in_h][in_w]; returns probabilities [batch][classes],
 * owned by f and valid until the next run. */
const float *fwd_run(struct fwd *f, const float *in);

void fwd_free(struct fwd *f);

/* Calibration: after each op of a run whose output an int8 plan would
 * quantize, fn gets the op's name and that output (blocked, n images);
 * NULL stops it.  Only fp32 plans observe. */
void fwd_observe(struct fwd *f, void (*fn)(void *ctx, const char *name, const struct blk *v,
                                           int n), void *ctx);

/* Per-op profile, for `bench --layers`: the ops run in order, each named by
 * the layer whose shapes it uses (a conv with its folded BN, add and ReLU is
 * one op).  When `ms` is set, fwd_run adds each op's wall time to ms[i]. */
int fwd_op_count(const struct fwd *f);
const char *fwd_op_name(const struct fwd *f, int i);
double fwd_op_macs(const struct fwd *f, int i);   /* multiply-adds per image */
/* How op i is computed: a convolution's path and work split ("direct, 4x7
 * tiles, ..." or "winograd, ..."), else "". */
void fwd_op_describe(const struct fwd *f, int i, char *out, size_t len);
void fwd_profile(struct fwd *f, double *ms);      /* [fwd_op_count] or NULL */

#endif
