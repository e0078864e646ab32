/* forward.c -- the layer list turned into a short program of fused ops, run
 * over activation buffers planned once.
 *
 * Planning walks the layers in order and fuses what Keras keeps separate:
 * a ZeroPadding2D becomes the padding of the conv or pool that reads it, a
 * BatchNormalization is folded into the conv before it, and an Add and a
 * ReLU become the conv's output write.  What cannot be fused runs as its
 * own op.  Each op's output is a "value"; values get buffers by liveness, so
 * a ResNet runs in a handful of buffers whatever its depth.
 *
 * Values are in the channel-blocked layout of blk.h (vectors as 1 x 1
 * images), with a zero halo as wide as the padding of any op reading them;
 * the first op converts the caller's planar input into it. */
#include "forward.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "blk.h"
#include "cpu.h"
#include "forward_ops.h"
#include "kernels.h"

/* Floats of a value's buffer (a u8 value's bytes, in floats). */
static size_t value_floats(const struct fwd *f, int v)
{
    struct blk t = value_shape(f, v);
    size_t n = blk_floats(&t, f->batch);
    if (f->val[v].u8)
        return (n + 3) / 4;
    return f->val[v].bf16 ? (n + 1) / 2 : n;
}

/* The value as a tensor in its buffer: p skips the halo's first rows and columns. */
static struct blk value_blk(const struct fwd *f, int v)
{
    struct blk t = value_shape(f, v);
    t.p = f->buf[f->val[v].buf] + blk_origin(&t);
    return t;
}

static struct blk8 value_blk8(const struct fwd *f, int v)
{
    struct blk8 t = {NULL, value_shape(f, v)};
    t.p = (uint8_t *)f->buf[f->val[v].buf] + blk_origin(&t.shape);
    return t;
}

static struct blk16 value_blk16(const struct fwd *f, int v)
{
    struct blk16 t = {NULL, value_shape(f, v)};
    t.p = (uint16_t *)f->buf[f->val[v].buf] + blk_origin(&t.shape);
    return t;
}

/* Everything the planner tracks per layer. */
struct slot {
    int value;      /* the value holding this layer's output */
    int op;         /* the op writing that value, if more can be fused into it; else -1 */
    int consumers;  /* how many layers read this one */
};

static int new_value(struct fwd *f, const struct layer *l)
{
    struct value *v = &f->val[f->n_vals];
    v->c = l->out_c, v->h = l->out_h, v->w = l->out_w;
    v->halo = 0;
    v->last_use = -1;
    v->buf = 0;
    return f->n_vals++;
}

static struct op *new_op(struct fwd *f, enum op_kind kind, const struct layer *l,
                         int in, int in2)
{
    struct op *o = &f->op[f->n_ops++];
    memset(o, 0, sizeof *o);
    o->kind = kind, o->l = l, o->in = in, o->in2 = in2, o->out = new_value(f, l), o->out2 = -1;
    o->k = l->k, o->stride = l->stride;
    return o;
}

/* Resolve a layer's input through an optional ZeroPadding2D, whose rows
 * and columns (t, b, l, r) go to zero[]. */
static int padded_input(const struct net *n, const struct slot *s, const struct layer *l,
                        int zero[4], struct err *e)
{
    const struct layer *src = &n->layer[l->in[0]];
    zero[0] = zero[1] = zero[2] = zero[3] = 0;
    if (src->kind == LAYER_ZEROPAD) {
        zero[0] = src->pad_t, zero[1] = src->pad_b, zero[2] = src->pad_l, zero[3] = src->pad_r;
        if (n->layer[src->in[0]].kind == LAYER_ZEROPAD)
            return err_set(e, "forward: layer %s: two paddings in a row are not supported",
                           src->name);
    }
    return s[l->in[0]].value;
}

/* A convolution or pool: its input through any ZeroPadding2D, and where
 * its windows start. */
