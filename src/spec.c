/* spec.c -- JSON architecture spec text -> struct arch.
 *
 * Parsing is strict: every key is known, every value has the right type and
 * range, and the first problem found becomes one error line naming the key.
 * Defaults follow torchvision (ImageNet stem) and the CIFAR papers (16, 32,
 * 64 filters on 32x32 inputs).  Each top-level key is a row of `keys` (near
 * the end): its name and its parser, applied in the table's order, since a
 * key's default can depend on the keys before it.  Where spec text comes
 * from (built-in, file, --depth) is spec_load.c. */
#include "spec.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <threads.h>

#include "spec_json.h"
#include "spec_layers.h"

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
            return err_set(e, "%s: key \"depth\" is %d, which is not in the ImageNet "
                           "table (use 18, 34, 50, 101, 152 or 200, \"depth_rule\": "
                           "\"cifar\", or \"block\" and \"stages\")", src, depth);
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

/* The keys of `preprocess` (spec_preprocess_keys). */
static const char *const preprocess_keys[] = {"resize", "crop", "mean", "std", "mode", "fit",
                                              "interpolation", NULL};

static int parse_preprocess(const cJSON *pre, struct arch *a, const char *src,
                            struct err *e)
{
    static const char *const modes[] = {"torch", "caffe", "tf", NULL};
    static const char *const fits[] = {"crop", "stretch", NULL};
    static const char *const interps[] = {"bilinear", "bicubic", "nearest", NULL};   /* enum pre_interp */
    if (!cJSON_IsObject(pre))
        return err_set(e, "%s: key \"preprocess\" must be an object", src);
    if (json_check_keys(pre, preprocess_keys, "preprocess.", src, e))
        return -1;
    const cJSON *v;
    int t;
    if ((v = cJSON_GetObjectItemCaseSensitive(pre, "mode"))) {
        if (json_enum(v, "preprocess.mode", modes, &t, src, e))
            return -1;
        a->pre.mode = (enum pre_mode)t;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(pre, "fit"))) {
        if (json_enum(v, "preprocess.fit", fits, &t, src, e))
            return -1;
        a->pre.fit = (enum pre_fit)t;
    }
    /* torchvision's Resize is bilinear, Keras's load_img nearest. */
    a->pre.interp = a->pre.fit == PRE_FIT_STRETCH ? PRE_NEAREST : PRE_BILINEAR;
    if ((v = cJSON_GetObjectItemCaseSensitive(pre, "interpolation"))) {
        if (json_enum(v, "preprocess.interpolation", interps, &t, src, e))
            return -1;
        a->pre.interp = (enum pre_interp)t;
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
        json_int(v, "preprocess.resize", 0, 1 << 16, &a->pre.resize, src, e))
        return -1;
    if ((v = cJSON_GetObjectItemCaseSensitive(pre, "crop"))) {
        int crop;
        if (json_int(v, "preprocess.crop", 1, 1 << 16, &crop, src, e))
            return -1;
        if (crop != a->in_h || crop != a->in_w)
            return err_set(e, "%s: key \"preprocess.crop\" is %d but \"input\" is "
                           "%dx%d; the crop is the network's input size", src, crop,
                           a->in_h, a->in_w);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(pre, "mean")) &&
        json_floats3(v, "preprocess.mean", 0, a->pre.mean, src, e))
        return -1;
    if ((v = cJSON_GetObjectItemCaseSensitive(pre, "std")) &&
        json_floats3(v, "preprocess.std", 1, a->pre.std, src, e))
        return -1;
    return 0;
}

/* --- the top-level keys --- */

/* What the parsers of the keys share. */
struct parser {
    const cJSON *root;   /* the spec, for keys that depend on each other */
    struct arch *a;
    const char *src;     /* names the spec in errors */
    const char *dir;     /* resolves `labels` */
    struct err *e;
    int block_given;     /* "block" was in the spec */
    int depth_rule;      /* "depth_rule": 0 imagenet, 1 cifar, -1 not given */
    int cifar;           /* a cifar-sized net: the defaults of widths, classes, input */
};

/* A row of `keys`: `parse` gets the key's value, or NULL when the spec
 * leaves the key out, and then sets the default.  An enum-valued key of
 * struct arch needs no parser of its own: parse_enum with the names of the
 * values, in enum order, and the field's offset. */
struct key {
    const char *name;
    int (*parse)(struct parser *p, const struct key *k, const cJSON *v);
    const char *const *values;
    size_t field;
};

