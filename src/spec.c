/* spec.c -- JSON architecture spec -> struct arch.
 *
 * Parsing is strict: every key is known, every value has the right type and
 * range, and the first problem found becomes one error line naming the key.
 * Defaults follow torchvision (ImageNet stem) and the CIFAR papers (16, 32,
 * 64 filters on 32x32 inputs). */
#include "spec.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* build/builtin_specs.c, generated from the JSON files in models/ */
extern const struct { const char *name; const char *text; } builtin_specs[];

#define SPEC_MAX_BYTES (1 << 20)   /* a spec is a few hundred bytes; refuse monsters */

static const float imagenet_mean[3] = {0.485f, 0.456f, 0.406f};
static const float imagenet_std[3] = {0.229f, 0.224f, 0.225f};
static const float cifar_mean[3] = {0.4914f, 0.4822f, 0.4465f};
static const float cifar_std[3] = {0.2470f, 0.2435f, 0.2616f};

/* The paper's table (He et al. 2015, Table 1) plus the 200-layer net of the
 * "Identity Mappings" paper. */
static const struct {
    int depth;
    enum block_kind block;
    int stages[4];
} imagenet_depths[] = {
    {18, BLOCK_BASIC, {2, 2, 2, 2}},
    {34, BLOCK_BASIC, {3, 4, 6, 3}},
    {50, BLOCK_BOTTLENECK, {3, 4, 6, 3}},
    {101, BLOCK_BOTTLENECK, {3, 4, 23, 3}},
    {152, BLOCK_BOTTLENECK, {3, 8, 36, 3}},
    {200, BLOCK_BOTTLENECK, {3, 24, 36, 3}},
};

/* --- small typed getters: each names the key when the value is wrong --- */

static int get_int(const cJSON *v, const char *key, int lo, int hi, int *out,
                   const char *src, struct err *e)
{
    if (!cJSON_IsNumber(v))
        return err_set(e, "%s: key \"%s\" must be an integer", src, key);
    /* Range first: converting a huge double to an integer type is undefined. */
    double d = v->valuedouble;
    if (!(d >= lo && d <= hi))
        return err_set(e, "%s: key \"%s\" is %g, must be between %d and %d", src,
                       key, d, lo, hi);
    if (d != floor(d))
        return err_set(e, "%s: key \"%s\" must be an integer, got %g", src, key, d);
    *out = (int)d;
    return 0;
}

/* An array of `min_n`..`max_n` integers in [lo, hi]; returns the count. */
static int get_int_array(const cJSON *v, const char *key, int min_n, int max_n,
                         int lo, int hi, int *out, const char *src, struct err *e)
{
    if (!cJSON_IsArray(v))
        return err_set(e, "%s: key \"%s\" must be an array of integers", src, key);
    int n = cJSON_GetArraySize(v);
    if (n < min_n || n > max_n)
        return err_set(e, "%s: key \"%s\" has %d entries, must have %d to %d", src,
                       key, n, min_n, max_n);
    int i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, v) {
        char name[64];
        snprintf(name, sizeof name, "%s[%d]", key, i);
        if (get_int(x, name, lo, hi, &out[i], src, e))
            return -1;
        i++;
    }
    return n;
}

static int get_floats3(const cJSON *v, const char *key, int positive, float *out,
                       const char *src, struct err *e)
{
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 3)
        return err_set(e, "%s: key \"%s\" must be an array of 3 numbers (R, G, B)",
                       src, key);
    int i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, v) {
        if (!cJSON_IsNumber(x))
            return err_set(e, "%s: key \"%s[%d]\" must be a number", src, key, i);
        if (positive && !(x->valuedouble > 0))
            return err_set(e, "%s: key \"%s[%d]\" must be positive", src, key, i);
        out[i++] = (float)x->valuedouble;
    }
    return 0;
}

static int get_enum(const cJSON *v, const char *key, const char *const *names,
                    int *out, const char *src, struct err *e)
{
    if (!cJSON_IsString(v))
        return err_set(e, "%s: key \"%s\" must be a string", src, key);
    for (int i = 0; names[i]; i++)
        if (!strcmp(v->valuestring, names[i])) {
            *out = i;
            return 0;
        }
    char allowed[256] = "";
    for (int i = 0; names[i]; i++)
        snprintf(allowed + strlen(allowed), sizeof allowed - strlen(allowed),
                 "%s\"%s\"", i ? ", " : "", names[i]);
    return err_set(e, "%s: key \"%s\" is \"%s\", must be one of %s", src, key,
                   v->valuestring, allowed);
}

