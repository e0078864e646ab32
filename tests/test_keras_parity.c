/* test_keras_parity.c -- the Keras-side and timm networks against PyTorch
 * re-implementations of their own code.
 *
 * tests/gen_keras_reference.py writes one directory per network: weights.h5
 * (Keras's save_weights() layout) or weights.safetensors (timm's names), and
 * expected.safetensors with, per photo of tests/images/parity/, the
 * network's input as Keras's load_img + preprocess_input (or torchvision)
 * makes it, `input.<file>` [3][h][w], and the softmax, `probs.<file>`.
 *   - tests/fixtures/keras/NAME/ (committed, small) also holds spec.json;
 *   - tests/cache/keras/NAME/ (full-size, made by `make test` when PyTorch
 *     is installed) is checked against the BUILT-IN spec NAME, so that the
 *     shipped specs themselves are proven: keras_resnet50, keras_resnet50v2
 *     and timm_resnetv2_50 at 224x224 with 1000 classes, and the CIFAR v2
 *     nets tutorial_resnetv2_cifar and keras_example_resnetv2_cifar.
 *
 * For every case:
 *   - img_load_for (drafted as classify decodes) + img_to_tensor reproduce
 *     input.<file>;
 *   - the model opens (model_open: the weight file loads into the spec's
 *     net, by order for Keras files, and the forward pass plans it), and,
 *     fed the reference input, reproduces probs.<file> and its top-5 order,
 *     for every image of the case: a case that compares fewer fails;
 *   - all of it with every kernel table the CPU runs, and again with the
 *     Winograd convolutions, each named at the start of the line; the
 *     narrower tables run the full-size nets on their first image only;
 *     RESNET_ISA=NAME runs only that table, and fails when there is none.
 *
 * Usage: build/test_keras_parity [TESTS_DIR]   (default "tests") */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "testutil.h"
#include "cpu.h"
#include "err.h"
#include "image.h"
#include "model.h"
#include "preprocess.h"
#include "safetensors.h"
#include "spec.h"

#define TOL_INPUT 1e-4f
#define TOL_PROBS 1e-4f
#define PATH_LEN 4096
#define MAX_CASES 32
#define MAX_IMAGES 16
#define MIN_SMALL_CASES 9

/* The full-size cases: built-in spec names, each a directory under
 * tests/cache/keras/ once its generator.sha256 (written last) is there. */
static const char *const full_cases[] = {"keras_resnet50", "keras_resnet50v2",
                                         "timm_resnetv2_50", "tutorial_resnetv2_cifar",
                                         "keras_example_resnetv2_cifar", NULL};

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* A copy of an F32 tensor of `count` values, or NULL. */
static float *read_f32(const struct st_file *f, const char *name, long count)
{
    const struct st_tensor *t = st_find(f, name);
    if (!t || t->dtype != ST_F32 || t->nbytes != (size_t)count * sizeof(float))
        return NULL;
    float *v = malloc(t->nbytes);
    if (v)
        memcpy(v, t->data, t->nbytes);
    return v;
}

/* How the networks are opened: the kernel table and convolution path under
 * test; the preprocessing is checked under the first only, and the
 * narrower tables compare `image_limit` images per full-size case (0: all). */
static struct model_opts opts = {.no_cache = 1, .no_tuning = 1, .no_labels = 1};
static int check_preprocessing = 1;