/* "name", "model_name": a non-empty string that fits ARCH_NAME_LEN. */
static int get_name(const cJSON *v, const char *key, char *out, const char *src, struct err *e)
{
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) >= ARCH_NAME_LEN)
        return err_set(e, "%s: key \"%s\" must be a non-empty string under %d characters", src,
                       key, ARCH_NAME_LEN);
    strcpy(out, v->valuestring);
    return 0;
}

static int parse_name(struct parser *p, const struct key *k, const cJSON *v)
{
    if (!v) {
        snprintf(p->a->name, sizeof p->a->name, "%s", "resnet");
        return 0;
    }
    return get_name(v, k->name, p->a->name, p->src, p->e);
}

static int parse_model_name(struct parser *p, const struct key *k, const cJSON *v)
{
    return v ? get_name(v, k->name, p->a->model_name, p->src, p->e) : 0;
}

static int parse_version(struct parser *p, const struct key *k, const cJSON *v)
{
    struct arch *a = p->a;
    a->version = 1;
    if (v && json_int(v, k->name, 1, 2, &a->version, p->src, p->e))
        return -1;
    /* Pre-activation nets read a BN-ReLU, not the un-rectified stem, so
     * torch's -inf pool padding is no longer the same as Keras's zeros; and
     * their projections have no BN (the next block's preact is one).  The
     * layout keys below may still say otherwise. */
    if (a->version == 2) {
        a->pool_padding = POOL_MIN;
        a->shortcut = SHORTCUT_CONV;
        a->weight_names = WNAMES_TIMM;
    }
    return 0;
}

/* The stem comes first of the network's keys: it decides the depth table
 * and the defaults. */
static int parse_stem(struct parser *p, const struct key *k, const cJSON *v)
{
    static const char *const stems[] = {"imagenet", "cifar", NULL};
    struct arch *a = p->a;
    int t;
    a->stem = STEM_IMAGENET;
    if (v && cJSON_IsArray(v)) {
        a->stem = STEM_LAYERS;
        if (spec_layers_parse(v, k->name, 0, a->stem_layers, &a->n_stem_layers, p->src, p->e))
            return -1;
    } else if (v && cJSON_IsString(v)) {
        if (json_enum(v, k->name, stems, &t, p->src, p->e))
            return -1;
        a->stem = (enum stem_kind)t;
    } else if (v) {
        return err_set(p->e, "%s: key \"stem\" must be \"imagenet\", \"cifar\" or a list of "
                       "layer objects", p->src);
    }
    /* A cifar-sized net: 16 filters, 32x32 inputs and 10 classes by default.
     * A stem given as layers follows the ImageNet table where it can. */
    p->cifar = a->stem == STEM_CIFAR;
    return 0;
}

static int parse_block(struct parser *p, const struct key *k, const cJSON *v)
{
    static const char *const blocks[] = {"basic", "bottleneck", NULL};
    int t;
    if (!v)
        return 0;
    if (json_enum(v, k->name, blocks, &t, p->src, p->e))
        return -1;
    p->a->block = (enum block_kind)t;
    p->block_given = 1;
    return 0;
}

/* Which rule "depth" follows, where the stem's own would not do: 101 and
 * 200 are 9n+2 depths too, and a CIFAR net of a stem given as layers would
 * otherwise take their ImageNet rows. */
static int parse_depth_rule(struct parser *p, const struct key *k, const cJSON *v)
{
    static const char *const rules[] = {"imagenet", "cifar", NULL};
    p->depth_rule = -1;
    if (!v)
        return 0;
    if (!cJSON_GetObjectItemCaseSensitive(p->root, "depth"))
        return err_set(p->e, "%s: key \"depth_rule\" says how \"depth\" maps to stages, but "
                       "the spec has no \"depth\"", p->src);
    return json_enum(v, k->name, rules, &p->depth_rule, p->src, p->e);
}

static int parse_depth(struct parser *p, const struct key *k, const cJSON *v)
{
    if (!v)
        return 0;
    if (cJSON_GetObjectItemCaseSensitive(p->root, "stages"))
        return err_set(p->e, "%s: keys \"depth\" and \"stages\" both given; use one", p->src);
    int d;
    if (json_int(v, k->name, 1, 100000, &d, p->src, p->e))
        return -1;
    if (p->depth_rule >= 0)
        p->cifar = p->depth_rule;
    else if (p->a->stem == STEM_LAYERS)
        p->cifar = depth_in_table(d) < 0;
    return depth_to_stages(d, p->a, p->block_given, p->cifar, p->src, p->e);
}