static int check_keys(const cJSON *obj, const char *const *known, const char *prefix,
                      const char *src, struct err *e)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, obj) {
        int ok = 0;
        for (int i = 0; known[i]; i++)
            ok |= !strcmp(x->string, known[i]);
        if (!ok)
            return err_set(e, "%s: unknown key \"%s%s\"", src, prefix, x->string);
    }
    return 0;
}

/* An optional boolean. */
static int get_bool(const cJSON *v, const char *key, int *out, const char *src, struct err *e)
{
    if (!cJSON_IsBool(v))
        return err_set(e, "%s: key \"%s\" must be true or false", src, key);
    *out = cJSON_IsTrue(v);
    return 0;
}

/* An optional enum-valued key of `obj`; absent leaves *out as it was. */
static int opt_enum(const cJSON *obj, const char *key, const char *const *names, int *out,
                    const char *src, struct err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return v ? get_enum(v, key, names, out, src, e) : 0;
}

/* --- depth -> block kind and stages --- */

static int depth_in_table(int depth)
{
    for (size_t i = 0; i < sizeof imagenet_depths / sizeof *imagenet_depths; i++)
        if (imagenet_depths[i].depth == depth)
            return (int)i;
    return -1;
}

/* `cifar`: the three-stage 6n+2 / 9n+2 rule instead of the ImageNet table. */
static int depth_to_stages(int depth, struct arch *a, int block_given, int cifar,
                           const char *src, struct err *e)
{
    if (!cifar) {
        int i = depth_in_table(depth);
        if (i < 0)
            return err_set(e, "%s: key \"depth\" is %d, which has no mapping for the "
                           "imagenet stem (use 18, 34, 50, 101, 152 or 200, or give "
                           "\"block\" and \"stages\")", src, depth);
        if (block_given && a->block != imagenet_depths[i].block)
            return err_set(e, "%s: key \"block\" contradicts \"depth\": depth %d "
                           "uses %s blocks", src, depth,
                           imagenet_depths[i].block == BLOCK_BASIC ? "basic" : "bottleneck");
        a->block = imagenet_depths[i].block;
        a->n_stages = 4;
        memcpy(a->stages, imagenet_depths[i].stages, sizeof imagenet_depths[i].stages);
        return 0;
    }
    /* CIFAR nets: three stages, 6n+2 layers with basic blocks, 9n+2 with
     * bottlenecks (He et al. 2015 section 4.2; He et al. 2016). */
    int basic_ok = depth > 2 && (depth - 2) % 6 == 0;
    int bottle_ok = depth > 2 && (depth - 2) % 9 == 0;
    if (!block_given)
        a->block = basic_ok ? BLOCK_BASIC : BLOCK_BOTTLENECK;
    if (a->block == BLOCK_BASIC && !basic_ok)
        return err_set(e, "%s: key \"depth\" is %d, but a cifar net with basic blocks "
                       "has depth 6n+2 (20, 32, 44, 56, 110, ...)", src, depth);
    if (a->block == BLOCK_BOTTLENECK && !bottle_ok)
        return err_set(e, "%s: key \"depth\" is %d, but a cifar net with bottleneck "
                       "blocks has depth 9n+2 (29, 47, 164, 1001, ...)", src, depth);
    int n = (depth - 2) / (a->block == BLOCK_BASIC ? 6 : 9);
    a->n_stages = 3;
    a->stages[0] = a->stages[1] = a->stages[2] = n;
    return 0;
}

/* Line number of a position in the text, for "invalid JSON at line N". */
static int line_of(const char *text, const char *pos)
{
    int line = 1;
    for (const char *p = text; p < pos && *p; p++)
        line += *p == '\n';
    return line;
}