static struct op *window_op(struct fwd *f, const struct net *n, const struct slot *s,
                            enum op_kind kind, const struct layer *l, struct err *e)
{
    int zero[4], v = padded_input(n, s, l, zero, e);
    if (v < 0)
        return NULL;
    struct op *o = new_op(f, kind, l, v, -1);
    o->pad_t = zero[0] + l->pad_t, o->pad_l = zero[2] + l->pad_l;
    memcpy(o->zero, zero, sizeof zero);
    return o;
}

static int plan(struct fwd *f, const struct net *n, struct slot *s, struct err *e)
{
    for (int i = 0; i < n->n_layers; i++) {
        const struct layer *l = &n->layer[i];
        for (int j = 0; j < l->n_in; j++)
            s[l->in[j]].consumers++;
    }
    for (int i = 0; i < n->n_layers; i++) {
        const struct layer *l = &n->layer[i];
        struct slot *me = &s[i];
        const struct slot *in = l->n_in ? &s[l->in[0]] : NULL;
        me->op = -1;
        struct op *o;
        /* Only convolutions and pools read through a ZeroPadding2D. */
        for (int j = 0; j < l->n_in; j++)
            if (n->layer[l->in[j]].kind == LAYER_ZEROPAD && l->kind != LAYER_CONV &&
                l->kind != LAYER_MAXPOOL && l->kind != LAYER_AVGPOOL)
                return err_set(e, "forward: padding layer %s feeds %s, which is not a "
                               "convolution or pool", n->layer[l->in[j]].name, l->name);
        switch (l->kind) {
        case LAYER_INPUT:
            o = new_op(f, OP_INPUT, l, -1, -1);
            me->value = o->out;
            break;
        case LAYER_ZEROPAD:
            if (s[i].consumers != 1)
                return err_set(e, "forward: padding layer %s must feed exactly one layer",
                               l->name);
            me->value = in->value;
            break;
        case LAYER_CONV:
            if (!(o = window_op(f, n, s, OP_CONV, l, e)))
                return -1;
            me->value = o->out;
            me->op = (int)(o - f->op);
            break;
        case LAYER_BN:
            if (in->op >= 0 && f->op[in->op].kind == OP_CONV && !f->op[in->op].bn &&
                !f->op[in->op].relu && f->op[in->op].in2 < 0 && in->consumers == 1) {
                f->op[in->op].bn = l;   /* weights are folded in fwd_pack */
                me->value = in->value, me->op = in->op;
            } else {
                o = new_op(f, OP_AFFINE, l, in->value, -1);
                me->value = o->out, me->op = (int)(o - f->op);
            }
            break;
        case LAYER_RELU:
            if (in->op >= 0 && !f->op[in->op].relu && in->consumers == 1) {
                f->op[in->op].relu = 1;
                me->value = in->value;   /* nothing fuses after a ReLU: op stays -1 */
            } else {
                o = new_op(f, OP_RELU, l, in->value, -1);
                me->value = o->out;
            }
            break;
        case LAYER_ADD: {
            /* Fuse into whichever operand's conv can still take a residual. */
            int done = 0;
            for (int side = 1; side >= 0 && !done; side--) {
                const struct slot *mine = &s[l->in[side]], *other = &s[l->in[!side]];
                if (mine->op >= 0 && f->op[mine->op].kind == OP_CONV && !f->op[mine->op].relu &&
                    f->op[mine->op].in2 < 0 && mine->consumers == 1) {
                    f->op[mine->op].in2 = other->value;
                    me->value = mine->value, me->op = mine->op;
                    done = 1;
                }
            }
            if (!done) {
                o = new_op(f, OP_ADD, l, s[l->in[0]].value, s[l->in[1]].value);
                me->value = o->out, me->op = (int)(o - f->op);
            }
            break;
        }
        case LAYER_MAXPOOL:
        case LAYER_AVGPOOL:
            if (!(o = window_op(f, n, s, l->kind == LAYER_MAXPOOL ? OP_MAXPOOL : OP_AVGPOOL, l, e)))
                return -1;
            me->value = o->out;
            break;
        case LAYER_GAP:
            o = new_op(f, OP_GAP, l, in->value, -1);
            me->value = o->out;
            break;
        case LAYER_FLATTEN:
            o = new_op(f, OP_FLATTEN, l, in->value, -1);
            me->value = o->out;
            break;
        case LAYER_DROPOUT:
            me->value = in->value;   /* the identity at inference; nothing fuses across it */
            break;
        case LAYER_DENSE:
            if (f->val[in->value].h != 1 || f->val[in->value].w != 1)
                return err_set(e, "forward: dense layer %s needs a vector input (a global "
                               "pool before it), not %dx%d pixels", l->name,
                               f->val[in->value].h, f->val[in->value].w);
            o = new_op(f, OP_DENSE, l, in->value, -1);
            o->relu = l->relu;
            me->value = o->out;
            me->op = (int)(o - f->op);
            break;
        }
    }
    return 0;
}

