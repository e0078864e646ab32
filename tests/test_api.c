/* test_api.c -- the published C API (src/resnet.h), as a program using the
 * library calls it.
 *
 * On the shipped Fashion-MNIST model (models/fashion_resnet20.*):
 *   - resnet_open's errors are one line naming the model or file, leave
 *     *out NULL, and need no err;
 *   - name, classes, labels (the spec's file; NULL out of range) and the
 *     input shape are the spec's;
 *   - resnet_classify_file gives exactly what the model module gives for
 *     the same file decoded and preprocessed as classify does it, and
 *     resnet_classify_rgb the same from the decoded pixels, packed or with
 *     padded rows;
 *   - a batch of 3 from resnet_preprocess_* + resnet_run equals 3 single runs;
 *   - resnet_top_k orders, breaks ties by index and clips k to classes.
 * The installed library, pkg-config and the README's examples are
 * tests/test_library.sh's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "image.h"
#include "preprocess.h"
#include "model.h"
#include "resnet.h"
#include "testutil.h"

#define SPEC "models/fashion_resnet20.json"
#define WEIGHTS "models/fashion_resnet20.safetensors"
#define IMG "tests/images/fashion/"

static const char *const images[3] = {IMG "07_sneaker.png", IMG "01_trouser.png",
                                      "tests/images/parity/chelsea.jpg"};

static void open_errors(void)
{
    resnet_model *m = (resnet_model *)&m;
    resnet_error err;
    int rc = resnet_open(&m, "no_such_model", NULL, NULL, &err);
    CHECK(rc == -1 && m == NULL && strstr(err.message, "no_such_model") &&
              !strchr(err.message, '\n'),
          "unknown model: -1, *out NULL, one line naming it: %s", err.message);
    rc = resnet_open(&m, SPEC, "tests/no-such-weights.safetensors", NULL, &err);
    CHECK(rc == -1 && m == NULL && strstr(err.message, "no-such-weights.safetensors"),
          "missing weight file: named: %s", err.message);
    CHECK(resnet_open(&m, SPEC, "tests/no-such-weights.safetensors", NULL, NULL) == -1 && !m,
          "an error with err NULL: -1, nothing written");
    const resnet_options neg = {.batch = -1};
    rc = resnet_open(&m, SPEC, WEIGHTS, &neg, &err);
    CHECK(rc == -1 && m == NULL && strstr(err.message, "batch"), "batch -1 refused: %s",
          err.message);
    const resnet_options bad_precision = {.precision = 4};
    rc = resnet_open(&m, SPEC, WEIGHTS, &bad_precision, &err);
    CHECK(rc == -1 && m == NULL && strstr(err.message, "precision"), "precision 4 refused: %s",
          err.message);
}

/* RESNET_INT8: refused before `resnet calibrate`, then the int8 plan, whose
 * top-1 on the bundled images is fp32's, as RESNET_BF16's is
 * (tests/test_precision.sh measures how close). */
static void int8(void)
{
    char home[] = "/tmp/resnet-api-XXXXXX", cmd[512];
    if (!mkdtemp(home)) {
        CHECK(0, "a temporary RESNET_HOME");
        return;
    }
    setenv("RESNET_HOME", home, 1);
    resnet_model *m = NULL, *f = NULL, *h = NULL;
    resnet_error err;
    const resnet_options o8 = {.precision = RESNET_INT8, .no_cache = 1}, o32 = {.no_cache = 1},
                         o16 = {.precision = RESNET_BF16, .no_cache = 1};
    int rc = resnet_open(&m, SPEC, WEIGHTS, &o8, &err);
    CHECK(rc == -1 && !m && strstr(err.message, "resnet calibrate"),
          "RESNET_INT8 without a calibration: refused, naming the command: %s", err.message);
    snprintf(cmd, sizeof cmd, "./resnet calibrate -m %s -w %s tests/images/fashion >/dev/null", SPEC,
             WEIGHTS);
    if (system(cmd) != 0 || resnet_open(&m, SPEC, WEIGHTS, &o8, &err) ||
        resnet_open(&f, SPEC, WEIGHTS, &o32, &err) || resnet_open(&h, SPEC, WEIGHTS, &o16, &err)) {
        CHECK(0, "calibrate, then open int8, fp32 and bf16: %s", err.message);
    } else {
        int same8 = 1, same16 = 1;
        for (int i = 0; i < 3; i++) {
            float p8[10], p32[10], p16[10];
            int a = 0, b = 0, c16 = 0;
            resnet_classify_file(m, images[i], p8, &err);
            resnet_classify_file(f, images[i], p32, &err);
            resnet_classify_file(h, images[i], p16, &err);
            for (int c = 1; c < 10; c++)
                a = p8[c] > p8[a] ? c : a, b = p32[c] > p32[b] ? c : b,
                c16 = p16[c] > p16[c16] ? c : c16;
            same8 &= a == b, same16 &= c16 == b;
        }
        CHECK(same8, "RESNET_INT8 after calibrating: opens, and its top-1 is fp32's on 3 images");
        CHECK(same16, "RESNET_BF16: opens without a calibration, its top-1 fp32's on 3 images");
    }
    resnet_close(m), resnet_close(f), resnet_close(h);
    snprintf(cmd, sizeof cmd, "rm -rf %s", home);
    if (system(cmd) != 0)
        CHECK(0, "remove %s", home);
    unsetenv("RESNET_HOME");
}