static int parse_preprocess(const cJSON *pre, struct arch *a, const char *src,
                            struct err *e)
{
    static const char *const keys[] = {"resize", "crop", "mean", "std", "mode", "fit", NULL};
    static const char *const modes[] = {"torch", "caffe", "tf", NULL};
    static const char *const fits[] = {"crop", "stretch", NULL};
    if (!cJSON_IsObject(pre))
        return err_set(e, "%s: key \"preprocess\" must be an object", src);
    if (check_keys(pre, keys, "preprocess.", src, e))
        return -1;
    const cJSON *v;
    int t;
    if ((v = cJSON_GetObjectItemCaseSensitive(pre, "mode"))) {
        if (get_enum(v, "preprocess.mode", modes, &t, src, e))
            return -1;
        a->pre.mode = (enum pre_mode)t;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(pre, "fit"))) {
        if (get_enum(v, "preprocess.fit", fits, &t, src, e))
            return -1;
        a->pre.fit = (enum pre_fit)t;
    }
    /* Keys that the chosen mode or fit would silently ignore are errors. */
    static const char *const crop_only[] = {"resize", "crop", NULL};
    static const char *const torch_only[] = {"mean", "std", NULL};
    for (int i = 0; a->pre.fit == PRE_FIT_STRETCH && crop_only[i]; i++)
        if (cJSON_GetObjectItemCaseSensitive(pre, crop_only[i]))
            return err_set(e, "%s: key \"preprocess.%s\" applies to fit \"crop\"; fit "
                           "\"stretch\" resizes straight to the input size", src, crop_only[i]);
    for (int i = 0; a->pre.mode != PRE_TORCH && torch_only[i]; i++)
        if (cJSON_GetObjectItemCaseSensitive(pre, torch_only[i]))
            return err_set(e, "%s: key \"preprocess.%s\" applies to mode \"torch\"; mode "
                           "\"%s\" has fixed constants", src, torch_only[i], modes[a->pre.mode]);
    if ((v = cJSON_GetObjectItemCaseSensitive(pre, "resize")) &&
        get_int(v, "preprocess.resize", 0, 1 << 16, &a->pre.resize, src, e))
        return -1;
    if ((v = cJSON_GetObjectItemCaseSensitive(pre, "crop"))) {
        int crop;
        if (get_int(v, "preprocess.crop", 1, 1 << 16, &crop, src, e))
            return -1;
        if (crop != a->in_h || crop != a->in_w)
            return err_set(e, "%s: key \"preprocess.crop\" is %d but \"input\" is "
                           "%dx%d; the crop is the network's input size", src, crop,
                           a->in_h, a->in_w);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(pre, "mean")) &&
        get_floats3(v, "preprocess.mean", 0, a->pre.mean, src, e))
        return -1;
    if ((v = cJSON_GetObjectItemCaseSensitive(pre, "std")) &&
        get_floats3(v, "preprocess.std", 1, a->pre.std, src, e))
        return -1;
    return 0;
}

/* --- stem and head as lists of layer objects --- */

/* "valid", "same", or a number of rows/cols each side (torch's padding). */
static int get_window_pad(const cJSON *v, const char *key, int torch_ok, struct arch_layer *l,
                          const char *src, struct err *e)
{
    if (cJSON_IsNumber(v) && torch_ok) {
        l->padding = WPAD_TORCH;
        return get_int(v, key, 0, 1024, &l->pad, src, e);
    }
    static const char *const names[] = {"valid", "same", NULL};
    int t;
    if (!cJSON_IsString(v))
        return err_set(e, "%s: key \"%s\" must be \"valid\", \"same\"%s", src, key,
                       torch_ok ? " or a number of rows each side" : "");
    if (get_enum(v, key, names, &t, src, e))
        return -1;
    l->padding = t ? WPAD_SAME : WPAD_VALID;
    return 0;
}

/* One layer object: {"type": "conv", "filters": 64, "kernel": 7, ...}. */
static int parse_layer(const cJSON *obj, const char *at, struct arch_layer *l,
                       const char *src, struct err *e)
{
    static const char *const types[] = {"zeropad", "conv", "bn", "relu", "maxpool", "avgpool",
                                        "gap", "flatten", "dense", "dropout", NULL};
    /* The keys each type takes. */
    static const char *const plain[] = {"type", "name", NULL};
    static const char *const k_pad[] = {"type", "name", "pad", NULL};
    static const char *const k_conv[] = {"type", "name", "filters", "kernel", "stride",
                                         "padding", "bias", NULL};
    static const char *const k_pool[] = {"type", "name", "pool", "stride", "padding", NULL};
    static const char *const k_dense[] = {"type", "name", "units", "activation", "bias", NULL};
    static const char *const k_drop[] = {"type", "name", "rate", NULL};
    static const char *const *const takes[] = {k_pad, k_conv, plain, plain, k_pool, k_pool,
                                               plain, plain, k_dense, k_drop};
    static const char *const acts[] = {"linear", "relu", "softmax", NULL};
    char key[96], prefix[72];
    if (!cJSON_IsObject(obj))
        return err_set(e, "%s: key \"%s\" must be an object with a \"type\"", src, at);
    snprintf(key, sizeof key, "%s.type", at);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "type");
    int t;
    if (!v)
        return err_set(e, "%s: key \"%s\" needs a \"type\" (%s)", src, at,
                       "zeropad, conv, bn, relu, maxpool, avgpool, gap, flatten, dense or dropout");
    if (get_enum(v, key, types, &t, src, e))
        return -1;
    memset(l, 0, sizeof *l);
    l->kind = (enum arch_layer_kind)t;
    snprintf(prefix, sizeof prefix, "%s.", at);
    if (check_keys(obj, takes[t], prefix, src, e))
        return -1;
    l->bias = -1;   /* the spec's rule, unless given */
