/* test_parity.c -- the whole pipeline against PyTorch, tensor by tensor.
 *
 * tests/gen_reference.py writes one directory per network (see its header):
 * spec.json, weights[.<dtype>].safetensors and expected[.<dtype>].safetensors
 * holding, per image of tests/images/parity/, the preprocessed input
 * `input.<file>` [3][h][w] and the softmax `probs.<file>` [classes].
 *
 * For every case under tests/fixtures/ (committed, small) and tests/cache/
 * (full-size, made by `make test` when torch is installed):
 *   - img_load_for (drafted as classify decodes) + img_to_tensor must
 *     reproduce input.<file>;
 *   - the forward pass, fed the REFERENCE input so that it is judged apart
 *     from preprocessing, must reproduce probs.<file> and its top-5 order,
 *     for every stored weight dtype;
 *   - one batch of all images must give what batch 1 gave, image by image
 *     (small nets only);
 *   - all of it with every kernel table the CPU runs (cpu_kernel_tables),
 *     named at the start of each line; the narrower ones run the full-size
 *     nets on their first image only; RESNET_ISA=NAME runs only that table,
 *     and fails when there is no such table here;
 *   - all of it again with the Winograd convolutions (model_opts.winograd,
 *     "winograd" after the table), to the same tolerances.
 * Each network is opened the way the program opens one (model_open), with
 * the packed-weight cache off.
 * Every line reports the largest difference, so a drift shows before it fails.
 *
 * Usage: build/test_parity [TESTS_DIR]   (default "tests", run from the repo root) */
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

#define TOL_INPUT 1e-4f   /* preprocessed pixel, after normalisation */
#define TOL_PROBS 1e-4f   /* probability, absolute */
#define TOL_BATCH 1e-6f   /* batch N against batch 1: the same arithmetic */
#define TOP_K 5
#define MAX_NAMES 64
#define PATH_LEN 4096

struct names {
    char *name[MAX_NAMES];
    int n;
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entries of `dir` that start with `prefix` and end with `suffix`. */
static void list_dir(const char *dir, const char *prefix, const char *suffix, struct names *out)
{
    out->n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return;
    size_t lp = strlen(prefix), ls = strlen(suffix);
    for (struct dirent *de; (de = readdir(d)) && out->n < MAX_NAMES;) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] == '.' || l < lp + ls || strncmp(de->d_name, prefix, lp) ||
            strcmp(de->d_name + l - ls, suffix))
            continue;
        out->name[out->n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(out->name, (size_t)out->n, sizeof *out->name, cmp_str);
}

static void free_names(struct names *ns)
{
    for (int i = 0; i < ns->n; i++)
        free(ns->name[i]);
    ns->n = 0;
}

