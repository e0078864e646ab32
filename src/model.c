/* model.c -- opening a ready model (see model.h). */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "fetch.h"
#include "packed_cache.h"
#include "preprocess.h"
#include "ranges.h"
#include "spec.h"
#include "tune.h"
#include "weights.h"

/* A different input size: the resize before the centre crop scales with
 * the input, as the spec's default (input x 256/224) does. */
static void set_input_size(struct arch *a, int size)
{
    int shorter = a->in_h < a->in_w ? a->in_h : a->in_w;
    a->pre.resize = (int)(((long)a->pre.resize * size + shorter / 2) / shorter);
    a->in_h = a->in_w = size;
}

static int file_exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f)
        fclose(f);
    return f != NULL;
}

/* The error for a model without a weight file at `where` ("" when there
 * is no cache folder): how to get one. */
static int no_weights(const char *name, const char *where, struct err *e)
{
    if (!where[0])
        where = "(no $RESNET_HOME, $XDG_CACHE_HOME or $HOME)";
    if (fetch_default(name))
        return err_set(e, "no weights for %s: %s does not exist; run `resnet fetch %s` to "
                       "download them (see README, \"Weights\"), or pass -w FILE",
                       name, where, name);
    return err_set(e, "no weights for %s: %s does not exist; pass -w FILE, or download them "
                   "with `resnet fetch SPEC.json --url URL` (see README, \"Weights\")",
                   name, where);
}

/* The weight file to use: o->weights, else the model's default when it
 * exists; else "", with the default's path in where[] for the message. */
static int choose_weights(struct model *m, const char *name, char where[PATH_MAX],
                          struct err *e)
{
    const char *w = m->opts.weights;
    where[0] = 0;
    if (w) {
        if (snprintf(m->weights, sizeof m->weights, "%s", w) >= (int)sizeof m->weights)
            return err_set(e, "weights: the path %.64s... is too long", w);
        return 0;
    }
    struct err ignored;
    if (cache_weights_path(name, where, PATH_MAX, &ignored) == 0 && file_exists(where))
        snprintf(m->weights, sizeof m->weights, "%s", where);
    return 0;
}

int model_define(struct model **out, const struct model_opts *o, struct err *e)
{
    *out = NULL;
    struct model *m = calloc(1, sizeof *m);
    if (!m)
        return err_set(e, "out of memory");
    m->opts = *o;
    m->batch = o->batch > 0 ? o->batch : 1;
    struct arch a;
    char where[PATH_MAX];
    if (spec_load(o->model ? o->model : "resnet50", &a, e) || choose_weights(m, a.name, where, e))
        goto fail;
    /* Evaluate the weights as their publisher does (`resnet fetch` leaves a
     * sidecar where that differs from the spec: torchvision V2's resize 232). */
    if (m->weights[0] && fetch_sidecar_apply(m->weights, &a, e))
        goto fail;
    if (o->input_size)
        set_input_size(&a, o->input_size);
    a.pre.full_decode = o->full_decode;
    if (net_build(&a, &m->net, e) ||
        (!m->weights[0] && !o->random_ok && no_weights(a.name, where, e)))
        goto fail;
    if (!o->no_labels && labels_load(&m->net.arch, &m->labels, e))
        goto fail;
    *out = m;
    return 0;
fail:
    model_close(m);
    return -1;
}

/* Read, fold and pack the weight file (or generated weights). */
static int pack_weights(struct model *m, struct err *e)
{
    if (m->weights[0] ? weights_load(&m->net, m->weights, e) : weights_random(&m->net, 1, e))
        return -1;
    return fwd_pack(m->fwd, &m->net, e);
}

int model_ranges_path(const struct model *m, char out[PATH_MAX], struct err *e)
{
    struct fwd *f;
    if (fwd_plan(&f, &m->net, 1, NULL, e))
        return -1;
    const uint64_t layout = fwd_params_layout(f);
    fwd_free(f);
    return ranges_path(out, m->weights, layout, e);
}

/* The ranges an int8 plan uses: the caller's, or the calibration stored for
 * the weight file, or for generated weights any (timing does not depend on
 * them). */
static const struct fwd_ranges *int8_ranges(struct model *m, struct err *e)
{
    static const struct fwd_ranges any = {.default_max = 8};
    if (m->opts.ranges)
        return m->opts.ranges;
    if (!m->weights[0])
        return &any;
    char path[PATH_MAX], method[32];
    if (model_ranges_path(m, path, e))
        return NULL;
    int found = ranges_load(path, m->weights, &m->ranges, method, e);
    if (found < 0)
        return NULL;
    if (!found) {
        err_set(e, "int8: %s has no calibration for these weights; run `resnet calibrate -m %s "
                "-w %s IMAGES...` first (see resnet(1), calibrate)", m->net.arch.name,
                m->opts.model ? m->opts.model : m->net.arch.name, m->weights);
        return NULL;
    }
    return &m->ranges;
}

int model_plan(struct model *m, struct err *e)
{
    struct fwd_opts fo = {.winograd = m->opts.winograd, .kernels = m->opts.kernels,
                          .precision = m->opts.precision};
    if (m->fwd)
        return 0;
    if (fo.precision == FWD_INT8 && !(fo.ranges = int8_ranges(m, e)))
        return -1;
    /* int8's stem reads the image in u8 over the range its preprocessing gives */
    if (fo.precision == FWD_INT8)
        img_value_range(&m->net.arch.pre, &fo.input_lo, &fo.input_hi);
    /* Each convolution's cut as measured on this CPU, kept in the cache;
     * RESNET_TUNE=off: the kernels' own (results the same on any machine,
     * --winograd's too). */
    struct tune tune;
    const char *env = getenv("RESNET_TUNE");
    if (!m->opts.no_tuning && !(env && !strcmp(env, "off")))
        tune_open(&tune), fo.tune = &tune;
    const int rc = fwd_plan(&m->fwd, &m->net, m->batch, &fo, e);
    if (fo.tune)
        tune_close(&tune);
    return rc;
}

int model_load(struct model *m, struct err *e)
{
    if (model_plan(m, e))
        return -1;
    struct packed_cache pc;
    const int cache = m->weights[0] && !m->opts.no_cache &&
                      packed_cache_find(&pc, m->fwd, m->weights) == 0;
    if (cache && packed_cache_load(&pc, m->fwd)) {
        m->from_cache = 1;
        return 0;
    }
    if (pack_weights(m, e)) {
        fwd_free(m->fwd);
        m->fwd = NULL;
        return -1;
    }
    if (cache)
        packed_cache_save(&pc, m->fwd);
    return 0;
}

int model_open(struct model **out, const struct model_opts *o, struct err *e)
{
    if (model_define(out, o, e))
        return -1;
    if (model_load(*out, e)) {
        model_close(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

const float *model_run(struct model *m, const float *in)
{
    return fwd_run(m->fwd, in);
}

void model_close(struct model *m)
{
    if (!m)
        return;
    fwd_free(m->fwd);
    ranges_free(&m->ranges);
    labels_free(&m->labels);
    net_free(&m->net);
    free(m);
}