#define KEY(k) (snprintf(key, sizeof key, "%s.%s", at, k), key)
    if ((v = cJSON_GetObjectItemCaseSensitive(obj, "name"))) {
        if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) >= sizeof l->name)
            return err_set(e, "%s: key \"%s\" must be a non-empty string under %zu characters",
                           src, KEY("name"), sizeof l->name);
        strcpy(l->name, v->valuestring);
    }
    switch (l->kind) {
    case AL_ZEROPAD:
        if (!(v = cJSON_GetObjectItemCaseSensitive(obj, "pad")))
            return err_set(e, "%s: key \"%s\" is missing", src, KEY("pad"));
        return get_int(v, KEY("pad"), 0, 1024, &l->pad, src, e);
    case AL_CONV:
        if (!(v = cJSON_GetObjectItemCaseSensitive(obj, "filters")))
            return err_set(e, "%s: key \"%s\" is missing", src, KEY("filters"));
        if (get_int(v, KEY("filters"), 1, 1 << 16, &l->units, src, e))
            return -1;
        if (!(v = cJSON_GetObjectItemCaseSensitive(obj, "kernel")))
            return err_set(e, "%s: key \"%s\" is missing", src, KEY("kernel"));
        if (get_int(v, KEY("kernel"), 1, 64, &l->k, src, e))
            return -1;
        l->stride = 1;
        if ((v = cJSON_GetObjectItemCaseSensitive(obj, "stride")) &&
            get_int(v, KEY("stride"), 1, 64, &l->stride, src, e))
            return -1;
        if ((v = cJSON_GetObjectItemCaseSensitive(obj, "padding")) &&
            get_window_pad(v, KEY("padding"), 1, l, src, e))
            return -1;
        if ((v = cJSON_GetObjectItemCaseSensitive(obj, "bias")) &&
            get_bool(v, KEY("bias"), &l->bias, src, e))
            return -1;
        return 0;
    case AL_MAXPOOL:
    case AL_AVGPOOL:
        if (!(v = cJSON_GetObjectItemCaseSensitive(obj, "pool")))
            return err_set(e, "%s: key \"%s\" is missing", src, KEY("pool"));
        if (get_int(v, KEY("pool"), 1, 64, &l->k, src, e))
            return -1;
        l->stride = l->k;   /* Keras's default: strides = pool_size */
        if ((v = cJSON_GetObjectItemCaseSensitive(obj, "stride")) &&
            get_int(v, KEY("stride"), 1, 64, &l->stride, src, e))
            return -1;
        if ((v = cJSON_GetObjectItemCaseSensitive(obj, "padding")) &&
            get_window_pad(v, KEY("padding"), l->kind == AL_MAXPOOL, l, src, e))
            return -1;
        if (l->padding == WPAD_TORCH && 2 * l->pad >= l->k)
            return err_set(e, "%s: key \"%s\" is %d; a window's padding must be under half "
                           "its size %d", src, KEY("padding"), l->pad, l->k);
        return 0;
    case AL_DENSE:
        l->bias = 1;
        if ((v = cJSON_GetObjectItemCaseSensitive(obj, "units")) &&
            get_int(v, KEY("units"), 1, 1 << 20, &l->units, src, e))
            return -1;
        if ((v = cJSON_GetObjectItemCaseSensitive(obj, "activation"))) {
            if (get_enum(v, KEY("activation"), acts, &t, src, e))
                return -1;
            l->act = (enum activation)t;
        }
        if ((v = cJSON_GetObjectItemCaseSensitive(obj, "bias")) &&
            get_bool(v, KEY("bias"), &l->bias, src, e))
            return -1;
        return 0;
    case AL_DROPOUT:
        if ((v = cJSON_GetObjectItemCaseSensitive(obj, "rate"))) {
            if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble < 1))
                return err_set(e, "%s: key \"%s\" must be a number in [0, 1)", src, KEY("rate"));
            l->rate = (float)v->valuedouble;
        }
        return 0;
    default:
        return 0;
    }
#undef KEY
}

/* A stem (`head` 0) or head list.  A stem keeps the image's height and
 * width axes; a head ends in the classifier: a Dense with softmax, after a
 * gap or flatten has made the features flat. */
