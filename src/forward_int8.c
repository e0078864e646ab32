/* forward_int8.c -- which convolutions of a forward plan run in int8 or
 * bf16, and the u8 or bf16 values they read (see forward_ops.h, conv8.h,
 * conv16.h).  int8 first; bf16 at the end.
 *
 * A convolution runs in int8 when its input is never negative -- it
 * follows a ReLU, directly or through a pool -- so that u8 with zero point
 * 0 holds it; and the stem, which reads the normalised image, when the
 * caller gives that image's range (fwd_opts.input_lo/hi: what the
 * preprocessing can produce, so no calibration), as u8 with a zero point.
 * The pools, the global pool and the classifier stay fp32.  A quantizable
 * value whose only readers are int8 convolutions is stored as u8 alone
 * (inside a bottleneck: conv1 -> conv2 -> conv3).  One that something also
 * reads in fp32 -- the residual stream, which an add or a later residual
 * reads, and the pools -- stays fp32, so quantization error does not
 * compound down the blocks, and gets a u8 twin: written beside it by the
 * int8 convolution that produces it, or by a QUANT op after any other
 * producer (the stem's max pool, a pre-activation BatchNorm).
 *
 * bf16 needs no ranges and no sign: every convolution reads a bf16 value,
 * stored and twinned by the same rules.  In both, the
 * classifier after a global pool is a bf16 1x1 convolution of a 1x1 image
 * (in int8 plans too: its int8 error, measured on the parity photos, was
 * several times the convolutions'), so its weights, a quarter of resnet50's,
 * are not kept in fp32. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forward_ops.h"

const char *fwd_op_label(const struct fwd *f, const struct op *o)
{
    (void)f;
    return o->kind == OP_QUANT ? o->label : o->l->name;
}

/* Never negative, of ops other than the pools (which keep their input's
 * sign): a ReLU's output, or one fused into the op. */
static int op_nonneg(const struct op *o)
{
    if (o->kind == OP_RELU)
        return 1;
    return o->kind != OP_INPUT && o->kind != OP_QUANT && o->relu;
}

static float range_of(const struct fwd_ranges *r, const char *name)
{
    for (int i = 0; r && i < r->n; i++)
        if (!strcmp(r->name[i], name))
            return r->max[i];
    return r && r->default_max > 0 ? r->default_max : -1;
}