/* Every padded reader widens its input's zero halo to its largest pad; the
 * bottom and right pads are what the output size makes the window reach. */
static void plan_halos(struct fwd *f)
{
    for (int i = 0; i < f->n_ops; i++) {
        const struct op *o = &f->op[i];
        if (o->kind != OP_CONV && o->kind != OP_MAXPOOL && o->kind != OP_AVGPOOL)
            continue;
        const struct layer *l = o->l;
        struct value *in = &f->val[o->in];
        int pad_b = (l->out_h - 1) * o->stride + o->k - in->h - o->pad_t;
        int pad_r = (l->out_w - 1) * o->stride + o->k - in->w - o->pad_l;
        int need = o->pad_t;
        need = o->pad_l > need ? o->pad_l : need;
        need = pad_b > need ? pad_b : need;
        need = pad_r > need ? pad_r : need;
        if (need > in->halo)
            in->halo = need;
    }
}

/* Floats of an op's packed weights (w) and of its bias or shift (b; an
 * int8 conv's scale8 and then its bias); both 0 for ops without weights.
 * Every part is a multiple of 16 floats, so each starts on a cache line. */
static void op_param_floats(const struct op *o, size_t *w, size_t *b)
{
    const struct layer *l = o->l;
    const size_t lanes = round_up((size_t)l->out_c, BLK);
    *w = *b = 0;
    if (o->kind == OP_CONV && o->int8)
        *w = round_up((conv8_packed_bytes(l->out_c, l->in_c, o->k) + 3) / 4, ALIGN),
        *b = 2 * lanes;
    else if (o->kind == OP_CONV && o->bf16)
        *w = round_up((conv16_packed_count(l->out_c, l->in_c, o->k) + 1) / 2, ALIGN), *b = lanes;
    else if (o->kind == OP_CONV)
        *w = round_up(o->wino ? wino_packed_floats(l->out_c, l->in_c)
                              : conv_packed_floats(l->out_c, l->in_c, o->k), ALIGN),
        *b = lanes;
    else if (o->kind == OP_AFFINE)
        *w = lanes, *b = lanes;
    else if (o->kind == OP_DENSE)
        *w = round_up(ops_dense_floats(l->out_c, l->in_c), ALIGN), *b = lanes;
}

/* All ops' parameters, in op order, make one block of this many bytes. */
static size_t params_bytes(const struct fwd *f)
{
    size_t total = 0, w, b;
    for (int i = 0; i < f->n_ops; i++) {
        op_param_floats(&f->op[i], &w, &b);
        total += w + b;
    }
    return round_up((total ? total : 1) * sizeof(float), ALIGN);
}

/* Point every op at its part of the block at p. */
static void place_params(struct fwd *f, float *p)
{
    size_t w, b;
    for (int i = 0; i < f->n_ops; i++) {
        struct op *o = &f->op[i];
        op_param_floats(o, &w, &b);
        if (!w)
            continue;
        o->w = p, p += w;
        o->b = p, p += b;
        if (o->int8)
            o->scale8 = o->b, o->b += b / 2;
    }
}