static int parse_layers(const cJSON *arr, const char *key, int head, struct arch_layer *out,
                        int *n_out, const char *src, struct err *e)
{
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1 ||
        cJSON_GetArraySize(arr) > ARCH_MAX_LAYERS)
        return err_set(e, "%s: key \"%s\" must be a list of 1 to %d layer objects", src, key,
                       ARCH_MAX_LAYERS);
    int n = 0, flat = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, arr) {
        char at[64];
        snprintf(at, sizeof at, "%s[%d]", key, n);
        struct arch_layer *l = &out[n];
        if (parse_layer(x, at, l, src, e))
            return -1;
        int spatial = l->kind == AL_ZEROPAD || l->kind == AL_CONV || l->kind == AL_MAXPOOL ||
                      l->kind == AL_AVGPOOL;
        if (!head && (l->kind == AL_GAP || l->kind == AL_FLATTEN || l->kind == AL_DENSE))
            return err_set(e, "%s: key \"%s\": a %s layer does not belong in a stem, which "
                           "keeps the image's height and width", src, at,
                           l->kind == AL_DENSE ? "dense" : l->kind == AL_GAP ? "gap" : "flatten");
        if (flat && (spatial || l->kind == AL_GAP || l->kind == AL_FLATTEN))
            return err_set(e, "%s: key \"%s\": the features are already flat here", src, at);
        if (!flat && l->kind == AL_DENSE)
            return err_set(e, "%s: key \"%s\": a dense layer needs a gap or flatten before it",
                           src, at);
        flat |= l->kind == AL_GAP || l->kind == AL_FLATTEN;
        n++;
    }
    if (head) {
        struct arch_layer *last = &out[n - 1];
        if (last->kind != AL_DENSE)
            return err_set(e, "%s: key \"%s\" must end in the classifier, a dense layer", src, key);
        if (last->act == ACT_LINEAR && !cJSON_GetObjectItemCaseSensitive(
                                           cJSON_GetArrayItem(arr, n - 1), "activation"))
            last->act = ACT_SOFTMAX;
        if (last->act != ACT_SOFTMAX)
            return err_set(e, "%s: key \"%s[%d].activation\": the classifier's activation "
                           "must be \"softmax\"", src, key, n - 1);
        for (int i = 0; i < n - 1; i++)
            if (out[i].kind == AL_DENSE && (!out[i].units || out[i].act == ACT_SOFTMAX))
                return err_set(e, "%s: key \"%s[%d]\": a hidden dense layer needs \"units\" "
                               "and a linear or relu activation", src, key, i);
    } else {
        int convs = 0;
        for (int i = 0; i < n; i++)
            convs += out[i].kind == AL_CONV;
        if (!convs)
            return err_set(e, "%s: key \"%s\" needs at least one conv layer", src, key);
    }
    *n_out = n;
    return 0;
}

/* --- the layout keys: where the reference code puts strides, biases, ... --- */

static int parse_layout(const cJSON *root, struct arch *a, const char *src, struct err *e)
{
    static const char *const stride_ats[] = {"3x3", "1x1", "last", NULL};
    static const char *const biases[] = {"none", "all", "v2", NULL};
    static const char *const paddings[] = {"explicit", "same", NULL};
    static const char *const pool_pads[] = {"zero", "min", "same", NULL};
    static const char *const shortcuts[] = {"projection", "conv", NULL};
    static const char *const froms[] = {"preact", "input", NULL};
    static const char *const add_orders[] = {"shortcut_first", "residual_first", NULL};
    static const char *const createds[] = {"first", "last", NULL};
    static const char *const names[] = {"applications", "auto", NULL};
    static const char *const wnames[] = {"torchvision", "timm", "keras", NULL};
    const cJSON *v;
    int t;

    /* Pre-activation nets read a BN-ReLU, not the un-rectified stem, so
     * torch's -inf pool padding is no longer the same as Keras's zeros; and
     * their projections have no BN (the next block's preact is one). */
    if (a->version == 2) {
        a->pool_padding = POOL_MIN;
        a->shortcut = SHORTCUT_CONV;
        a->weight_names = WNAMES_TIMM;
    }
#define ENUM(key, names, field)                                   \
    t = (int)(field);                                             \
    if (opt_enum(root, key, names, &t, src, e))                   \
        return -1;                                                \
    field = t
    ENUM("stride_at", stride_ats, a->stride_at);
    ENUM("bias", biases, a->bias);
    ENUM("padding", paddings, a->padding);
    ENUM("pool_padding", pool_pads, a->pool_padding);
    ENUM("shortcut", shortcuts, a->shortcut);
    ENUM("shortcut_from", froms, a->shortcut_from);
    ENUM("add_order", add_orders, a->add_order);
    ENUM("shortcut_created", createds, a->created);
    ENUM("names", names, a->names);
    ENUM("weights_names", wnames, a->weight_names);
#undef ENUM
    a->bn_eps = 1e-5f;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "bn_eps"))) {
        if (!cJSON_IsNumber(v) || !(v->valuedouble > 0 && v->valuedouble < 1))
            return err_set(e, "%s: key \"bn_eps\" must be a number between 0 and 1", src);
        a->bn_eps = (float)v->valuedouble;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "first_preact"))) {
        int first = 1;
        if (get_bool(v, "first_preact", &first, src, e))
            return -1;
        a->skip_first_preact = !first;
    }
    if (a->version == 1) {
        static const char *const v2_only[] = {"shortcut_from", "first_preact", NULL};
        for (int i = 0; v2_only[i]; i++)
            if (cJSON_GetObjectItemCaseSensitive(root, v2_only[i]))
                return err_set(e, "%s: key \"%s\" applies to version 2 (pre-activation) nets",
                               src, v2_only[i]);
    }
    if (a->version == 2 && a->weight_names == WNAMES_TORCHVISION)
        return err_set(e, "%s: key \"weights_names\" is \"torchvision\", which has no "
                       "pre-activation (version 2) nets; use \"timm\" or \"keras\"", src);
    if (a->stride_at == STRIDE_1X1 && a->block == BLOCK_BASIC)
        return err_set(e, "%s: key \"stride_at\" is \"1x1\", but basic blocks have no 1x1 "
                       "conv; use \"3x3\"", src);
    return 0;
}

