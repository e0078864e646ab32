/* calibrate.c -- activation ranges for int8 from images (see calibrate.h). */
#include "calibrate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "ranges.h"

#define BINS 4096
#define PERCENTILE 0.9999

/* What the observer gathers over the runs of one pass. */
struct stats {
    int pass;            /* 0: maxima; 1: histograms over [0, max] */
    int cursor;          /* the value the next observation is of, within a run */
    struct fwd_ranges r; /* names, and maxima (pass 0) */
    int cap;
    double *hist;        /* [r.n][BINS] (pass 1) */
};

/* Each value's live lanes: its pixels' channels below c. */
static void observe(void *ctx, const char *name, const struct blk *v, int n)
{
    struct stats *s = ctx;
    const int i = s->cursor++;
    if (s->pass == 0 && i == s->r.n && ranges_add(&s->r, &s->cap, name, 0))
        return;   /* out of memory: calibrate() sees the count short */
    if (i >= s->r.n)
        return;
    float top = s->r.max[i];
    double *h = s->pass ? s->hist + (size_t)i * BINS : NULL;
    const double per_bin = top > 0 ? BINS / (double)top : 0;
    for (int img = 0; img < n; img++)
        for (int cb = 0; cb < blk_cb(v); cb++) {
            const int lanes = v->c - cb * BLK < BLK ? v->c - cb * BLK : BLK;
            for (int y = 0; y < v->h; y++)
                for (int x = 0; x < v->w; x++) {
                    const float *p = blk_at(v, img, cb, y, x);
                    for (int l = 0; l < lanes; l++) {
                        if (!h) {
                            top = p[l] > top ? p[l] : top;
                            continue;
                        }
                        int b = (int)(p[l] * per_bin);
                        h[b < 0 ? 0 : b >= BINS ? BINS - 1 : b]++;
                    }
                }
        }
    if (!h)
        s->r.max[i] = top;
}

/* The PERCENTILE-th value of each histogram: the top of its bin. */
static void percentiles(const struct stats *s, struct fwd_ranges *out)
{
    for (int i = 0; i < s->r.n; i++) {
        const double *h = s->hist + (size_t)i * BINS;
        double total = 0, run = 0;
        for (int b = 0; b < BINS; b++)
            total += h[b];
        int b = 0;
        for (; b < BINS - 1 && (run += h[b]) < PERCENTILE * total; b++)
            ;
        snprintf(out->name[i], sizeof out->name[i], "%s", s->r.name[i]);
        out->max[i] = s->r.max[i] * (float)(b + 1) / BINS;
    }
    out->n = s->r.n;
}

/* The images' tensors, as classify preprocesses them: at most max. */
static int read_images(const struct arch *a, char *const *paths, int n_paths, int max,
                       void (*bad)(const char *, const char *), float **out, int *count,
                       int *failed, struct err *e)
{
    const size_t each = (size_t)3 * a->in_h * a->in_w;
    struct pipe_opts po = {.batch = 1};
    struct pipeline *p;
    *out = NULL, *count = 0, *failed = 0;
    if (pipe_open(&p, paths, n_paths, a, &po, e))
        return -1;
    const struct pipe_batch *b;
    while (*count < max && (b = pipe_next(p))) {
        if (b->slot[0].failed) {
            if (bad)
                bad(b->slot[0].path, b->slot[0].error);
            ++*failed;
            continue;
        }
        float *more = realloc(*out, (*count + 1) * each * sizeof(float));
        if (!more) {
            pipe_close(p);
            return err_set(e, "calibrate: out of memory for %d images", *count + 1);
        }
        *out = more;
        memcpy(*out + (size_t)*count * each, b->input, each * sizeof(float));
        ++*count;
    }
    pipe_close(p);
    if (!*count)
        return err_set(e, "calibrate: no image could be read (%d failed)", *failed);
    return 0;
}

