/* forward.c -- the layer list turned into a short program of fused ops, run
 * over activation buffers planned once.
 *
 * Planning walks the layers in order and fuses what Keras keeps separate:
 * a ZeroPadding2D becomes the padding of the conv or pool that reads it, a
 * BatchNormalization is folded into the conv before it, and an Add and a
 * ReLU become the conv's output write.  What cannot be fused runs as its
 * own op.  Each op's output is a "value"; values get buffers by liveness, so
 * a ResNet runs in a handful of buffers whatever its depth. */
#include "forward.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conv.h"
#include "ops.h"

enum op_kind { OP_CONV, OP_AFFINE, OP_RELU, OP_ADD, OP_MAXPOOL, OP_GAP, OP_DENSE };

struct op {
    enum op_kind kind;
    const struct layer *l;   /* the layer whose shapes the op uses */
    int in, in2, out;        /* value ids; in2: residual (conv) or b (add), -1 if none */
    int pad_t, pad_l;        /* conv / maxpool: zero padding taken from a ZEROPAD */
    int relu;
    const struct layer *bn;  /* conv: the BatchNorm folded into it, or NULL */
    float *w, *b;            /* conv: [out_c][in_c][k][k] + [out_c], BN folded;
                              * affine: scale [c] + shift [c]; dense: the layer's own */
};

struct value {
    int c, h, w;
    int last_use;            /* index of the last op that reads it */
    int buf;                 /* index into fwd.buf; -1 for the caller's input */
};

struct fwd {
    int batch;
    int classes;
    struct op *op;
    int n_ops;
    struct value *val;
    int n_vals;
    float **buf;             /* [n_bufs][buf_floats] */
    int n_bufs;
    size_t buf_floats;
    float *params;           /* folded conv weights and biases, affine scale/shift */
    float *probs;            /* [batch][classes] */
    const float *input;      /* the caller's input during fwd_run */
    double *profile_ms;      /* [n_ops] accumulated op times, or NULL */
};

static size_t value_floats(const struct fwd *f, int v)
{
    const struct value *x = &f->val[v];
    return (size_t)f->batch * x->c * x->h * x->w;
}

static const float *value_in(const struct fwd *f, int v)
{
    return f->val[v].buf < 0 ? f->input : f->buf[f->val[v].buf];
}

static float *value_out(const struct fwd *f, int v)
{
    return f->buf[f->val[v].buf];
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
    v->last_use = -1;
    v->buf = 0;
    return f->n_vals++;
}

static struct op *new_op(struct fwd *f, enum op_kind kind, const struct layer *l,
                         int in, int in2)
{
    struct op *o = &f->op[f->n_ops++];
    memset(o, 0, sizeof *o);
    o->kind = kind, o->l = l, o->in = in, o->in2 = in2, o->out = new_value(f, l);
    return o;
}

/* Resolve a layer's input through an optional ZeroPadding2D. */
static int padded_input(const struct net *n, const struct slot *s, const struct layer *l,
                        int *pad_t, int *pad_l, struct err *e)
{
    const struct layer *src = &n->layer[l->in[0]];
    *pad_t = *pad_l = 0;
    if (src->kind == LAYER_ZEROPAD) {
        *pad_t = src->pad_t, *pad_l = src->pad_l;
        if (n->layer[src->in[0]].kind == LAYER_ZEROPAD)
            return err_set(e, "forward: layer %s: two paddings in a row are not supported",
                           src->name);
    }
    return s[l->in[0]].value;
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
        int pt, pl, v;
        switch (l->kind) {
        case LAYER_INPUT:
            me->value = new_value(f, l);
            f->val[me->value].buf = -1;
            break;
        case LAYER_ZEROPAD:
            if (s[i].consumers != 1)
                return err_set(e, "forward: padding layer %s must feed exactly one layer",
                               l->name);
            me->value = in->value;
            break;
        case LAYER_CONV:
            if ((v = padded_input(n, s, l, &pt, &pl, e)) < 0)
                return -1;
            o = new_op(f, OP_CONV, l, v, -1);
            o->pad_t = pt, o->pad_l = pl;
            me->value = o->out;
            me->op = (int)(o - f->op);
            break;
        case LAYER_BN:
            if (in->op >= 0 && f->op[in->op].kind == OP_CONV && !f->op[in->op].bn &&
                !f->op[in->op].relu && f->op[in->op].in2 < 0 && in->consumers == 1) {
                f->op[in->op].bn = l;   /* weights are folded in fwd_create */
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
            if ((v = padded_input(n, s, l, &pt, &pl, e)) < 0)
                return -1;
            o = new_op(f, OP_MAXPOOL, l, v, -1);
            o->pad_t = pt, o->pad_l = pl;
            me->value = o->out;
            break;
        case LAYER_GAP:
            o = new_op(f, OP_GAP, l, in->value, -1);
            me->value = o->out;
            break;
        case LAYER_DENSE:
            o = new_op(f, OP_DENSE, l, in->value, -1);
            o->w = l->w, o->b = l->b;
            me->value = o->out;
            break;
        }
    }
    return 0;
}