/* Fold BatchNorm into the conv (w' = w*g/sqrt(v+eps), b' = (b-m)*g/sqrt(v+eps) + beta),
 * in double for accuracy, and pack conv and dense weights in the order their
 * kernels read them; affine ops get their scale and shift. */
static int fold_weights(struct fwd *f, struct err *e)
{
    int max_c = 1;
    for (int i = 0; i < f->n_ops; i++)
        max_c = f->op[i].l->out_c > max_c ? f->op[i].l->out_c : max_c;
    /* A mapping of its own, in 2 MB pages where the kernel allows: packing
     * a hundred megabytes through 4 KB page faults is a fault every 1024
     * floats. */
    f->params = mmap(NULL, f->params_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    if (f->params == MAP_FAILED)
        f->params = NULL;
    else
        madvise(f->params, f->params_bytes, MADV_HUGEPAGE);
    f->mapping = f->params, f->mapping_bytes = f->params_bytes;
    double *scale = malloc((size_t)max_c * omp_get_max_threads() * sizeof *scale);
    if (!f->params || !scale) {
        free(scale);
        return err_set(e, "forward: out of memory for %zu bytes of folded weights",
                       f->params_bytes);
    }
    /* Lay the ops' weights out in order, then fold and pack them on every
     * thread: packing is most of a process's start-up. */
    place_params(f, f->params);
#pragma omp parallel for schedule(dynamic, 1)
    for (int i = 0; i < f->n_ops; i++) {
        struct op *o = &f->op[i];
        const struct layer *l = o->l;
        const size_t lanes = round_up((size_t)l->out_c, BLK);
        double *sc_of = scale + (size_t)omp_get_thread_num() * max_c;   /* [out_c] */
        if (o->kind == OP_CONV) {
            const struct layer *bn = o->bn;
            for (size_t oc = 0; oc < lanes; oc++) {
                if (oc >= (size_t)l->out_c) {
                    o->b[oc] = 0;
                    continue;
                }
                double sc = 1, shift = l->b ? l->b[oc] : 0;
                if (bn) {
                    sc = bn->w[oc] / sqrt((double)bn->var[oc] + bn->eps);
                    shift = (shift - bn->mean[oc]) * sc + bn->b[oc];
                }
                sc_of[oc] = sc;
                o->b[oc] = (float)shift;
            }
            if (o->int8) {
                /* the weights' scale per channel times the input's */
                conv8_pack((int8_t *)o->w, o->scale8, l->w, sc_of, l->out_c, l->in_c, o->k);
                const int zero = f->val[o->in].zero;
                for (size_t oc = 0; oc < lanes; oc++) {
                    o->scale8[oc] = (float)((double)f->val[o->in].scale * o->scale8[oc]);
                    /* an input with a zero point: its sums hold zero x the weights' sum */
                    if (zero && oc < (size_t)l->out_c)
                        o->b[oc] = (float)(o->b[oc] - (double)o->scale8[oc] * zero *
                                   conv8_weight_sum((int8_t *)o->w, l->in_c, o->k, (int)oc));
                }
            } else if (o->bf16)
                conv16_pack((uint16_t *)o->w, l->w, sc_of, l->out_c, l->in_c, o->k);
            else if (o->wino)
                wino_pack(o->w, l->w, sc_of, l->out_c, l->in_c);
            else
                conv_pack(o->w, l->w, sc_of, l->out_c, l->in_c, o->k);
            net_release(l->w, (size_t)net_weight_count(l) * sizeof(float));
        } else if (o->kind == OP_AFFINE) {
            for (size_t c = 0; c < lanes; c++) {
                double sc = c < (size_t)l->out_c ? l->w[c] / sqrt((double)l->var[c] + l->eps) : 0;
                o->w[c] = (float)sc;
                o->b[c] = c < (size_t)l->out_c ? (float)(l->b[c] - l->mean[c] * sc) : 0.0f;
            }
        } else if (o->kind == OP_DENSE) {
            ops_dense_pack(o->w, l->w, l->out_c, l->in_c);
            for (size_t c = 0; c < lanes; c++)
                o->b[c] = l->b && c < (size_t)l->out_c ? l->b[c] : 0.0f;
        }
    }
    free(scale);
    return 0;
}

/* Give every value a buffer, reusing those whose values are dead. */
static int plan_buffers(struct fwd *f, struct err *e)
{
    for (int i = 0; i < f->n_ops; i++) {
        const struct op *o = &f->op[i];
        if (o->in >= 0)
            f->val[o->in].last_use = i;
        if (o->in2 >= 0)
            f->val[o->in2].last_use = i;
    }
    /* value held by each buffer, -1 free */
    int *owner = calloc(2 * (size_t)f->n_ops + 1, sizeof *owner);
    if (!owner)
        return err_set(e, "forward: out of memory");
    f->n_bufs = 0;
    f->buf_floats = 1;
    for (int i = 0; i < f->n_ops; i++)
        for (int j = 0; j < 2; j++) {
            const int out = j ? f->op[i].out2 : f->op[i].out;
            if (out < 0)
                continue;
            int b = -1;
            if (f->val[out].last_use < i)   /* an op's two outputs never share a buffer */
                f->val[out].last_use = i;
            for (int k = 0; k < f->n_bufs && b < 0; k++)
                if (owner[k] < 0 || f->val[owner[k]].last_use < i)
                    b = k;
            if (b < 0)
                b = f->n_bufs++;
            owner[b] = out;
            f->val[out].buf = b;
            if (value_floats(f, out) > f->buf_floats)
                f->buf_floats = value_floats(f, out);
        }
    free(owner);
    f->buf = calloc((size_t)f->n_bufs, sizeof *f->buf);
    if (!f->buf)
        return err_set(e, "forward: out of memory");
    /* One mapping in 2 MB pages, faulted in now rather than by the first
     * forward pass, whose kernels would otherwise take 4 KB faults.  Touched
     * page by page, not MADV_POPULATE_WRITE, which holds the process's
     * memory map lock throughout and so stalls the decoding thread's
     * first mallocs for as long. */
    f->buf_bytes = round_up(f->buf_floats * sizeof(float), ALIGN);
    f->bufs_bytes = f->buf_bytes * f->n_bufs;
    void *m = mmap(NULL, f->bufs_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return err_set(e, "forward: out of memory for %d activation buffers of %zu floats",
                       f->n_bufs, f->buf_floats);
    f->bufs = m;
    madvise(m, f->bufs_bytes, MADV_HUGEPAGE);
    for (size_t at = 0; at < f->bufs_bytes; at += 4096)
        ((volatile char *)m)[at] = 0;
    for (int k = 0; k < f->n_bufs; k++)
        f->buf[k] = (float *)((char *)m + k * f->buf_bytes);
    return 0;
}

int fwd_plan(struct fwd **out, const struct net *n, int batch, const struct fwd_opts *o,
             struct err *e)
{
    *out = NULL;
    if (batch < 1)
        return err_set(e, "forward: batch must be at least 1");
    if (n->layer[n->n_layers - 1].kind != LAYER_DENSE)
        return err_set(e, "forward: the network does not end in a classifier");
    struct fwd *f = calloc(1, sizeof *f);
    struct slot *s = calloc((size_t)n->n_layers, sizeof *s);
    if (!f || !s) {
        free(f), free(s);
        return err_set(e, "forward: out of memory");
    }
    f->k = o && o->kernels ? o->kernels : cpu_kernels();
    f->batch = batch;
    f->classes = n->layer[n->n_layers - 1].out_c;
    /* room for an int8 plan's QUANT ops and u8 twins */
    f->op = calloc(2 * (size_t)n->n_layers, sizeof *f->op);
    f->val = calloc(2 * (size_t)n->n_layers + 1, sizeof *f->val);
    f->probs = malloc((size_t)batch * f->classes * sizeof(float));
    int rc = (!f->op || !f->val || !f->probs) ? err_set(e, "forward: out of memory") : 0;
    if (!rc)
        rc = plan(f, n, s, e);
    if (!rc)
        rc = fwd_plan_int8(f, o, e);
    if (!rc) {
        plan_halos(f);
        rc = fwd_plan_paths(f, o, e);
    }
    if (!rc) {
        f->params_bytes = params_bytes(f);
        rc = plan_buffers(f, e);
    }
    free(s);
    if (rc) {
        fwd_free(f);
        return -1;
    }
    *out = f;
    return 0;
}

int fwd_pack(struct fwd *f, struct net *n, struct err *e)
{
    if (!n->layer[n->n_layers - 1].w)
        return err_set(e, "forward: the network has no loaded classifier");
    return fold_weights(f, e);
}

const struct kernels *fwd_kernels(const struct fwd *f)
{
    return f->k;
}

const float *fwd_params(const struct fwd *f, size_t *bytes)
{
    *bytes = f->params_bytes;
    return f->params;
}

void fwd_adopt_params(struct fwd *f, const float *params, void *mapping, size_t mapping_bytes)
{
    f->params = (float *)params;
    f->mapping = mapping, f->mapping_bytes = mapping_bytes;
    place_params(f, f->params);
}

/* FNV-1a, 64 bits */
static uint64_t hash_bytes(uint64_t h, const void *p, size_t len)
{
    for (const unsigned char *c = p; len--; c++)
        h = (h ^ *c) * 0x100000001b3ull;
    return h;
}

uint64_t fwd_params_layout(const struct fwd *f)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < f->n_ops; i++) {
        const struct op *o = &f->op[i];
        const struct layer *l = o->l;
        size_t w, b;
        op_param_floats(o, &w, &b);
        if (!w)
            continue;
        /* what decides the values: the layer and its weights' names, shapes,
         * the BatchNorm folded in and its epsilon, the packing (Winograd's or not) */
        const struct layer *bn = o->kind == OP_CONV ? o->bn : NULL;
        const int shape[] = {o->kind, l->kind, l->in_c, l->out_c, o->k, l->bias, (int)w, (int)b,
                             o->wino, o->int8, o->bf16};
        const float eps = bn ? bn->eps : o->kind == OP_AFFINE ? l->eps : 0;
        h = hash_bytes(h, shape, sizeof shape);
        if (o->int8) {   /* the input's scale is in scale8, its zero point in b */
            h = hash_bytes(h, &f->val[o->in].scale, sizeof(float));
            h = hash_bytes(h, &f->val[o->in].zero, sizeof(int));
        }
        h = hash_bytes(h, &eps, sizeof eps);
        h = hash_bytes(h, l->name, strlen(l->name) + 1);
        h = hash_bytes(h, l->tensor, strlen(l->tensor) + 1);
        if (bn) {
            h = hash_bytes(h, bn->name, strlen(bn->name) + 1);
            h = hash_bytes(h, bn->tensor, strlen(bn->tensor) + 1);
        }
    }
    return hash_bytes(h, &f->params_bytes, sizeof f->params_bytes);
}

