/* forward_paths.c -- how each convolution of a forward plan is computed:
 * the kernel table's entry for its stride (else the portable one), the cut
 * of its work that tune.h measured fastest on this machine, and, when
 * asked, Winograd where that is faster (see forward_ops.h). */
#include <omp.h>
#include <stdlib.h>

#include "cpu.h"
#include "forward_ops.h"
#include "tune.h"

/* Each direct conv's kernel: the table's where it has one for the stride. */
static void plan_kernels(struct fwd *f)
{
    for (int i = 0; i < f->n_ops; i++) {
        struct op *o = &f->op[i];
        const unsigned s = o->stride < 32 ? 1u << o->stride : 0;
        if (o->kind == OP_CONV && !o->int8 && !o->bf16)
            o->conv = f->k->conv_strides & s ? f->k->conv : kernels_c.conv;
        if (o->kind == OP_CONV && o->bf16)
            o->conv16 = f->k->conv16 && (f->k->conv16_strides & s) &&
                                cpu_has_extra(f->k->conv16_needs)
                            ? f->k->conv16
                            : kernels_c.conv16;
        if (o->kind == OP_CONV && o->int8) {
            const int simd = f->k->conv8 && (f->k->conv8_strides & s);
            o->conv8 = !simd                                ? kernels_c.conv8
                       : cpu_has_extra(f->k->conv8_needs) ? f->k->conv8
                       : f->k->conv8_plain                ? f->k->conv8_plain
                                                          : kernels_c.conv8;
        }
    }
}

/* With fwd_opts.tune, each direct convolution's cut and, with
 * fwd_opts.winograd, whether Winograd is faster: measured (tune.h). */
static void plan_tuning(struct fwd *f, const struct fwd_opts *opts)
{
    for (int i = 0; i < f->n_ops; i++) {
        struct op *o = &f->op[i];
        o->wino_faster = -1;
        if (!opts || !opts->tune || o->kind != OP_CONV || o->int8 || o->bf16 ||
            o->conv != f->k->conv)
            continue;
        const struct conv_args a = conv_shape(f, o);
        struct tune_choice c;
        tune_conv(opts->tune, f->k, &a, o->in2 >= 0, omp_get_max_threads(),
                  opts->winograd && wino_applies(o->k, o->stride), &c);
        o->tiling = c.tiling, o->wino_faster = c.wino;
    }
}

/* With fwd_opts.winograd, the 3x3 stride-1 convs Winograd runs faster take
 * it (measured, else as wino_plan expects); their scratch is the largest
 * any needs, per thread. */
static int plan_winograd(struct fwd *f, const struct fwd_opts *opts, struct err *e)
{
    size_t scratch = 0;
    for (int i = 0; opts && opts->winograd && i < f->n_ops; i++) {
        struct op *o = &f->op[i];
        if (o->kind != OP_CONV || o->int8 || o->bf16 || !wino_applies(o->k, o->stride) ||
            !o->wino_faster)
            continue;
        const struct conv_args a = conv_shape(f, o);
        o->wino = wino_plan(&a, omp_get_max_threads(), &o->wp);
        if (o->wino && o->wp.threads * o->wp.scratch_floats > scratch)
            scratch = o->wp.threads * o->wp.scratch_floats;
    }
    if (scratch && !(f->scratch = aligned_alloc(ALIGN, round_up(scratch * sizeof(float), ALIGN))))
        return err_set(e, "forward: out of memory for %zu floats of Winograd scratch", scratch);
    return 0;
}

int fwd_plan_paths(struct fwd *f, const struct fwd_opts *opts, struct err *e)
{
    plan_kernels(f);
    plan_tuning(f, opts);
    return plan_winograd(f, opts, e);
}