int fwd_plan_int8(struct fwd *f, const struct fwd_opts *opts, struct err *e)
{
    const int n_ops = f->n_ops, n_vals = f->n_vals;
    const int int8 = opts && opts->precision == FWD_INT8, bf16 = opts && opts->precision == FWD_BF16;
    int *nonneg = calloc((size_t)n_vals, sizeof *nonneg);
    int *fp32_readers = calloc((size_t)n_vals, sizeof *fp32_readers);
    int *lp_readers = calloc((size_t)n_vals, sizeof *lp_readers);
    int *bf16_readers = calloc((size_t)n_vals, sizeof *bf16_readers);
    int *twin = malloc((size_t)n_vals * sizeof *twin);
    struct op *ops = malloc((size_t)2 * n_ops * sizeof *ops);
    int rc = 0;
    if (!nonneg || !fp32_readers || !lp_readers || !bf16_readers || !twin || !ops) {
        rc = err_set(e, "forward: out of memory");
        goto done;
    }
    for (int i = 0; i < n_ops; i++) {
        const struct op *o = &f->op[i];
        const int pooled = o->kind == OP_MAXPOOL || o->kind == OP_AVGPOOL || o->kind == OP_GAP;
        nonneg[o->out] = pooled ? nonneg[o->in] : op_nonneg(o);
    }
    for (int i = 0; i < n_ops; i++) {
        const struct op *o = &f->op[i];
        if ((o->kind == OP_CONV || o->kind == OP_DENSE) && nonneg[o->in])
            f->val[o->in].quantizable = 1;
    }
    if (!int8 && !bf16)
        goto done;
    /* the stem reads the network's input (op 0's), which can be negative:
     * u8 with a zero point, over the range the preprocessing gives it */
    const int stem_int8 = int8 && opts->input_lo < opts->input_hi && f->op[0].kind == OP_INPUT;

    /* bf16: every convolution, the stem too (its kernel skips the pairs of
     * spare lanes of its 3-channel input) */
    for (int v = 0; v < n_vals; v++)
        twin[v] = -1;
    for (int i = 0; i < n_ops; i++) {
        struct op *o = &f->op[i];
        o->int8 = int8 && o->kind == OP_CONV &&
                  (f->val[o->in].quantizable || (stem_int8 && o->in == f->op[0].out));
        /* bf16 plans, and int8 ones for the classifier, whose int8 error the
         * parity photos show to be several times its convolutions' */
        o->bf16 = (bf16 && o->kind == OP_CONV) || (o->kind == OP_DENSE && f->val[o->in].c >= BLK);
        if (o->kind == OP_DENSE && o->bf16)
            o->kind = OP_CONV, o->k = o->stride = 1;   /* a 1x1 convolution of a 1x1 image */
        if (o->bf16)
            bf16_readers[o->in]++;
        if (o->int8 || o->bf16)
            lp_readers[o->in]++;
        else if (o->in >= 0)
            fp32_readers[o->in]++;
        if (o->in2 >= 0)
            fp32_readers[o->in2]++;
    }
    int n = 0;
    for (int i = 0; i < n_ops; i++) {
        struct op *o = &ops[n++];
        *o = f->op[i];
        struct value *v = &f->val[o->out];
        if (!lp_readers[o->out])
            continue;
        /* what its low-precision readers read; a value read by int8 and bf16
         * convolutions both is not one a ResNet has */
        const int as_bf16 = bf16_readers[o->out] > 0;
        if (as_bf16 && bf16_readers[o->out] != lp_readers[o->out]) {
            rc = err_set(e, "forward: %s is read by int8 and bf16 convolutions", o->l->name);
            goto done;
        }
        float scale = 0;
        int zero = 0;
        if (!as_bf16 && o->kind == OP_INPUT) {
            const float lo = opts->input_lo < 0 ? opts->input_lo : 0, hi = opts->input_hi;
            scale = (hi - lo) / 255;
            zero = (int)lrintf(-lo / scale);
        } else if (!as_bf16) {
            const float max = range_of(opts->ranges, o->l->name);
            if (max < 0) {
                rc = err_set(e, "int8: no calibrated range for %s (the output of %s); run "
                             "`resnet calibrate` for this model and weights", o->l->name,
                             o->l->name);
                goto done;
            }
            scale = max > 0 ? max / 255 : 1;
        }
        /* the producer writes the type itself when it is a convolution of the same */
        const int writes = as_bf16 ? o->bf16 : o->int8;
        if (writes && !fp32_readers[o->out]) {
            /* read by int8 (bf16) convolutions alone */
            v->u8 = !as_bf16, v->bf16 = as_bf16, v->scale = scale;
            continue;
        }
        const int t = f->n_vals++;
        f->val[t] = *v;
        f->val[t].u8 = !as_bf16, f->val[t].bf16 = as_bf16, f->val[t].scale = scale;
        f->val[t].zero = zero;
        f->val[t].halo = 0;
        f->val[t].last_use = -1, f->val[t].quantizable = 0;
        twin[o->out] = t;
        if (writes) {
            o->out2 = t;
            continue;
        }
        struct op *q = &ops[n++];
        memset(q, 0, sizeof *q);
        q->kind = OP_QUANT, q->l = o->l, q->in = o->out, q->in2 = -1, q->out = t, q->out2 = -1;
        snprintf(q->label, sizeof q->label, "%s/%s", o->l->name, as_bf16 ? "bf16" : "u8");
    }
    for (int i = 0; i < n; i++)
        if ((ops[i].int8 || ops[i].bf16) && twin[ops[i].in] >= 0)
            ops[i].in = twin[ops[i].in];
    memcpy(f->op, ops, (size_t)n * sizeof *ops);
    f->n_ops = n;
done:
    free(nonneg), free(fp32_readers), free(lp_readers), free(bf16_readers), free(twin), free(ops);
    return rc;
}
