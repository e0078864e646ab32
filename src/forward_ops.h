/* forward_ops.h -- the forward plan's own data: its ops and values, shared
 * by forward.c (fusion, buffers, packing, running) and forward_int8.c
 * (which ops run in int8).  Nothing outside the two includes it. */
#ifndef RESNET_FORWARD_OPS_H
#define RESNET_FORWARD_OPS_H

#include "conv16.h"
#include "conv8.h"
#include "forward.h"
#include "kernels.h"

enum op_kind {
    OP_INPUT, OP_CONV, OP_AFFINE, OP_RELU, OP_ADD, OP_MAXPOOL, OP_AVGPOOL, OP_GAP, OP_FLATTEN,
    OP_DENSE,
    OP_QUANT,    /* an fp32 value's u8 twin, for the int8 convolutions that read it */
};

/* Buffers and packed weights start on a cache line, so a channel block
 * (64 bytes) never straddles two. */
#define ALIGN 64

struct op {
    enum op_kind kind;
    const struct layer *l;   /* the layer whose shapes the op uses */
    int in, in2, out;        /* value ids; in2: residual (conv) or b (add), -1 if none;
                              * in: -1 for OP_INPUT (the caller's planar tensor) */
    int out2;                /* int8 conv: the u8 twin it writes beside its fp32 out, or -1 */
    int k, stride;           /* conv / pool: the window (the layer's; a dense layer run as
                              * an int8 or bf16 conv: 1, 1) */
    int pad_t, pad_l;        /* conv / pool: where windows start, a ZEROPAD's padding plus
                              * the layer's own */
    int zero[4];             /* pool: the ZEROPAD's rows/cols (t, b, l, r), which count as
                              * zeros; the pool's own padding does not count */
    int relu;
    const struct layer *bn;  /* conv: the BatchNorm folded into it, or NULL */
    float *w, *b;            /* conv: conv_pack's [cb(out_c)][cb(in_c)][k][k][16][16] + [cb*16],
                              * BN folded; affine: scale + shift [cb*16];
                              * dense: ops_dense_pack's [ceil(out_c/64)][in_c][64] + [cb*16] */
    int wino;                /* conv: by Winograd, cut as wp; w is wino_pack's
                              * [36][cb(out_c)][cb(in_c)][16][16] */
    struct wino_plan wp;
    struct conv_tiling tiling;   /* conv, direct: the cut tune.h measured fastest, or 0s */
    int wino_faster;         /* conv: tune.h timed Winograd faster (1), slower (0), or not (-1) */
    void (*conv)(const struct conv_args *a);   /* conv, direct: the table's kernel for its
                                                * stride, else the portable one */
    int int8;                /* conv: in int8 (conv8.h): in is a u8 value, w holds
                              * conv8_pack's bytes, scale8 [cb*16] in_scale * w_scale */
    float *scale8;
    void (*conv8)(const struct conv8_args *a);
    int bf16;                /* conv: in bf16 (conv16.h): in is a bf16 value, w holds
                              * conv16_pack's uint16s */
    void (*conv16)(const struct conv16_args *a);
    char label[80];          /* QUANT: what fwd_op_name says, "<producer's name>/u8" */
};

struct value {
    int c, h, w;
    int halo;                /* zero frame its padded readers need */
    int last_use;            /* index of the last op that reads it */
    int buf;                 /* index into fwd.buf */
    int u8;                  /* bytes (conv8.h's blk8), real = q * scale; else floats */
    int bf16;                /* bfloat16s (conv16.h's blk16) */
    float scale;
    int zero;                /* u8: the zero point, real = (q - zero) * scale (the input's) */
    int quantizable;         /* fp32: >= 0 and read by a convolution, so an int8 plan
                              * quantizes it (calibration measures these) */
};

struct fwd {
    const struct kernels *k; /* the kernel table every op runs from */
    int batch;
    int classes;
    struct op *op;
    int n_ops;
    struct value *val;
    int n_vals;
    float **buf;             /* [n_bufs][buf_floats], ALIGN-ed */
    int n_bufs;
    size_t buf_floats, buf_bytes;
    void *bufs;              /* the mapping behind them */
    size_t bufs_bytes;
    float *params;           /* packed conv and dense weights, biases, affine scale/shift */
    size_t params_bytes;
    void *mapping;           /* what holds params: our own memory, or a mapped cache file */
    size_t mapping_bytes;
    float *probs;            /* [batch][classes] */
    const float *input;      /* the caller's planar input during fwd_run */
    double *profile_ms;      /* [n_ops - 1] accumulated op times, or NULL */
    float *scratch;          /* Winograd's, [threads][largest wp.scratch_floats] */
    void (*observe)(void *ctx, const char *name, const struct blk *v, int n);
    void *observe_ctx;       /* fwd_observe's */
};

static inline size_t round_up(size_t x, size_t to)
{
    return (x + to - 1) / to * to;
}

/* The value's layout without its buffer (p = NULL). */
static inline struct blk value_shape(const struct fwd *f, int v)
{
    const struct value *x = &f->val[v];
    struct blk t = {NULL, x->c, x->h, x->w, x->halo};
    return t;
}

/* An fp32 convolution's shapes, as its kernel sees them (no pointers). */
static inline struct conv_args conv_shape(const struct fwd *f, const struct op *o)
{
    return (struct conv_args){.in = value_shape(f, o->in), .out = value_shape(f, o->out),
                              .n = f->batch, .k = o->k, .stride = o->stride,
                              .pad_t = o->pad_t, .pad_l = o->pad_l, .relu = o->relu,
                              .tiling = o->tiling};
}

/* Each convolution's kernel, its cut (opts->tune) and whether it runs by
 * Winograd (opts->winograd), with the scratch that needs (forward_paths.c).
 * Runs after halos, before parameters and buffers. */
int fwd_plan_paths(struct fwd *f, const struct fwd_opts *opts, struct err *e);

/* Set each value's quantizable flag and, for an int8 plan (opts->precision),
 * turn the convolutions whose input is quantizable into int8 ones reading
 * its u8 twin, with QUANT ops where no int8 convolution writes the twin;
 * for a bf16 plan likewise every convolution, with bf16
 * twins (forward_int8.c).  Runs after the ops are planned, before halos and
 * buffers; ops and values have room for twice the layers. */
int fwd_plan_int8(struct fwd *f, const struct fwd_opts *opts, struct err *e);

/* The name an op reports, and its calibration is keyed by: its layer's, or
 * for a QUANT op the name of the value's producer. */
const char *fwd_op_label(const struct fwd *f, const struct op *o);

#endif