/* An int8 conv writes its out as u8, or as fp32 and, with out2, its u8 twin too. */
static void run_conv8(const struct fwd *f, const struct op *o)
{
    struct conv8_args a = {
        .in = value_blk8(f, o->in), .w = (const int8_t *)o->w, .scale = o->scale8, .b = o->b,
        .n = f->batch, .k = o->k, .stride = o->stride, .pad_t = o->pad_t, .pad_l = o->pad_l,
        .relu = o->relu,
    };
    const int u8 = f->val[o->out].u8 ? o->out : o->out2;
    if (!f->val[o->out].u8)
        a.out = value_blk(f, o->out);
    if (u8 >= 0)
        a.out8 = value_blk8(f, u8), a.out_inv = 1 / f->val[u8].scale;
    if (o->in2 >= 0)
        a.res = value_blk(f, o->in2);
    o->conv8(&a);
}

/* A bf16 conv, likewise: out as bf16, or as fp32 and, with out2, bf16 too. */
static void run_conv16(const struct fwd *f, const struct op *o)
{
    struct conv16_args a = {
        .in = value_blk16(f, o->in), .w = (const uint16_t *)o->w, .b = o->b, .n = f->batch,
        .k = o->k, .stride = o->stride, .pad_t = o->pad_t, .pad_l = o->pad_l, .relu = o->relu,
    };
    const int h = f->val[o->out].bf16 ? o->out : o->out2;
    if (!f->val[o->out].bf16)
        a.out = value_blk(f, o->out);
    if (h >= 0)
        a.out16 = value_blk16(f, h);
    if (o->in2 >= 0)
        a.res = value_blk(f, o->in2);
    o->conv16(&a);
}