/* out = a/b; an over-long path becomes "" so that opening it fails. */
static char *path_join(char out[PATH_LEN], const char *a, const char *b)
{
    int n = snprintf(out, PATH_LEN, "%s/%s", a, b);
    if (n < 0 || n >= PATH_LEN)
        out[0] = 0;
    return out;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* A copy of an F32 tensor of `count` values (the mapping may be unaligned),
 * or NULL with a reason in *why. */
static float *read_f32(const struct st_file *f, const char *name, long count, const char **why)
{
    const struct st_tensor *t = st_find(f, name);
    if (!t) {
        *why = "missing";
        return NULL;
    }
    if (t->dtype != ST_F32 || t->nbytes != (size_t)count * sizeof(float)) {
        *why = "not F32 of the expected size";
        return NULL;
    }
    float *v = malloc(t->nbytes);
    if (v)
        memcpy(v, t->data, t->nbytes);
    *why = v ? "" : "out of memory";
    return v;
}

static void format_top(const int *idx, int k, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = 0;
    for (int j = 0; j < k && o < len; j++)
        o += (size_t)snprintf(buf + o, len - o, "%s%d", j ? "," : "", idx[j]);
}

/* How the networks are opened: the kernel table and the convolution path
 * under test. */
static struct model_opts opts = {.no_cache = 1, .no_tuning = 1, .no_labels = 1};

/* One case directory: everything its expected files hold. */
struct ref_case {
    char dir[PATH_LEN];
    const char *label;           /* "fixtures/basic_small", for messages */
    struct arch arch;
    struct names images;         /* image file names, from the probs.* entries */
    float **input;               /* [n_images][3 * in_h * in_w], reference inputs */
    long in_len, classes;
};

static void check_inputs(struct ref_case *c, const char *images_dir)
{
    float *mine = malloc((size_t)c->in_len * sizeof(float));
    for (int i = 0; i < c->images.n; i++) {
        const char *img = c->images.name[i];
        char path[PATH_LEN];
        struct image im = {0};
        struct err e = {{0}};
        struct img_draft d = img_draft_for(&c->arch.pre, c->arch.in_h, c->arch.in_w);   /* as classify */
        if (img_load_for(path_join(path, images_dir, img), &d, &im, &e) < 0) {
            CHECK(0, "%s %s: image loads: %s", c->label, img, e.msg);
            continue;
        }
        if (img_to_tensor(&im, &c->arch.pre, c->arch.in_h, c->arch.in_w, mine, &e) < 0) {
            CHECK(0, "%s %s: img_to_tensor: %s", c->label, img, e.msg);
        } else {
            float d = max_abs_diff(mine, c->input[i], c->in_len);
            CHECK(d <= TOL_INPUT, "%s %s: preprocessed input %dx%d -> %dx%d, max |diff| %.2e",
                  c->label, img, im.w, im.h, c->arch.in_w, c->arch.in_h, d);
        }
        img_free(&im);
    }
    free(mine);
}

/* The case's network with one weight file, for `batch` images; NULL after
 * a FAIL line. */
static struct model *open_model(const struct ref_case *c, const char *weights, int batch)
{
    char spec[PATH_LEN], path[PATH_LEN];
    struct model_opts o = opts;
    struct model *m;
    struct err e = {{0}};
    o.model = path_join(spec, c->dir, "spec.json");
    o.weights = path_join(path, c->dir, weights);
    o.batch = batch;
    if (model_open(&m, &o, &e) < 0) {
        CHECK(0, "%s %s: model_open(batch %d): %s", c->label, weights, batch, e.msg);
        return NULL;
    }
    return m;
}

/* probs of every image, batch 1, into got[i]; then, if `batched`, all at once.
 * Returns how many images' probabilities were compared. */
static int check_weights(struct ref_case *c, const char *weights, int batched)
{
    /* "weights.f16.safetensors" -> ".f16", the tag of its expected file */
    char tag[64], file[128], expected[PATH_LEN];
    size_t tl = strlen(weights) - strlen("weights") - strlen(".safetensors");
    snprintf(tag, sizeof tag, "%.*s", (int)tl, weights + strlen("weights"));
    snprintf(file, sizeof file, "expected%s.safetensors", tag);
    path_join(expected, c->dir, file);
    const char *dt = tag[0] ? tag + 1 : "f32";

    struct st_file ef;
    struct err e = {{0}};
    if (st_open(expected, &ef, &e) < 0) {
        CHECK(0, "%s %s: expected file: %s", c->label, dt, e.msg);
        return 0;
    }
    struct model *f = open_model(c, weights, 1);
    int n_img = c->images.n, k = c->classes < TOP_K ? (int)c->classes : TOP_K;
    float *got = calloc((size_t)n_img * (size_t)c->classes, sizeof(float));
    int have_all = f != NULL, compared = 0;

    for (int i = 0; f && i < n_img; i++) {
        const char *img = c->images.name[i], *why;
        char key[300];
        snprintf(key, sizeof key, "probs.%s", img);
        float *want = read_f32(&ef, key, c->classes, &why);
        const float *p = model_run(f, c->input[i]);
        if (!p) {
            CHECK(0, "%s %s %s: model_run returned NULL", c->label, dt, img);
            have_all = 0;
            free(want);
            continue;
        }
        memcpy(got + (long)i * c->classes, p, (size_t)c->classes * sizeof(float));
        if (!want) {
            CHECK(0, "%s %s %s: expected %s: %s", c->label, dt, img, key, why);
            continue;
        }
        int ti[TOP_K], tw[TOP_K];
        char s_got[64], s_want[64];
        top_k(p, (int)c->classes, k, ti);
        top_k(want, (int)c->classes, k, tw);
        format_top(ti, k, s_got, sizeof s_got);
        format_top(tw, k, s_want, sizeof s_want);
        float d = max_abs_diff(p, want, c->classes);
        int same = memcmp(ti, tw, (size_t)k * sizeof(int)) == 0;
        CHECK(d <= TOL_PROBS && same, "%s %s %s: probs max |diff| %.2e, top-%d %s%s%s",
              c->label, dt, img, d, k, s_got, same ? "" : " want ", same ? "" : s_want);
        compared++;
        free(want);
    }
    model_close(f);

    if (batched && have_all && n_img > 1) {
        struct model *fb = open_model(c, weights, n_img);
        float *in = malloc((size_t)n_img * (size_t)c->in_len * sizeof(float));
        for (int i = 0; i < n_img; i++)
            memcpy(in + (long)i * c->in_len, c->input[i], (size_t)c->in_len * sizeof(float));
        if (fb) {
            const float *p = model_run(fb, in);
            float d = p ? max_abs_diff(p, got, (long)n_img * c->classes) : NAN;
            CHECK(p && d <= TOL_BATCH, "%s %s: batch %d equals batch 1, max |diff| %.2e",
                  c->label, dt, n_img, d);
        }
        model_close(fb);
        free(in);
    }
    free(got);
    st_close(&ef);
    return compared;
}

/* `batched`: also the batch-of-all-images check (on the F32 weights). */
/* The preprocessing does not depend on the kernels: checked under the first ISA only. */
static int check_preprocessing = 1;

/* Images per case, 0 for all: the narrower ISAs run the full-size nets on
 * one image (every layer still runs; the portable C path is slow). */
static int image_limit = 0;

static void run_case(const char *dir, const char *label, const char *images_dir, int batched)
{
    struct ref_case c = {0};
    struct err e = {{0}};
    char path[PATH_LEN];
    snprintf(c.dir, sizeof c.dir, "%s", dir);
    c.label = label;

    if (spec_load(path_join(path, dir, "spec.json"), &c.arch, &e) < 0) {
        CHECK(0, "%s: spec_load: %s", label, e.msg);
        return;
    }
    c.in_len = 3L * c.arch.in_h * c.arch.in_w;
    c.classes = c.arch.classes;

    struct st_file ef;
    if (st_open(path_join(path, dir, "expected.safetensors"), &ef, &e) < 0) {
        CHECK(0, "%s: expected file: %s", label, e.msg);
        return;
    }
    for (int i = 0; i < ef.n && c.images.n < MAX_NAMES; i++)
        if (!strncmp(ef.tensor[i].name, "probs.", 6))
            c.images.name[c.images.n++] = strdup(ef.tensor[i].name + 6);
    qsort(c.images.name, (size_t)c.images.n, sizeof *c.images.name, cmp_str);
    while (image_limit && c.images.n > image_limit)
        free(c.images.name[--c.images.n]);
    c.input = calloc((size_t)c.images.n + 1, sizeof *c.input);
    int inputs_ok = c.images.n > 0;
    for (int i = 0; i < c.images.n; i++) {
        const char *why;
        char key[300];
        snprintf(key, sizeof key, "input.%s", c.images.name[i]);
        c.input[i] = read_f32(&ef, key, c.in_len, &why);
        if (!c.input[i]) {
            CHECK(0, "%s: expected %s [3,%d,%d]: %s", label, key, c.arch.in_h, c.arch.in_w, why);
            inputs_ok = 0;
        }
    }
    st_close(&ef);
    if (!inputs_ok) {
        CHECK(c.images.n > 0, "%s: expected.safetensors names some images", label);
        goto done;
    }

    if (check_preprocessing)
        check_inputs(&c, images_dir);

    struct names weights;
    list_dir(dir, "weights", ".safetensors", &weights);
    CHECK(weights.n > 0, "%s: %d weight file(s)", label, weights.n);
    int compared = 0;
    for (int w = 0; w < weights.n; w++)
        compared += check_weights(&c, weights.name[w],
                                  batched && strcmp(weights.name[w], "weights.safetensors") == 0);
    CHECK(compared == c.images.n * weights.n,
          "%s: probabilities compared for %d of %d images x weight files", label, compared,
          c.images.n * weights.n);
    free_names(&weights);
done:
    for (int i = 0; i < c.images.n; i++)
        free(c.input[i]);
    free(c.input);
    free_names(&c.images);
}

/* Every case directory (one holding spec.json) under root/sub; how many. */
static int run_cases(const char *root, const char *sub, const char *images_dir, int batched)
{
    char dir[PATH_LEN], path[PATH_LEN], spec[PATH_LEN], label[PATH_LEN];
    struct names cases;
    list_dir(path_join(dir, root, sub), "", "", &cases);
    int ran = 0;
    for (int i = 0; i < cases.n; i++) {
        path_join(path, dir, cases.name[i]);
        if (!is_file(path_join(spec, path, "spec.json")))
            continue;
        snprintf(label, sizeof label, "%s%s %s/%s", opts.kernels->name,
                 opts.winograd ? " winograd" : "", sub, cases.name[i]);
        run_case(path, label, images_dir, batched);
        ran++;
    }
    free_names(&cases);
    return ran;
}

int main(int argc, char **argv)
{
    const char *root = argc > 1 ? argv[1] : "tests";
    char images_dir[PATH_LEN];
    path_join(images_dir, root, "images/parity");

    /* Widest table first, as the binary would pick it; RESNET_ISA, when set,
     * limits the run to that one table. */
    const char *only = getenv("RESNET_ISA");
    const struct kernels *tables[ISA_N];
    int widest = 1, ran = 0;
    for (int t = 0, n_tables = cpu_kernel_tables(tables); t < n_tables; t++) {
        if (only && strcmp(only, tables[t]->name))
            continue;
        opts.kernels = tables[t];
        ran++;
        for (opts.winograd = 0; opts.winograd < 2; opts.winograd++) {
            /* Batch N is checked on the small nets only: it costs a second forward
             * pass per image, and a batching bug shows at any size. */
            int n = run_cases(root, "fixtures", images_dir, 1);
            CHECK(n > 0, "%s%s: %d committed parity case(s) in %s/fixtures", tables[t]->name,
                  opts.winograd ? " winograd" : "", n, root);
            image_limit = widest ? 0 : 1;
            if (run_cases(root, "cache", images_dir, 0) == 0 && check_preprocessing)
                SKIP("full-size parity: no references in %s/cache (made by `make test` when "
                     "python3-torch is installed)", root);
            check_preprocessing = 0;
        }
        widest = 0;
    }
    if (only)
        CHECK(ran == 1, "RESNET_ISA=%s names a kernel table this CPU runs", only);
    return CHECK_DONE();
}