/* The stages, given here or by "depth" before, and their total. */
static int parse_stages(struct parser *p, const struct key *k, const cJSON *v)
{
    struct arch *a = p->a;
    if (v) {
        if (!p->block_given)
            return err_set(p->e, "%s: key \"stages\" needs \"block\" (\"basic\" or "
                           "\"bottleneck\")", p->src);
        int n = json_int_array(v, k->name, 1, ARCH_MAX_STAGES, 1, 4096, a->stages, p->src, p->e);
        if (n < 0)
            return -1;
        a->n_stages = n;
    } else if (!cJSON_GetObjectItemCaseSensitive(p->root, "depth")) {
        return err_set(p->e, "%s: missing key \"depth\" (or \"block\" and \"stages\")", p->src);
    }
    /* ResNet-1001 has 333 blocks; a spec claiming thousands is a mistake or
     * an attack, and would only exhaust memory and time. */
    long total_blocks = 0;
    for (int i = 0; i < a->n_stages; i++)
        total_blocks += a->stages[i];
    if (total_blocks > ARCH_MAX_BLOCKS)
        return err_set(p->e, "%s: the network has %ld residual blocks; at most %d are "
                       "supported", p->src, total_blocks, ARCH_MAX_BLOCKS);
    return 0;
}

/* "widths", "out_widths": one entry per stage. */
static int get_stage_widths(struct parser *p, const char *key, const cJSON *v, int *out)
{
    int n = json_int_array(v, key, 1, ARCH_MAX_STAGES, 1, 1 << 16, out, p->src, p->e);
    if (n < 0)
        return -1;
    if (n != p->a->n_stages)
        return err_set(p->e, "%s: key \"%s\" has %d entries but the network has %d stages",
                       p->src, key, n, p->a->n_stages);
    return 0;
}

static int parse_widths(struct parser *p, const struct key *k, const cJSON *v)
{
    /* 64, 128, 256, ... for ImageNet, 16, 32, 64 for CIFAR */
    int base = p->cifar ? 16 : 64;
    for (int i = 0; i < p->a->n_stages; i++)
        p->a->widths[i] = base << i;
    return v ? get_stage_widths(p, k->name, v, p->a->widths) : 0;
}

static int parse_out_widths(struct parser *p, const struct key *k, const cJSON *v)
{
    return v ? get_stage_widths(p, k->name, v, p->a->out_widths) : 0;
}

static int parse_expansion(struct parser *p, const struct key *k, const cJSON *v)
{
    if (!v)
        return 0;
    if (cJSON_GetObjectItemCaseSensitive(p->root, "out_widths"))
        return err_set(p->e, "%s: keys \"expansion\" and \"out_widths\" both given; use one",
                       p->src);
    return json_int(v, k->name, 1, 64, &p->a->expansion, p->src, p->e);
}

static int parse_stem_width(struct parser *p, const struct key *k, const cJSON *v)
{
    struct arch *a = p->a;
    a->stem_width = a->widths[0];
    if (!v)
        return 0;
    if (a->stem == STEM_LAYERS)
        return err_set(p->e, "%s: key \"stem_width\" applies to a named stem; a stem given as "
                       "layers sets its conv's \"filters\"", p->src);
    return json_int(v, k->name, 1, 1 << 16, &a->stem_width, p->src, p->e);
}

static int parse_classes(struct parser *p, const struct key *k, const cJSON *v)
{
    p->a->classes = p->cifar ? 10 : 1000;
    return v ? json_int(v, k->name, 1, 1 << 20, &p->a->classes, p->src, p->e) : 0;
}

static int parse_head(struct parser *p, const struct key *k, const cJSON *v)
{
    return v ? spec_layers_parse(v, k->name, 1, p->a->head, &p->a->n_head, p->src, p->e) : 0;
}

/* Absent, the field keeps its zero (torchvision's choice) or what
 * parse_version chose for version 2. */
static int parse_enum(struct parser *p, const struct key *k, const cJSON *v)
{
    int t;
    if (!v)
        return 0;
    if (json_enum(v, k->name, k->values, &t, p->src, p->e))
        return -1;
    memcpy((char *)p->a + k->field, &t, sizeof t);
    return 0;
}