int spec_parse(const char *json, const char *source, const char *dir,
               struct arch *a, struct err *e)
{
    static const char *const keys[] = {
        "name", "model_name", "version", "block", "stages", "widths", "out_widths",
        "expansion", "depth", "stem", "stem_width", "head", "classes", "input", "preprocess",
        "labels", "stride_at", "bias", "bn_eps", "padding", "pool_padding", "shortcut",
        "shortcut_from", "first_preact", "add_order", "shortcut_created", "names",
        "weights_names", NULL};
    static const char *const blocks[] = {"basic", "bottleneck", NULL};
    static const char *const stems[] = {"imagenet", "cifar", NULL};
    const char *src = source ? source : "spec";
    memset(a, 0, sizeof *a);

    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(json, &end, 1);
    if (!root)
        return err_set(e, "%s: invalid JSON at line %d", src, line_of(json, end ? end : json));
    int rc = -1;
    if (!cJSON_IsObject(root)) {
        err_set(e, "%s: the spec must be a JSON object", src);
        goto out;
    }
    if (check_keys(root, keys, "", src, e))
        goto out;

    const cJSON *v;
    int t;
    /* name, model_name */
    static const char *const name_keys[] = {"name", "model_name"};
    char *name_fields[] = {a->name, a->model_name};
    for (int i = 0; i < 2; i++) {
        if (!(v = cJSON_GetObjectItemCaseSensitive(root, name_keys[i])))
            continue;
        if (!cJSON_IsString(v) || !v->valuestring[0] ||
            strlen(v->valuestring) >= ARCH_NAME_LEN) {
            err_set(e, "%s: key \"%s\" must be a non-empty string under %d characters",
                    src, name_keys[i], ARCH_NAME_LEN);
            goto out;
        }
        strcpy(name_fields[i], v->valuestring);
    }
    if (!a->name[0])
        snprintf(a->name, sizeof a->name, "%s", "resnet");
    /* version */
    a->version = 1;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "version")) &&
        get_int(v, "version", 1, 2, &a->version, src, e))
        goto out;
    /* stem first: it decides the depth table and the defaults */
    a->stem = STEM_IMAGENET;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "stem"))) {
        if (cJSON_IsArray(v)) {
            a->stem = STEM_LAYERS;
            if (parse_layers(v, "stem", 0, a->stem_layers, &a->n_stem_layers, src, e))
                goto out;
        } else if (cJSON_IsString(v)) {
            if (get_enum(v, "stem", stems, &t, src, e))
                goto out;
            a->stem = (enum stem_kind)t;
        } else {
            err_set(e, "%s: key \"stem\" must be \"imagenet\", \"cifar\" or a list of layer "
                    "objects", src);
            goto out;
        }
    }
    int block_given = 0;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "block"))) {
        if (get_enum(v, "block", blocks, &t, src, e))
            goto out;
        a->block = (enum block_kind)t;
        block_given = 1;
    }
    /* A cifar-sized net: 16 filters, 32x32 inputs and 10 classes by default.
     * A stem given as layers follows the ImageNet table where it can. */
    const cJSON *depth = cJSON_GetObjectItemCaseSensitive(root, "depth");
    const cJSON *stages = cJSON_GetObjectItemCaseSensitive(root, "stages");
    int cifar = a->stem == STEM_CIFAR;
    if (depth && stages) {
        err_set(e, "%s: keys \"depth\" and \"stages\" both given; use one", src);
        goto out;
    }
    if (depth) {
        int d;
        if (get_int(depth, "depth", 1, 100000, &d, src, e))
            goto out;
        if (a->stem == STEM_LAYERS)
            cifar = depth_in_table(d) < 0;
        if (depth_to_stages(d, a, block_given, cifar, src, e))
            goto out;
    } else if (stages) {
        if (!block_given) {
            err_set(e, "%s: key \"stages\" needs \"block\" (\"basic\" or \"bottleneck\")", src);
            goto out;
        }
        int n = get_int_array(stages, "stages", 1, ARCH_MAX_STAGES, 1, 4096, a->stages, src, e);
        if (n < 0)
            goto out;
        a->n_stages = n;
    } else {
        err_set(e, "%s: missing key \"depth\" (or \"block\" and \"stages\")", src);
        goto out;
    }
    /* ResNet-1001 has 333 blocks; a spec claiming thousands is a mistake or
     * an attack, and would only exhaust memory and time. */
    long total_blocks = 0;
    for (int i = 0; i < a->n_stages; i++)
        total_blocks += a->stages[i];
    if (total_blocks > ARCH_MAX_BLOCKS) {
        err_set(e, "%s: the network has %ld residual blocks; at most %d are supported", src,
                total_blocks, ARCH_MAX_BLOCKS);
        goto out;
    }
    /* widths: 64, 128, 256, ... for ImageNet, 16, 32, 64 for CIFAR */
    int base = cifar ? 16 : 64;
    for (int i = 0; i < a->n_stages; i++)
        a->widths[i] = base << i;
    static const char *const width_keys[] = {"widths", "out_widths"};
    int *width_fields[] = {a->widths, a->out_widths};
    for (int i = 0; i < 2; i++) {
        if (!(v = cJSON_GetObjectItemCaseSensitive(root, width_keys[i])))
            continue;
        int n = get_int_array(v, width_keys[i], 1, ARCH_MAX_STAGES, 1, 1 << 16,
                              width_fields[i], src, e);
        if (n < 0)
            goto out;
        if (n != a->n_stages) {
            err_set(e, "%s: key \"%s\" has %d entries but the network has %d stages",
                    src, width_keys[i], n, a->n_stages);
            goto out;
        }
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "expansion"))) {
        if (cJSON_GetObjectItemCaseSensitive(root, "out_widths")) {
            err_set(e, "%s: keys \"expansion\" and \"out_widths\" both given; use one", src);
            goto out;
        }
        if (get_int(v, "expansion", 1, 64, &a->expansion, src, e))
            goto out;
    }
    a->stem_width = a->widths[0];
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "stem_width"))) {
        if (a->stem == STEM_LAYERS) {
            err_set(e, "%s: key \"stem_width\" applies to a named stem; a stem given as "
                    "layers sets its conv's \"filters\"", src);
            goto out;
        }
        if (get_int(v, "stem_width", 1, 1 << 16, &a->stem_width, src, e))
            goto out;
    }
    a->classes = cifar ? 10 : 1000;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "classes")) &&
        get_int(v, "classes", 1, 1 << 20, &a->classes, src, e))
        goto out;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "head")) &&
        parse_layers(v, "head", 1, a->head, &a->n_head, src, e))
        goto out;
    if (parse_layout(root, a, src, e))
        goto out;
    /* input */
    a->in_h = a->in_w = cifar ? 32 : 224;
    a->in_c = 3;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "input"))) {
        int hwc[3];
        if (get_int_array(v, "input", 3, 3, 1, 1 << 14, hwc, src, e) < 0)
            goto out;
        if (hwc[2] != 3) {
            err_set(e, "%s: key \"input\" has %d channels; only RGB (3) inputs are "
                    "supported", src, hwc[2]);
            goto out;
        }
        a->in_h = hwc[0], a->in_w = hwc[1], a->in_c = hwc[2];
    }
    /* preprocess: torchvision's ImageNet recipe scales the crop by 256/224 */
    int shorter = a->in_h < a->in_w ? a->in_h : a->in_w;
    a->pre.resize = cifar ? shorter : (shorter * 256 + 112) / 224;
    memcpy(a->pre.mean, cifar ? cifar_mean : imagenet_mean, sizeof a->pre.mean);
    memcpy(a->pre.std, cifar ? cifar_std : imagenet_std, sizeof a->pre.std);
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "preprocess")) &&
        parse_preprocess(v, a, src, e))
        goto out;
    /* labels, relative to the spec's folder */
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "labels"))) {
        if (!cJSON_IsString(v) || !v->valuestring[0]) {
            err_set(e, "%s: key \"labels\" must be a file name", src);
            goto out;
        }
        const char *f = v->valuestring;
        int n = (f[0] == '/' || !dir || !dir[0])
                    ? snprintf(a->labels, sizeof a->labels, "%s", f)
                    : snprintf(a->labels, sizeof a->labels, "%s/%s", dir, f);
        if (n < 0 || (size_t)n >= sizeof a->labels) {
            err_set(e, "%s: key \"labels\": path too long", src);
            goto out;
        }
        struct stat st;
        if (stat(a->labels, &st) != 0) {
            err_set(e, "%s: key \"labels\": %s: %s", src, a->labels, strerror(errno));
            goto out;
        }
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

int arch_out_width(const struct arch *a, int stage)
{
    if (a->out_widths[stage])
        return a->out_widths[stage];
    int expansion = a->expansion ? a->expansion : a->block == BLOCK_BOTTLENECK ? 4 : 1;
    return a->widths[stage] * expansion;
}

/* Read a whole (small) file into a NUL-terminated buffer. */
static char *read_text(const char *path, struct err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_set(e, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(SPEC_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, SPEC_MAX_BYTES + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad || n > SPEC_MAX_BYTES) {
        err_set(e, "%s: %s", path, !buf ? "out of memory" : bad ? "read error"
                                   : "larger than 1 MiB, not a spec");
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    if (strlen(buf) != n) {
        err_set(e, "%s: contains a NUL byte, not a JSON spec", path);
        free(buf);
        return NULL;
    }
    return buf;
}

const char *spec_builtin_text(const char *name)
{
    for (int i = 0; builtin_specs[i].name; i++)
        if (!strcmp(builtin_specs[i].name, name))
            return builtin_specs[i].text;
    return NULL;
}

const char *const *spec_builtin_names(void)
{
    static const char *names[64];
    if (!names[0])
        for (int i = 0; builtin_specs[i].name && i < 63; i++)
            names[i] = builtin_specs[i].name;
    return names;
}

/* The folders that hold the built-in specs' companion files (a labels
 * file, shipped weights), relative to the running binary: models/ beside it
 * (./resnet in the source tree), ../models (the tests in build/), and
 * ../share/resnet (an installed PREFIX/bin/resnet). */
int spec_data_file(const char *file, char *out, size_t outlen)
{
    static const char *const rel[] = {"/models/", "/../models/", "/../share/resnet/"};
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -1;
    *slash = 0;
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        struct stat st;
        int len = snprintf(out, outlen, "%s%s%s", exe, rel[i], file);
        if (len > 0 && (size_t)len < outlen && stat(out, &st) == 0 && S_ISREG(st.st_mode))
            return 0;
    }
    return -1;
}

int spec_load(const char *name_or_path, struct arch *a, struct err *e)
{
    const char *text = spec_builtin_text(name_or_path);
    if (text) {
        char src[128];
        snprintf(src, sizeof src, "%s (built-in spec)", name_or_path);
        /* A built-in spec's `labels` is relative to where its JSON file
         * ships (models/NAME.json), as a spec file's is to the file. */
        char json[ARCH_NAME_LEN + 8], dir[ARCH_PATH_LEN];
        snprintf(json, sizeof json, "%s.json", name_or_path);
        int found = spec_data_file(json, dir, sizeof dir) == 0;
        if (found)
            *strrchr(dir, '/') = 0;
        return spec_parse(text, src, found ? dir : NULL, a, e);
    }
    struct stat st;
    if (stat(name_or_path, &st) != 0) {
        if (!strchr(name_or_path, '/') && !strstr(name_or_path, ".json")) {
            char list[512] = "";
            const char *const *names = spec_builtin_names();
            for (int i = 0; names[i]; i++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                         i ? ", " : "", names[i]);
            return err_set(e, "unknown model \"%s\" (built-in: %s; or give a spec .json file)",
                           name_or_path, list);
        }
        return err_set(e, "%s: cannot open spec: %s", name_or_path, strerror(errno));
    }
    if (S_ISDIR(st.st_mode))
        return err_set(e, "%s: is a directory, not a spec file", name_or_path);
    char *json = read_text(name_or_path, e);
    if (!json)
        return -1;
    char dir[ARCH_PATH_LEN];
    snprintf(dir, sizeof dir, "%s", name_or_path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        strcpy(dir, ".");
    int rc = spec_parse(json, name_or_path, dir, a, e);
    free(json);
    return rc;
}

int spec_from_depth(int depth, int version, struct arch *a, struct err *e)
{
    char json[256];
    if (version == 2)
        /* Keras Applications' ResNet50V2 / 101V2 / 152V2 for those depths */
        snprintf(json, sizeof json, "{\"name\": \"resnet%dv2\", \"depth\": %d, \"version\": 2, "
                 "\"stride_at\": \"last\", \"bias\": \"v2\", \"bn_eps\": 1.001e-5, "
                 "\"pool_padding\": \"zero\", \"weights_names\": \"keras\"}", depth, depth);
    else
        snprintf(json, sizeof json, "{\"name\": \"resnet%d\", \"depth\": %d}", depth, depth);
    return spec_parse(json, "--depth", NULL, a, e);
}
