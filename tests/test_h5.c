/* test_h5.c -- the Keras HDF5 weight reader.
 *
 * The fixtures in tests/fixtures/h5/ come from tests/make_h5_fixtures.py:
 * four good files holding one little network in the layouts Keras writes
 * (whose values, shapes, names and layer order must come out exactly), and
 * broken ones in bad/ (each must give -1 and one line naming the file and
 * the layer or weight at fault).  Every good file is also cut short at many
 * lengths and must always be refused, naming the file, never crash. */
#include "check.h"
#include "testutil.h"
#include "h5.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DIR "tests/fixtures/h5/"

/* make_h5_fixtures.py's values(): element i of the weight with seed s. */
static float expected(int64_t i, double seed)
{
    return (float)((seed + (double)i / 4) * (i % 2 ? -1 : 1));
}

static const char *const layer_order[] = {
    "input_1", "conv1_pad", "conv1_conv", "conv1_bn", "conv1_relu", "avg_pool", "predictions",
};

static const struct {
    const char *layer, *leaf;
    int ndim;
    int64_t shape[4];
    double seed;
} weights[] = {
    {"conv1_conv", "kernel", 4, {3, 3, 2, 4}, 10},
    {"conv1_conv", "bias", 1, {4}, 20},
    {"conv1_bn", "gamma", 1, {4}, 30},
    {"conv1_bn", "beta", 1, {4}, 40},
    {"conv1_bn", "moving_mean", 1, {4}, 50},
    {"conv1_bn", "moving_variance", 1, {4}, 60},
    {"predictions", "kernel", 2, {4, 3}, 70},
    {"predictions", "bias", 1, {3}, 80},
};
#define N_WEIGHTS (int)(sizeof weights / sizeof weights[0])

struct good {
    const char *file;
    const char *dense;        /* the final Dense's layer name */
    const char *name_fmt;     /* weight name from (layer, leaf) */
    int model_weights;
    const char *backend, *keras_version;
};

/* The file's weight names use the layer's name in the file. */
static void weight_name(char *out, size_t len, const struct good *g, const char *layer,
                        const char *leaf)
{
    if (strcmp(layer, "predictions") == 0)
        layer = g->dense;
    snprintf(out, len, g->name_fmt, layer, leaf);
}