static int parse_bn_eps(struct parser *p, const struct key *k, const cJSON *v)
{
    (void)k;
    p->a->bn_eps = 1e-5f;
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || !(v->valuedouble > 0 && v->valuedouble < 1))
        return err_set(p->e, "%s: key \"bn_eps\" must be a number between 0 and 1", p->src);
    p->a->bn_eps = (float)v->valuedouble;
    return 0;
}

static int parse_first_preact(struct parser *p, const struct key *k, const cJSON *v)
{
    int first = 1;
    if (!v)
        return 0;
    if (json_bool(v, k->name, &first, p->src, p->e))
        return -1;
    p->a->skip_first_preact = !first;
    return 0;
}

/* The layout keys that only make sense together. */
static int check_layout(struct parser *p, const struct key *k, const cJSON *v)
{
    static const char *const v2_only[] = {"shortcut_from", "first_preact", NULL};
    const struct arch *a = p->a;
    (void)k, (void)v;
    for (int i = 0; a->version == 1 && v2_only[i]; i++)
        if (cJSON_GetObjectItemCaseSensitive(p->root, v2_only[i]))
            return err_set(p->e, "%s: key \"%s\" applies to version 2 (pre-activation) nets",
                           p->src, v2_only[i]);
    if (a->version == 2 && a->weight_names == WNAMES_TORCHVISION)
        return err_set(p->e, "%s: key \"weights_names\" is \"torchvision\", which has no "
                       "pre-activation (version 2) nets; use \"timm\" or \"keras\"", p->src);
    if (a->stride_at == STRIDE_1X1 && a->block == BLOCK_BASIC)
        return err_set(p->e, "%s: key \"stride_at\" is \"1x1\", but basic blocks have no 1x1 "
                       "conv; use \"3x3\"", p->src);
    return 0;
}

static int parse_input(struct parser *p, const struct key *k, const cJSON *v)
{
    struct arch *a = p->a;
    a->in_h = a->in_w = p->cifar ? 32 : 224;
    a->in_c = 3;
    if (!v)
        return 0;
    int hwc[3];
    if (json_int_array(v, k->name, 3, 3, 1, 1 << 14, hwc, p->src, p->e) < 0)
        return -1;
    if (hwc[2] != 3)
        return err_set(p->e, "%s: key \"input\" has %d channels; only RGB (3) inputs are "
                       "supported", p->src, hwc[2]);
    a->in_h = hwc[0], a->in_w = hwc[1], a->in_c = hwc[2];
    return 0;
}

static int parse_preprocess_key(struct parser *p, const struct key *k, const cJSON *v)
{
    struct arch *a = p->a;
    (void)k;
    /* torchvision's ImageNet recipe scales the crop by 256/224 */
    int shorter = a->in_h < a->in_w ? a->in_h : a->in_w;
    a->pre.resize = p->cifar ? shorter : (shorter * 256 + 112) / 224;
    memcpy(a->pre.mean, p->cifar ? cifar_mean : imagenet_mean, sizeof a->pre.mean);
    memcpy(a->pre.std, p->cifar ? cifar_std : imagenet_std, sizeof a->pre.std);
    return v ? parse_preprocess(v, a, p->src, p->e) : 0;
}

/* A file name, relative to the spec's folder. */
static int parse_labels(struct parser *p, const struct key *k, const cJSON *v)
{
    struct arch *a = p->a;
    (void)k;
    if (!v)
        return 0;
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return err_set(p->e, "%s: key \"labels\" must be a file name", p->src);
    const char *f = v->valuestring;
    int n = (f[0] == '/' || !p->dir || !p->dir[0])
                ? snprintf(a->labels, sizeof a->labels, "%s", f)
                : snprintf(a->labels, sizeof a->labels, "%s/%s", p->dir, f);
    if (n < 0 || (size_t)n >= sizeof a->labels)
        return err_set(p->e, "%s: key \"labels\": path too long", p->src);
    struct stat st;
    if (stat(a->labels, &st) != 0)
        return err_set(p->e, "%s: key \"labels\": %s: %s", p->src, a->labels, strerror(errno));
    return 0;
}