/* How the int8 plan with ranges r agrees with fp32's probabilities want. */
static int agreement(const struct model_opts *mo, const struct fwd_ranges *r, const float *in,
                     const float *want, int images, size_t each, int *agree, double *max_dp,
                     struct err *e)
{
    struct model_opts o = *mo;
    o.precision = FWD_INT8, o.ranges = r, o.no_cache = 1, o.batch = 1;
    struct model *m;
    if (model_open(&m, &o, e))
        return -1;
    const int classes = m->net.arch.classes;
    *agree = 0, *max_dp = 0;
    for (int i = 0; i < images; i++) {
        const float *p = model_run(m, in + (size_t)i * each), *q = want + (size_t)i * classes;
        int top_p = 0, top_q = 0;
        for (int c = 0; c < classes; c++) {
            top_p = p[c] > p[top_p] ? c : top_p;
            top_q = q[c] > q[top_q] ? c : top_q;
            *max_dp = fmax(*max_dp, fabs((double)p[c] - q[c]));
        }
        *agree += top_p == top_q;
    }
    model_close(m);
    return 0;
}

int calibrate(const struct model_opts *mo, char *const *paths, int n_paths, int max_images,
              void (*bad)(const char *path, const char *msg), struct calib_result *r,
              struct err *e)
{
    memset(r, 0, sizeof *r);
    struct model_opts o = *mo;
    o.precision = FWD_FP32, o.batch = 1;
    struct model *m;
    struct stats s = {0};
    struct fwd_ranges sets[CALIB_METHODS] = {{0}};
    float *in = NULL, *want = NULL;
    int rc = -1;
    if (model_open(&m, &o, e))
        return -1;
    if (!m->weights[0]) {
        err_set(e, "calibrate: %s has no weight file to calibrate", m->net.arch.name);
        goto out;
    }
    const size_t each = (size_t)3 * m->net.arch.in_h * m->net.arch.in_w;
    const int classes = m->net.arch.classes;
    if (read_images(&m->net.arch, paths, n_paths, max_images, bad, &in, &r->images, &r->failed, e))
        goto out;
    if (!(want = malloc((size_t)r->images * classes * sizeof *want))) {
        err_set(e, "calibrate: out of memory");
        goto out;
    }
    fwd_observe(m->fwd, observe, &s);
    for (s.pass = 0; s.pass < 2; s.pass++) {
        if (s.pass == 1 && !(s.hist = calloc((size_t)s.r.n * BINS, sizeof *s.hist))) {
            err_set(e, "calibrate: out of memory");
            goto out;
        }
        for (int i = 0; i < r->images; i++) {
            s.cursor = 0;
            const float *p = model_run(m, in + (size_t)i * each);
            if (s.pass == 0)
                memcpy(want + (size_t)i * classes, p, (size_t)classes * sizeof *p);
        }
    }
    if (ranges_alloc(&sets[0], s.r.n) || ranges_alloc(&sets[1], s.r.n)) {
        err_set(e, "calibrate: out of memory");
        goto out;
    }
    memcpy(sets[0].name, s.r.name, (size_t)s.r.n * sizeof *s.r.name);
    memcpy(sets[0].max, s.r.max, (size_t)s.r.n * sizeof *s.r.max);
    sets[0].n = s.r.n;
    percentiles(&s, &sets[1]);
    r->method[0] = "min-max", r->method[1] = "percentile-99.99";
    for (int k = 0; k < CALIB_METHODS; k++) {
        if (agreement(mo, &sets[k], in, want, r->images, each, &r->agree[k], &r->max_dp[k], e))
            goto out;
        if (k && (r->agree[k] > r->agree[r->chosen] ||
                  (r->agree[k] == r->agree[r->chosen] && r->max_dp[k] < r->max_dp[r->chosen])))
            r->chosen = k;
    }
    if (model_ranges_path(m, r->path, e) ||
        ranges_save(r->path, m->weights, &sets[r->chosen], r->method[r->chosen], e))
        goto out;
    rc = 0;
out:
    model_close(m);
    ranges_free(&s.r), free(s.hist), ranges_free(&sets[0]), ranges_free(&sets[1]);
    free(in), free(want);
    return rc;
}