/* Fold BatchNorm into the conv (w' = w*g/sqrt(v+eps), b' = (b-m)*g/sqrt(v+eps) + beta)
 * and make affine ops' scale and shift, in double for accuracy. */
static int fold_weights(struct fwd *f, struct err *e)
{
    size_t total = 0;
    for (int i = 0; i < f->n_ops; i++) {
        const struct layer *l = f->op[i].l;
        if (f->op[i].kind == OP_CONV)
            total += (size_t)net_weight_count(l) + l->out_c;
        else if (f->op[i].kind == OP_AFFINE)
            total += 2 * (size_t)l->out_c;
    }
    f->params = malloc((total ? total : 1) * sizeof(float));
    if (!f->params)
        return err_set(e, "forward: out of memory for %zu folded weights", total);
    float *p = f->params;
    for (int i = 0; i < f->n_ops; i++) {
        struct op *o = &f->op[i];
        const struct layer *l = o->l;
        if (o->kind == OP_CONV) {
            size_t per = (size_t)l->in_c * l->k * l->k;
            o->w = p, p += per * l->out_c;
            o->b = p, p += l->out_c;
            const struct layer *bn = o->bn;
            for (int oc = 0; oc < l->out_c; oc++) {
                double scale = 1, shift = l->b ? l->b[oc] : 0;
                if (bn) {
                    scale = bn->w[oc] / sqrt((double)bn->var[oc] + bn->eps);
                    shift = (shift - bn->mean[oc]) * scale + bn->b[oc];
                }
                for (size_t j = 0; j < per; j++)
                    o->w[oc * per + j] = (float)(l->w[oc * per + j] * scale);
                o->b[oc] = (float)shift;
            }
        } else if (o->kind == OP_AFFINE) {
            o->w = p, p += l->out_c;
            o->b = p, p += l->out_c;
            for (int c = 0; c < l->out_c; c++) {
                double scale = l->w[c] / sqrt((double)l->var[c] + l->eps);
                o->w[c] = (float)scale;
                o->b[c] = (float)(l->b[c] - l->mean[c] * scale);
            }
        }
    }
    return 0;
}

