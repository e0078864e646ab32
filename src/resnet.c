/* resnet.c -- the published C API (resnet.h) over the model module
 * (model.h) and the image decoder and preprocessing (image.h). */
#include "resnet.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "preprocess.h"
#include "model.h"

#ifndef RESNET_VERSION
#define RESNET_VERSION "0.0.0"
#endif

/* The public handle is the model itself, under its published name. */
struct resnet_model {
    struct model *m;
    float *input;   /* [batch][3][in_h][in_w], for the classify calls */
};

_Static_assert(sizeof(((resnet_error *)0)->message) == ERR_LEN,
               "resnet_error carries a struct err's message whole");

static int fail(resnet_error *err, const struct err *e)
{
    if (err)
        memcpy(err->message, e->msg, sizeof err->message);
    return -1;
}

const char *resnet_version(void)
{
    return RESNET_VERSION;
}

int resnet_open(resnet_model **out, const char *model, const char *weights,
                const resnet_options *options, resnet_error *err)
{
    const resnet_options none = {0}, *o = options ? options : &none;
    struct err e;
    *out = NULL;
    if (o->batch < 0 || o->threads < 0) {
        err_set(&e, "resnet_open: batch and threads must not be negative (%d, %d)", o->batch,
                o->threads);
        return fail(err, &e);
    }
    if (o->precision != RESNET_FP32 && o->precision != RESNET_INT8 &&
        o->precision != RESNET_BF16) {
        err_set(&e, "resnet_open: precision must be RESNET_FP32, RESNET_INT8 or RESNET_BF16, "
                "not %d", o->precision);
        return fail(err, &e);
    }
    if (o->threads > 0)
        omp_set_num_threads(o->threads);
    const struct model_opts mo = {.model = model, .weights = weights, .batch = o->batch,
                                  .winograd = o->winograd, .no_cache = o->no_cache,
                                  .full_decode = o->full_decode,
                                  .no_tuning = o->no_cache,
                                  .precision = o->precision == RESNET_INT8   ? FWD_INT8
                                               : o->precision == RESNET_BF16 ? FWD_BF16
                                                                             : FWD_FP32};
    resnet_model *r = calloc(1, sizeof *r);
    if (!r) {
        err_set(&e, "resnet_open: out of memory");
        return fail(err, &e);
    }
    if (model_open(&r->m, &mo, &e)) {
        free(r);
        return fail(err, &e);
    }
    const struct arch *a = &r->m->net.arch;
    r->input = calloc((size_t)r->m->batch * 3 * a->in_h * a->in_w, sizeof(float));
    if (!r->input) {
        resnet_close(r);
        err_set(&e, "resnet_open: out of memory for the input batch");
        return fail(err, &e);
    }
    *out = r;
    return 0;
}

void resnet_close(resnet_model *r)
{
    if (!r)
        return;
    model_close(r->m);
    free(r->input);
    free(r);
}

const char *resnet_name(const resnet_model *r)
{
    return r->m->net.arch.name;
}

int resnet_classes(const resnet_model *r)
{
    return r->m->net.arch.classes;
}

const char *resnet_label(const resnet_model *r, int index)
{
    return index >= 0 && index < r->m->labels.n ? r->m->labels.name[index] : NULL;
}

void resnet_input_shape(const resnet_model *r, int *batch, int *height, int *width)
{
    if (batch)
        *batch = r->m->batch;
    if (height)
        *height = r->m->net.arch.in_h;
    if (width)
        *width = r->m->net.arch.in_w;
}

int resnet_preprocess_file(const resnet_model *r, const char *path, float *tensor,
                           resnet_error *err)
{
    const struct arch *a = &r->m->net.arch;
    struct err e;
    return img_file_to_tensor(path, &a->pre, a->in_h, a->in_w, tensor, &e) ? fail(err, &e) : 0;
}

int resnet_preprocess_rgb(const resnet_model *r, const unsigned char *rgb, int width, int height,
                          int stride, float *tensor, resnet_error *err)
{
    struct err e;
    if (!rgb || width < 1 || height < 1 || (stride && stride < 3 * width)) {
        err_set(&e, "resnet_preprocess_rgb: a %dx%d image with rows %d bytes apart is not one",
                width, height, stride);
        return fail(err, &e);
    }
    struct image im = {width, height, (unsigned char *)rgb};
    unsigned char *packed = NULL;
    if (stride && stride != 3 * width) {
        /* img_to_tensor reads rows 3 * width bytes apart */
        packed = malloc((size_t)height * width * 3);
        if (!packed) {
            err_set(&e, "resnet_preprocess_rgb: out of memory for a %dx%d image", width, height);
            return fail(err, &e);
        }
        for (int y = 0; y < height; y++)
            memcpy(packed + (size_t)y * width * 3, rgb + (size_t)y * stride, (size_t)width * 3);
        im.rgb = packed;
    }
    const struct arch *a = &r->m->net.arch;
    int rc = img_to_tensor(&im, &a->pre, a->in_h, a->in_w, tensor, &e);
    free(packed);
    return rc ? fail(err, &e) : 0;
}

const float *resnet_run(resnet_model *r, const float *input)
{
    return model_run(r->m, input);
}

/* Run the batch whose slot 0 holds the image, and copy out its probabilities. */
static void classify_slot0(resnet_model *r, float *probs)
{
    const float *p = model_run(r->m, r->input);
    memcpy(probs, p, (size_t)resnet_classes(r) * sizeof *probs);
}

int resnet_classify_file(resnet_model *r, const char *path, float *probs, resnet_error *err)
{
    if (resnet_preprocess_file(r, path, r->input, err))
        return -1;
    classify_slot0(r, probs);
    return 0;
}

int resnet_classify_rgb(resnet_model *r, const unsigned char *rgb, int width, int height,
                        int stride, float *probs, resnet_error *err)
{
    if (resnet_preprocess_rgb(r, rgb, width, height, stride, r->input, err))
        return -1;
    classify_slot0(r, probs);
    return 0;
}

int resnet_top_k(const float *probs, int classes, int k, int *index)
{
    k = k < classes ? k : classes;
    for (int r = 0; r < k; r++) {
        int best = -1;
        for (int c = 0; c < classes; c++) {
            int taken = 0;
            for (int q = 0; q < r; q++)
                taken |= index[q] == c;
            if (!taken && (best < 0 || probs[c] > probs[best]))
                best = c;
        }
        index[r] = best;
    }
    return k < 0 ? 0 : k;
}