/* One case directory; `spec` is a spec file or a built-in spec's name. */
static void run_case(const char *root, const char *dir, const char *name, const char *spec,
                     int image_limit)
{
    char path[PATH_LEN], weights[PATH_LEN], label[400];
    struct arch a;
    struct err e = {{0}};
    snprintf(label, sizeof label, "%s%s keras/%s", opts.kernels->name,
             opts.winograd ? " winograd" : "", name);
    if (spec_load(spec, &a, &e) < 0) {
        CHECK(0, "%s: spec: %s", label, e.msg);
        return;
    }
    snprintf(weights, sizeof weights, "%.4000s/weights.h5", dir);
    if (!file_exists(weights))
        snprintf(weights, sizeof weights, "%.4000s/weights.safetensors", dir);
    struct model_opts o = opts;
    o.model = spec, o.weights = weights;
    struct model *m = NULL;
    int opened = model_open(&m, &o, &e) == 0;
    CHECK(opened, "%s: %s loads into the spec's net and the forward pass plans it%s%s", label,
          strrchr(weights, '/') + 1, opened ? "" : ": ", opened ? "" : e.msg);

    struct st_file ef;
    snprintf(path, sizeof path, "%.4000s/expected.safetensors", dir);
    if (st_open(path, &ef, &e) < 0) {
        CHECK(0, "%s: %s", label, e.msg);
        model_close(m);
        return;
    }
    long in_len = 3L * a.in_h * a.in_w;
    float *mine = malloc((size_t)in_len * sizeof *mine);
    int images = 0, compared = 0;
    for (int i = 0; i < ef.n && (!image_limit || images < image_limit); i++) {
        const char *key = ef.tensor[i].name;
        if (strncmp(key, "input.", 6))
            continue;
        images++;
        const char *img = key + 6;
        char pkey[300];
        snprintf(pkey, sizeof pkey, "probs.%s", img);
        float *want_in = read_f32(&ef, key, in_len);
        float *want_p = read_f32(&ef, pkey, a.classes);
        if (!want_in || !want_p) {
            CHECK(0, "%s: %s and %s are F32 [3,%d,%d] and [%d]", label, key, pkey, a.in_h,
                  a.in_w, a.classes);
            free(want_in), free(want_p);
            continue;
        }
        struct image im = {0};
        snprintf(path, sizeof path, "%.2000s/images/parity/%.1000s", root, img);
        struct img_draft draft = img_draft_for(&a.pre, a.in_h, a.in_w);   /* as classify */
        if (check_preprocessing) {
            if (img_load_for(path, &draft, &im, &e) < 0 ||
                img_to_tensor(&im, &a.pre, a.in_h, a.in_w, mine, &e) < 0) {
                CHECK(0, "%s %s: preprocessing: %s", label, img, e.msg);
            } else {
                float d = max_abs_diff(mine, want_in, in_len);
                CHECK(d <= TOL_INPUT, "%s %s: input %dx%d -> %dx%d (%s), max |diff| %.2e",
                      label, img, im.w, im.h, a.in_w, a.in_h,
                      a.pre.fit == PRE_FIT_STRETCH ? "Keras load_img" : "torchvision resize+crop",
                      d);
            }
            img_free(&im);
        }
        if (m) {
            const float *p = model_run(m, want_in);
            int k = a.classes < 5 ? a.classes : 5, ti[5], tw[5];
            top_k(p, a.classes, k, ti);
            top_k(want_p, a.classes, k, tw);
            float d = max_abs_diff(p, want_p, a.classes);
            int same = !memcmp(ti, tw, (size_t)k * sizeof(int));
            CHECK(d <= TOL_PROBS && same, "%s %s: probs max |diff| %.2e, %s top-%d", label,
                  img, d, same ? "same" : "DIFFERENT", k);
            compared++;
        }
        free(want_in), free(want_p);
    }
    CHECK(images > 0 && compared == images, "%s: probabilities compared for %d of %d images",
          label, compared, images);
    free(mine);
    model_close(m);
    st_close(&ef);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    const char *root = argc > 1 ? argv[1] : "tests";
    char dir[PATH_LEN], sub[PATH_LEN], spec[PATH_LEN], stamp[PATH_LEN];
    snprintf(dir, sizeof dir, "%.3000s/fixtures/keras", root);
    char *names[MAX_CASES];
    int n = 0;
    DIR *d = opendir(dir);
    for (struct dirent *de; d && (de = readdir(d)) && n < MAX_CASES;) {
        snprintf(spec, sizeof spec, "%.3500s/%.255s/spec.json", dir, de->d_name);
        if (de->d_name[0] != '.' && file_exists(spec))
            names[n++] = strdup(de->d_name);
    }
    if (d)
        closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    CHECK(n >= MIN_SMALL_CASES, "%d Keras/timm parity cases in %s", n, dir);

    /* Widest table first, as the binary would pick it. */
    const char *only = getenv("RESNET_ISA");
    const struct kernels *tables[ISA_N];
    int ran = 0;
    for (int t = 0, n_tables = cpu_kernel_tables(tables); t < n_tables; t++) {
        if (only && strcmp(only, tables[t]->name))
            continue;
        opts.kernels = tables[t];
        for (opts.winograd = 0; opts.winograd < 2; opts.winograd++) {
            for (int i = 0; i < n; i++) {
                snprintf(sub, sizeof sub, "%.3500s/%.255s", dir, names[i]);
                snprintf(spec, sizeof spec, "%.3500s/spec.json", sub);
                run_case(root, sub, names[i], spec, 0);
            }
            int full = 0;
            for (int i = 0; full_cases[i]; i++) {
                snprintf(sub, sizeof sub, "%.3000s/cache/keras/%s", root, full_cases[i]);
                snprintf(stamp, sizeof stamp, "%.3500s/generator.sha256", sub);
                if (!file_exists(stamp))
                    continue;
                char label[300];
                snprintf(label, sizeof label, "%s (built-in spec)", full_cases[i]);
                run_case(root, sub, label, full_cases[i], ran ? 1 : 0);
                full++;
            }
            if (full == 0 && check_preprocessing)
                SKIP("full-size Keras/timm parity: no references in %s/cache/keras (made by "
                     "`make test` when python3-torch, h5py and keras_applications are "
                     "installed)", root);
            check_preprocessing = 0;
        }
        ran++;
    }
    if (only)
        CHECK(ran == 1, "RESNET_ISA=%s names a kernel table this CPU runs", only);
    for (int i = 0; i < n; i++)
        free(names[i]);
    return CHECK_DONE();
}