static void run_op(const struct fwd *f, const struct op *o)
{
    const int n = f->batch;
    const struct blk out = value_blk(f, o->out);
    const struct blk in = o->in >= 0 ? value_blk(f, o->in) : out;
    switch (o->kind) {
    case OP_INPUT:
        ops_from_planar(f->input, &out, n);
        break;
    case OP_CONV: {
        if (o->int8) {
            run_conv8(f, o);
            break;
        }
        if (o->bf16) {
            run_conv16(f, o);
            break;
        }
        struct conv_args a = {
            .in = in, .out = out, .w = o->w, .b = o->b, .n = n,
            .k = o->k, .stride = o->stride, .pad_t = o->pad_t, .pad_l = o->pad_l,
            .relu = o->relu, .tiling = o->tiling,
        };
        if (o->in2 >= 0)
            a.res = value_blk(f, o->in2);
        if (o->wino)
            f->k->wino(&a, &o->wp, f->scratch);
        else
            o->conv(&a);
        break;
    }
    case OP_QUANT:
        if (f->val[o->out].bf16) {
            const struct blk16 h = value_blk16(f, o->out);
            conv16_convert(&in, &h, n);
        } else {
            const struct blk8 q = value_blk8(f, o->out);
            conv8_quantize(&in, &q, 1 / f->val[o->out].scale, f->val[o->out].zero, n);
        }
        break;
    case OP_AFFINE:
        ops_affine(&in, &out, o->w, o->b, n, o->relu);
        break;
    case OP_RELU:
        ops_relu(&in, &out, n);
        break;
    case OP_ADD: {
        const struct blk b = value_blk(f, o->in2);
        ops_add(&in, &b, &out, n, o->relu);
        break;
    }
    case OP_MAXPOOL:
    case OP_AVGPOOL: {
        const struct pool_geo g = {o->k, o->stride, o->pad_t, o->pad_l,
                                   o->zero[0], o->zero[1], o->zero[2], o->zero[3]};
        if (o->kind == OP_MAXPOOL)
            f->k->maxpool(&in, &out, n, &g);
        else
            ops_avgpool(&in, &out, n, &g);
        break;
    }
    case OP_GAP:
        ops_global_avgpool(&in, &out, n);
        break;
    case OP_FLATTEN:
        ops_flatten(&in, &out, n);
        break;
    case OP_DENSE:
        ops_dense(&in, &out, o->w, o->b, n, o->relu);
        break;
    }
}