static void check_good(const struct good *g)
{
    char path[256];
    snprintf(path, sizeof path, DIR "%s", g->file);
    struct h5_file f;
    struct err e = {{0}};
    int rc = h5_read(path, &f, &e);
    CHECK(rc == 0, "%s: read (%s)", g->file, rc ? e.msg : "ok");
    if (rc)
        return;

    int order_ok = f.n_layers == 7;
    for (int i = 0; order_ok && i < 7; i++) {
        const char *want = strcmp(layer_order[i], "predictions") ? layer_order[i] : g->dense;
        order_ok = strcmp(f.layer[i].name, want) == 0;
    }
    CHECK(order_ok, "%s: 7 layers in layer_names order, input_1 ... %s (got %d)", g->file,
          g->dense, f.n_layers);
    if (!order_ok) {
        h5_free(&f);
        return;
    }
    CHECK(f.n_weighted == 3 && f.layer[0].n_weights == 0 && f.layer[1].n_weights == 0 &&
          f.layer[2].n_weights == 2 && f.layer[3].n_weights == 4 &&
          f.layer[6].n_weights == 2, "%s: weights on conv1_conv (2), conv1_bn (4), %s (2) "
          "only", g->file, g->dense);
    CHECK(f.total_bytes == 107 * 4, "%s: 107 floats in all (got %lld bytes)", g->file,
          (long long)f.total_bytes);
    CHECK(f.model_weights == g->model_weights, "%s: %s", g->file,
          g->model_weights ? "found under /model_weights" : "read from the root group");
    CHECK(strcmp(f.backend, g->backend) == 0 && strcmp(f.keras_version, g->keras_version) == 0,
          "%s: backend \"%s\", keras_version \"%s\"", g->file, f.backend, f.keras_version);

    /* In weight_names order, by name, by leaf, with every value. */
    int k = 0;
    for (int i = 0; i < 7; i++)
        for (int j = 0; j < f.layer[i].n_weights; j++, k++) {
            const struct h5_weight *w = &f.layer[i].w[j];
            char name[128];
            if (k >= N_WEIGHTS)
                break;
            const char *dense = strcmp(weights[k].layer, "predictions") ? weights[k].layer
                                                                          : g->dense;
            weight_name(name, sizeof name, g, weights[k].layer, weights[k].leaf);
            int shape_ok = w->ndim == weights[k].ndim;
            int64_t count = 1;
            for (int d = 0; shape_ok && d < w->ndim; d++) {
                shape_ok = w->shape[d] == weights[k].shape[d];
                count *= weights[k].shape[d];
            }
            int bad = -1;
            for (int64_t x = 0; shape_ok && bad < 0 && x < count; x++)
                if (w->data[x] != expected(x, weights[k].seed))
                    bad = (int)x;
            CHECK(strcmp(f.layer[i].name, dense) == 0 && strcmp(w->name, name) == 0 &&
                  shape_ok && w->count == count && bad < 0,
                  "%s: weight %d is %s, %d-d, %lld values exact%s", g->file, k, name,
                  weights[k].ndim, (long long)count, bad < 0 ? "" : " (a value differs)");
            const struct h5_layer *l = h5_find_layer(&f, dense);
            CHECK(l == &f.layer[i] && h5_find_weight(l, weights[k].leaf) == w,
                  "%s: h5_find_layer(%s) and h5_find_weight(\"%s\") find it", g->file,
                  dense, weights[k].leaf);
        }
    CHECK(k == N_WEIGHTS, "%s: %d weights (want %d)", g->file, k, N_WEIGHTS);
    CHECK(h5_find_layer(&f, "conv2_block1_1_conv") == NULL &&
          h5_find_weight(&f.layer[2], "gamma") == NULL && h5_find_weight(&f.layer[2], "kern") == NULL,
          "%s: unknown layers and leaves are NULL", g->file);
    h5_free(&f);
    CHECK(f.layer == NULL && f.n_layers == 0, "%s: h5_free empties the struct", g->file);
}

static void check_bad(const char *file, const char *want1, const char *want2)
{
    char path[256];
    snprintf(path, sizeof path, "%s%s", file[0] == '/' ? "" : DIR "bad/", file);
    struct h5_file f;
    struct err e = {{0}};
    int rc = h5_read(path, &f, &e);
    CHECK(rc == -1 && strstr(e.msg, path) && strstr(e.msg, want1) &&
          (!want2 || strstr(e.msg, want2)) && !strchr(e.msg, '\n') && f.layer == NULL &&
          f.n_layers == 0, "%s refused naming \"%s\"%s%s: %s", file, want1,
          want2 ? " and " : "", want2 ? want2 : "", e.msg);
    h5_free(&f);
}

/* A good file cut at every 61st length: never read, never a crash. */
static void check_truncations(const char *file, const char *tmpdir)
{
    char path[256], cut[300];
    snprintf(path, sizeof path, DIR "%s", file);
    snprintf(cut, sizeof cut, "%s/%s", tmpdir, file);
    size_t size;
    unsigned char *data = read_all(path, &size);
    int runs = 0, refused = 0, named = 0;
    for (size_t len = 0; data && len < size; len += 61) {
        FILE *fp = fopen(cut, "wb");
        if (!fp || fwrite(data, 1, len, fp) != len) {
            if (fp)
                fclose(fp);
            break;
        }
        fclose(fp);
        struct h5_file f;
        struct err e = {{0}};
        runs++;
        if (h5_read(cut, &f, &e) < 0) {
            refused++;
            named += strstr(e.msg, cut) != NULL;
        }
        h5_free(&f);
    }
    unlink(cut);
    free(data);
    CHECK(runs > 0 && refused == runs && named == runs,
          "%s cut at %d lengths: %d refused, %d naming the file", file, runs, refused, named);
}

/* Bit flips of vlen.h5 (byte:bit ...) that crash libhdf5 1.10 inside the
 * library (found by flipping 500 times at random): h5_read reads in a child
 * process, so each must be one error naming the file, and this test must
 * live on.  With another libhdf5 they may load or fail cleanly instead. */