/* probs of one image as the model module and the decoder give them */
static void reference(const char *path, float *probs)
{
    const struct model_opts o = {.model = SPEC, .weights = WEIGHTS, .no_cache = 1, .no_tuning = 1};
    struct model *m;
    struct err e;
    struct image im;
    if (model_open(&m, &o, &e)) {
        CHECK(0, "model_open: %s", e.msg);
        return;
    }
    const struct arch *a = &m->net.arch;
    float *t = malloc(3 * (size_t)a->in_h * a->in_w * sizeof *t);
    struct img_draft d = img_draft_for(&a->pre, a->in_h, a->in_w);
    if (img_load_for(path, &d, &im, &e) ||
        img_to_tensor(&im, &a->pre, a->in_h, a->in_w, t, &e))
        CHECK(0, "%s: %s", path, e.msg);
    else
        memcpy(probs, model_run(m, t), (size_t)a->classes * sizeof *probs);
    img_free(&im);
    free(t);
    model_close(m);
}

static void single(void)
{
    resnet_model *m;
    resnet_error err;
    const resnet_options o = {.no_cache = 1};
    if (resnet_open(&m, SPEC, WEIGHTS, &o, &err)) {
        CHECK(0, "resnet_open of the shipped model: %s", err.message);
        return;
    }
    int batch, h, w;
    resnet_input_shape(m, &batch, &h, &w);
    const int classes = resnet_classes(m);
    CHECK(!strcmp(resnet_name(m), "fashion_resnet20") && classes == 10 && batch == 1 &&
              h == 28 && w == 28,
          "name %s, %d classes, input %d x 3 x %d x %d", resnet_name(m), classes, batch, h, w);
    CHECK(!strcmp(resnet_label(m, 0), "T-shirt/top") && !strcmp(resnet_label(m, 9), "Ankle boot") &&
              !resnet_label(m, -1) && !resnet_label(m, 10),
          "labels from the spec's file, NULL outside 0..9");

    float got[10], want[10];
    for (int i = 0; i < 3; i++) {
        reference(images[i], want);
        int rc = resnet_classify_file(m, images[i], got, &err);
        CHECK(rc == 0 && !memcmp(got, want, sizeof got),
              "resnet_classify_file %s: the model module's probabilities exactly", images[i]);
    }
    CHECK(resnet_classify_file(m, "tests/images/no-such.png", got, &err) == -1 &&
              strstr(err.message, "no-such.png"),
          "a missing image: -1 naming it: %s", err.message);

    /* from pixels: a PNG decodes at full size, as classify decodes it */
    struct image im;
    struct err e;
    reference(images[0], want);
    if (img_load(images[0], &im, &e)) {
        CHECK(0, "img_load: %s", e.msg);
    } else {
        int rc = resnet_classify_rgb(m, im.rgb, im.w, im.h, 0, got, &err);
        CHECK(rc == 0 && !memcmp(got, want, sizeof got), "resnet_classify_rgb, packed rows: "
              "the file's probabilities exactly");
        const int stride = im.w * 3 + 5;
        unsigned char *padded = calloc((size_t)im.h, stride);
        for (int y = 0; y < im.h; y++)
            memcpy(padded + (size_t)y * stride, im.rgb + (size_t)y * im.w * 3, (size_t)im.w * 3);
        rc = resnet_classify_rgb(m, padded, im.w, im.h, stride, got, &err);
        CHECK(rc == 0 && !memcmp(got, want, sizeof got), "resnet_classify_rgb, rows %d bytes "
              "apart: the same", stride);
        free(padded);
        rc = resnet_classify_rgb(m, im.rgb, im.w, im.h, im.w * 3 - 1, got, &err);
        CHECK(rc == -1 && strstr(err.message, "rgb"), "rows shorter than the image: %s",
              err.message);
        img_free(&im);
    }
    resnet_close(m);
}

static void batched(void)
{
    resnet_model *m;
    resnet_error err;
    const resnet_options o = {.batch = 3, .no_cache = 1};
    if (resnet_open(&m, SPEC, WEIGHTS, &o, &err)) {
        CHECK(0, "resnet_open, batch 3: %s", err.message);
        return;
    }
    int batch, h, w;
    resnet_input_shape(m, &batch, &h, &w);
    const size_t image = 3 * (size_t)h * w;
    float *in = malloc(batch * image * sizeof *in), want[10];
    int ok = batch == 3;
    for (int i = 0; ok && i < 3; i++)
        ok = resnet_preprocess_file(m, images[i], in + i * image, &err) == 0;
    const float *p = ok ? resnet_run(m, in) : NULL;
    float d = 0;
    for (int i = 0; p && i < 3; i++) {
        reference(images[i], want);
        float di = max_abs_diff(p + i * 10, want, 10);
        d = di > d ? di : d;
    }
    CHECK(p && d <= 1e-6f, "batch of 3 by resnet_preprocess_file + resnet_run: each as alone, "
          "max |diff| %.2e", d);
    free(in);
    resnet_close(m);
}

static void top_k_order(void)
{
    const float p[5] = {0.1f, 0.3f, 0.2f, 0.3f, 0.1f};
    int idx[5];
    int k = resnet_top_k(p, 5, 3, idx);
    CHECK(k == 3 && idx[0] == 1 && idx[1] == 3 && idx[2] == 2,
          "resnet_top_k 3 of 5: 1 3 2 (ties by index), got %d %d %d", idx[0], idx[1], idx[2]);
    k = resnet_top_k(p, 5, 9, idx);
    CHECK(k == 5 && idx[3] == 0 && idx[4] == 4, "resnet_top_k 9 of 5: all 5, last 0 4");
}

int main(void)
{
    CHECK(resnet_version()[0] >= '0' && strchr(resnet_version(), '.'), "resnet_version: %s",
          resnet_version());
    open_errors();
    single();
    batched();
    top_k_order();
    int8();
    return CHECK_DONE();
}