/* The layout keys: where the reference code puts strides, biases, ... */
static const char *const stride_ats[] = {"3x3", "1x1", "last", NULL};
static const char *const biases[] = {"none", "all", "v2", NULL};
static const char *const paddings[] = {"explicit", "same", NULL};
static const char *const pool_pads[] = {"zero", "min", "same", NULL};
static const char *const shortcuts[] = {"projection", "conv", NULL};
static const char *const froms[] = {"preact", "input", NULL};
static const char *const add_orders[] = {"shortcut_first", "residual_first", NULL};
static const char *const createds[] = {"first", "last", NULL};
static const char *const name_styles[] = {"applications", "auto", NULL};
static const char *const wnames[] = {"torchvision", "timm", "keras", NULL};

/* parse_enum stores an int into these fields. */
_Static_assert(sizeof(enum stride_at) == sizeof(int) && sizeof(enum bias_rule) == sizeof(int) &&
                   sizeof(enum pad_style) == sizeof(int) && sizeof(enum pool_pad) == sizeof(int) &&
                   sizeof(enum shortcut_kind) == sizeof(int) &&
                   sizeof(enum shortcut_from) == sizeof(int) &&
                   sizeof(enum add_order) == sizeof(int) &&
                   sizeof(enum created_order) == sizeof(int) &&
                   sizeof(enum name_style) == sizeof(int) &&
                   sizeof(enum weight_names) == sizeof(int),
               "the layout enums are int-sized");
#define FIELD(f) offsetof(struct arch, f)

/* Every top-level key, in the order the keys are applied.  The row without
 * a name checks, at that point, what the keys above it decided together. */
static const struct key keys[] = {
    {"name", parse_name, NULL, 0},
    {"model_name", parse_model_name, NULL, 0},
    {"version", parse_version, NULL, 0},
    {"stem", parse_stem, NULL, 0},
    {"block", parse_block, NULL, 0},
    {"depth_rule", parse_depth_rule, NULL, 0},
    {"depth", parse_depth, NULL, 0},
    {"stages", parse_stages, NULL, 0},
    {"widths", parse_widths, NULL, 0},
    {"out_widths", parse_out_widths, NULL, 0},
    {"expansion", parse_expansion, NULL, 0},
    {"stem_width", parse_stem_width, NULL, 0},
    {"classes", parse_classes, NULL, 0},
    {"head", parse_head, NULL, 0},
    {"stride_at", parse_enum, stride_ats, FIELD(stride_at)},
    {"bias", parse_enum, biases, FIELD(bias)},
    {"padding", parse_enum, paddings, FIELD(padding)},
    {"pool_padding", parse_enum, pool_pads, FIELD(pool_padding)},
    {"shortcut", parse_enum, shortcuts, FIELD(shortcut)},
    {"shortcut_from", parse_enum, froms, FIELD(shortcut_from)},
    {"add_order", parse_enum, add_orders, FIELD(add_order)},
    {"shortcut_created", parse_enum, createds, FIELD(created)},
    {"names", parse_enum, name_styles, FIELD(names)},
    {"weights_names", parse_enum, wnames, FIELD(weight_names)},
    {"bn_eps", parse_bn_eps, NULL, 0},
    {"first_preact", parse_first_preact, NULL, 0},
    {NULL, check_layout, NULL, 0},
    {"input", parse_input, NULL, 0},
    {"preprocess", parse_preprocess_key, NULL, 0},
    {"labels", parse_labels, NULL, 0},
};
#undef FIELD

#define N_KEYS (sizeof keys / sizeof *keys)

int spec_parse(const char *json, const char *source, const char *dir,
               struct arch *a, struct err *e)
{
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
    if (json_check_keys(root, spec_keys(), "", src, e))
        goto out;
    struct parser p = {.root = root, .a = a, .src = src, .dir = dir, .e = e};
    for (size_t i = 0; i < N_KEYS; i++) {
        const cJSON *v = keys[i].name ? cJSON_GetObjectItemCaseSensitive(root, keys[i].name) : NULL;
        if (keys[i].parse(&p, &keys[i], v))
            goto out;
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

/* Filled once, by call_once: spec_parse checks a spec's keys against it,
 * and specs may be parsed on more than one thread. */
static const char *key_names[N_KEYS + 1];

static void list_key_names(void)
{
    for (size_t i = 0, n = 0; i < N_KEYS; i++)
        if (keys[i].name)
            key_names[n++] = keys[i].name;
}

const char *const *spec_keys(void)
{
    static once_flag once = ONCE_FLAG_INIT;
    call_once(&once, list_key_names);
    return key_names;
}

const char *const *spec_preprocess_keys(void)
{
    return preprocess_keys;
}