/* Give every value a buffer, reusing those whose values are dead. */
static int plan_buffers(struct fwd *f, struct err *e)
{
    for (int i = 0; i < f->n_ops; i++) {
        const struct op *o = &f->op[i];
        f->val[o->in].last_use = i;
        if (o->in2 >= 0)
            f->val[o->in2].last_use = i;
    }
    int *owner = calloc((size_t)f->n_ops + 1, sizeof *owner);  /* value held by each buffer, -1 free */
    if (!owner)
        return err_set(e, "forward: out of memory");
    f->n_bufs = 0;
    f->buf_floats = 1;
    for (int i = 0; i < f->n_ops; i++) {
        int out = f->op[i].out, b = -1;
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
    for (int k = 0; k < f->n_bufs; k++)
        if (!(f->buf[k] = malloc(f->buf_floats * sizeof(float))))
            return err_set(e, "forward: out of memory for %d activation buffers of %zu floats",
                           f->n_bufs, f->buf_floats);
    return 0;
}

int fwd_create(struct fwd **out, const struct net *n, int batch, struct err *e)
{
    *out = NULL;
    if (batch < 1)
        return err_set(e, "forward: batch must be at least 1");
    const struct layer *last = &n->layer[n->n_layers - 1];
    if (last->kind != LAYER_DENSE || !last->w)
        return err_set(e, "forward: the network has no loaded classifier");
    struct fwd *f = calloc(1, sizeof *f);
    struct slot *s = calloc((size_t)n->n_layers, sizeof *s);
    if (!f || !s) {
        free(f), free(s);
        return err_set(e, "forward: out of memory");
    }
    f->batch = batch;
    f->classes = last->out_c;
    f->op = calloc((size_t)n->n_layers, sizeof *f->op);
    f->val = calloc((size_t)n->n_layers + 1, sizeof *f->val);
    f->probs = malloc((size_t)batch * f->classes * sizeof(float));
    int rc = (!f->op || !f->val || !f->probs) ? err_set(e, "forward: out of memory") : 0;
    if (!rc)
        rc = plan(f, n, s, e);
    if (!rc)
        rc = fold_weights(f, e);
    if (!rc)
        rc = plan_buffers(f, e);
    free(s);
    if (rc) {
        fwd_free(f);
        return -1;
    }
    *out = f;
    return 0;
}

static void run_op(const struct fwd *f, const struct op *o)
{
    const struct layer *l = o->l;
    const struct value *vin = &f->val[o->in];
    const int n = f->batch;
    float *out = value_out(f, o->out);
    switch (o->kind) {
    case OP_CONV: {
        struct conv_args a = {
            .in = value_in(f, o->in), .out = out,
            .res = o->in2 >= 0 ? value_in(f, o->in2) : NULL,
            .w = o->w, .b = o->b, .n = n,
            .in_c = vin->c, .in_h = vin->h, .in_w = vin->w,
            .out_c = l->out_c, .out_h = l->out_h, .out_w = l->out_w,
            .k = l->k, .stride = l->stride, .pad_t = o->pad_t, .pad_l = o->pad_l,
            .relu = o->relu,
        };
        conv_forward(&a);
        break;
    }
    case OP_AFFINE:
        ops_affine(value_in(f, o->in), out, o->w, o->b, n, vin->c,
                   (size_t)vin->h * vin->w, o->relu);
        break;
    case OP_RELU:
        ops_relu(value_in(f, o->in), out, value_floats(f, o->in));
        break;
    case OP_ADD:
        ops_add(value_in(f, o->in), value_in(f, o->in2), out, value_floats(f, o->in), o->relu);
        break;
    case OP_MAXPOOL:
        ops_maxpool(value_in(f, o->in), out, n, vin->c, vin->h, vin->w, l->out_h, l->out_w,
                    l->k, l->stride, o->pad_t, o->pad_l);
        break;
    case OP_GAP:
        ops_global_avgpool(value_in(f, o->in), out, n, vin->c, vin->h, vin->w);
        break;
    case OP_DENSE:
        ops_dense(value_in(f, o->in), out, o->w, o->b, n, l->in_c, l->out_c);
        if (o->relu)
            ops_relu(out, out, (size_t)n * l->out_c);
        break;
    }
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

const float *fwd_run(struct fwd *f, const float *in)
{
    f->input = in;
    for (int i = 0; i < f->n_ops; i++) {
        double t0 = f->profile_ms ? now_ms() : 0;
        run_op(f, &f->op[i]);
        if (f->profile_ms)
            f->profile_ms[i] += now_ms() - t0;
    }
    const struct op *last = &f->op[f->n_ops - 1];
    memcpy(f->probs, value_out(f, last->out), (size_t)f->batch * f->classes * sizeof(float));
    if (last->l->softmax)
        ops_softmax(f->probs, f->batch, f->classes);
    f->input = NULL;
    return f->probs;
}

int fwd_op_count(const struct fwd *f)
{
    return f->n_ops;
}

const char *fwd_op_name(const struct fwd *f, int i)
{
    return f->op[i].l->name;
}

double fwd_op_macs(const struct fwd *f, int i)
{
    return f->op[i].l->macs;
}

void fwd_profile(struct fwd *f, double *ms)
{
    f->profile_ms = ms;
}

void fwd_free(struct fwd *f)
{
    if (!f)
        return;
    for (int k = 0; f->buf && k < f->n_bufs; k++)
        free(f->buf[k]);
    free(f->buf);
    free(f->params);
    free(f->op);
    free(f->val);
    free(f->probs);
    free(f);
}