static void check_crashers(const char *tmpdir)
{
    static const char *const flips[] = {
        "7303:6",
        "4154:1 18803:5 2604:0 8506:7",
        "17618:1 4512:6 14338:0 1071:3",
        "2724:5 16098:3 18084:0 2251:7",
        "4025:6 13256:3 11004:4 7286:1",
        "3138:0 2165:2 1380:4 7410:1",
    };
    size_t size;
    unsigned char *data = read_all(DIR "vlen.h5", &size);
    char path[300];
    snprintf(path, sizeof path, "%s/flipped.h5", tmpdir);
    int runs = 0, answered = 0, crashed = 0;
    for (size_t i = 0; data && i < sizeof flips / sizeof flips[0]; i++) {
        unsigned char *b = malloc(size);
        memcpy(b, data, size);
        for (const char *p = flips[i]; *p;) {
            int n = 0;
            long byte;
            int bit;
            if (sscanf(p, "%ld:%d%n", &byte, &bit, &n) != 2 || byte >= (long)size)
                break;
            b[byte] ^= (unsigned char)(1u << bit);
            p += n;
            p += strspn(p, " ");
        }
        FILE *fp = fopen(path, "wb");
        if (fp) {
            fwrite(b, 1, size, fp);
            fclose(fp);
        }
        free(b);
        struct h5_file f;
        struct err e = {{0}};
        runs++;
        int rc = h5_read(path, &f, &e);
        answered += rc == 0 || (strstr(e.msg, path) && !strchr(e.msg, '\n'));
        crashed += rc < 0 && strstr(e.msg, "libhdf5 crashed") != NULL;
        h5_free(&f);
    }
    unlink(path);
    free(data);
    CHECK(runs == 6 && answered == runs,
          "6 bit-flipped files that crash libhdf5: each loads or is one error naming the file "
          "(%d of %d; %d were libhdf5 crashes)", answered, runs, crashed);
}

int main(void)
{
    static const struct good good[] = {
        {"vlen.h5", "predictions", "%s/%s:0", 0, "tensorflow", "2.4.0"},
        {"fixed.h5", "probs", "%s/%s:0", 0, "tensorflow", "2.2.4"},
        {"nested.h5", "predictions", "%s_1/%s:0", 1, "tensorflow", "2.3.1"},
        {"split.h5", "predictions", "%s/%s", 0, "jax", "3.3.3"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        check_good(&good[i]);

    check_bad("not_hdf5.h5", "not an HDF5 file", NULL);
    check_bad("truncated.h5", "truncated", NULL);
    check_bad("missing_dataset.h5", "layer conv1_conv", "weight conv1_conv/bias:0");
    check_bad("int_dataset.h5", "weight conv1_bn/moving_variance:0", "integer");
    check_bad("no_layer_names.h5", "no layer_names", NULL);
    check_bad("missing_group.h5", "layer conv1_bn", "no group");
    check_bad("five_dims.h5", "weight conv3d/kernel:0", "5 dimensions");
    check_bad("huge.h5", "weight predictions/kernel:0", "[2097152,2097152]");
    check_bad("unwritten.h5", "weight conv1_bn/gamma:0", "never written");
    check_bad("nan.h5", "weight conv1_bn/moving_variance:0", "element 2");
    check_bad("int_layer_names.h5", "layer_names", "integer");
    check_bad("duplicate_layer.h5", "layer conv1_conv", "twice");
    check_bad("control_char.h5", "layer_names[0]", "control character");
    check_bad("external_link.h5", "weight kernel:0", "external link");
    check_bad("no_such_file.h5", "No such file", NULL);
    check_bad("/", "directory", NULL);

    char tmpdir[] = "/tmp/test_h5.XXXXXX";
    if (!mkdtemp(tmpdir)) {
        CHECK(0, "cannot make a temporary directory");
        return CHECK_DONE();
    }
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        check_truncations(good[i].file, tmpdir);
    check_crashers(tmpdir);
    rmdir(tmpdir);
    return CHECK_DONE();
}