const float *fwd_run(struct fwd *f, const float *in)
{
    f->input = in;
    for (int i = 0; i < f->n_ops; i++) {
        double t0 = f->profile_ms ? omp_get_wtime() * 1e3 : 0;
        run_op(f, &f->op[i]);
        const struct op *o = &f->op[i];
        if (f->observe && f->val[o->out].quantizable) {
            const struct blk v = value_blk(f, o->out);
            f->observe(f->observe_ctx, fwd_op_label(f, o), &v, f->batch);
        }
        if (f->profile_ms && i > 0)
            f->profile_ms[i - 1] += omp_get_wtime() * 1e3 - t0;
    }
    const struct op *last = &f->op[f->n_ops - 1];
    const struct blk logits = value_blk(f, last->out);
    ops_to_planar(&logits, f->probs, f->batch);
    if (last->l->softmax)
        ops_softmax(f->probs, f->batch, f->classes);
    f->input = NULL;
    return f->probs;
}

/* The profile lists the network's layers: op 0, the conversion of the
 * caller's input into the blocked layout, is not one of them. */
int fwd_op_count(const struct fwd *f)
{
    return f->n_ops - 1;
}

const char *fwd_op_name(const struct fwd *f, int i)
{
    return fwd_op_label(f, &f->op[i + 1]);
}

double fwd_op_macs(const struct fwd *f, int i)
{
    return f->op[i + 1].kind == OP_QUANT ? 0 : f->op[i + 1].l->macs;
}

void fwd_op_describe(const struct fwd *f, int i, char *out, size_t len)
{
    const struct op *o = &f->op[i + 1];
    out[0] = 0;
    if (o->kind == OP_QUANT)
        snprintf(out, len, "fp32 to %s", f->val[o->out].bf16 ? "bf16" : "u8");
    if (o->kind != OP_CONV)
        return;
    if (o->int8) {
        const struct conv8_args a = {.in = value_blk8(f, o->in), .out = value_shape(f, o->out),
                                     .n = f->batch, .k = o->k, .stride = o->stride};
        const int plain = o->conv8 == f->k->conv8_plain;
        const struct kernels *k = o->conv8 == f->k->conv8 || plain ? f->k : &kernels_c;
        int at = snprintf(out, len, "int8 %s, ", k->name);
        if (at > 0 && (size_t)at < len)
            (plain ? k->conv8_plain_describe : k->conv8_describe)(&a, omp_get_max_threads(),
                                                                  out + at, len - (size_t)at);
        return;
    }
    if (o->bf16) {
        const struct conv16_args a = {.in = value_blk16(f, o->in), .out = value_shape(f, o->out),
                                      .n = f->batch, .k = o->k, .stride = o->stride};
        const struct kernels *k = o->conv16 == f->k->conv16 ? f->k : &kernels_c;
        int at = snprintf(out, len, "bf16 %s, ", k->name);
        if (at > 0 && (size_t)at < len)
            k->conv16_describe(&a, omp_get_max_threads(), out + at, len - (size_t)at);
        return;
    }
    if (o->wino) {
        snprintf(out, len, "winograd %s, groups %dx%d tiles, chunks %dx%d out-blocks",
                 f->k->name, o->wp.groups, o->wp.group, o->wp.chunks, o->wp.ocb_chunk);
        return;
    }
    const struct conv_args a = conv_shape(f, o);
    const struct kernels *k = o->conv == f->k->conv ? f->k : &kernels_c;
    int at = snprintf(out, len, "direct %s, ", k->name);
    if (at > 0 && (size_t)at < len)
        k->conv_describe(&a, omp_get_max_threads(), out + at, len - (size_t)at);
}

void fwd_observe(struct fwd *f, void (*fn)(void *ctx, const char *name, const struct blk *v,
                                           int n), void *ctx)
{
    f->observe = fn, f->observe_ctx = ctx;
}

void fwd_profile(struct fwd *f, double *ms)
{
    f->profile_ms = ms;
}

void fwd_free(struct fwd *f)
{
    if (!f)
        return;
    if (f->bufs)
        munmap(f->bufs, f->bufs_bytes);
    free(f->buf);
    free(f->scratch);
    if (f->mapping)
        munmap(f->mapping, f->mapping_bytes);
    free(f->op);
    free(f->val);
    free(f->probs);
    free(f);
}
