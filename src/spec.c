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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
    double d = v->valuedouble;
    if (d != (double)(long long)d)
        return err_set(e, "%s: key \"%s\" must be an integer, got %g", src, key, d);
    if (d < lo || d > hi)
        return err_set(e, "%s: key \"%s\" is %g, must be between %d and %d", src,
                       key, d, lo, hi);
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

/* --- depth -> block kind and stages --- */

static int depth_to_stages(int depth, struct arch *a, int block_given,
                           const char *src, struct err *e)
{
    if (a->stem == STEM_IMAGENET) {
        for (size_t i = 0; i < sizeof imagenet_depths / sizeof *imagenet_depths; i++) {
            if (imagenet_depths[i].depth != depth)
                continue;
            if (block_given && a->block != imagenet_depths[i].block)
                return err_set(e, "%s: key \"block\" contradicts \"depth\": depth %d "
                               "uses %s blocks", src, depth,
                               imagenet_depths[i].block == BLOCK_BASIC ? "basic" : "bottleneck");
            a->block = imagenet_depths[i].block;
            a->n_stages = 4;
            memcpy(a->stages, imagenet_depths[i].stages, sizeof imagenet_depths[i].stages);
            return 0;
        }
        return err_set(e, "%s: key \"depth\" is %d, which has no mapping for the "
                       "imagenet stem (use 18, 34, 50, 101, 152 or 200, or give "
                       "\"block\" and \"stages\")", src, depth);
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
    static const char *const keys[] = {"resize", "crop", "mean", "std", NULL};
    if (!cJSON_IsObject(pre))
        return err_set(e, "%s: key \"preprocess\" must be an object", src);
    if (check_keys(pre, keys, "preprocess.", src, e))
        return -1;
    const cJSON *v;
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

int spec_parse(const char *json, const char *source, const char *dir,
               struct arch *a, struct err *e)
{
    static const char *const keys[] = {"name", "version", "block", "stages", "widths",
                                       "depth", "stem", "stem_width", "classes",
                                       "input", "preprocess", "labels", NULL};
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
    /* name */
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "name"))) {
        if (!cJSON_IsString(v) || !v->valuestring[0] ||
            strlen(v->valuestring) >= sizeof a->name) {
            err_set(e, "%s: key \"name\" must be a non-empty string under %zu characters",
                    src, sizeof a->name);
            goto out;
        }
        strcpy(a->name, v->valuestring);
    } else {
        snprintf(a->name, sizeof a->name, "%s", "resnet");
    }
    /* version */
    a->version = 1;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "version")) &&
        get_int(v, "version", 1, 2, &a->version, src, e))
        goto out;
    if (a->version == 2) {
        err_set(e, "%s: key \"version\" is 2 (pre-activation ResNet), which is not "
                "yet supported; use version 1", src);
        goto out;
    }
    /* stem first: it decides the depth table and the defaults */
    a->stem = STEM_IMAGENET;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "stem"))) {
        if (get_enum(v, "stem", stems, &t, src, e))
            goto out;
        a->stem = (enum stem_kind)t;
    }
    int block_given = 0;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "block"))) {
        if (get_enum(v, "block", blocks, &t, src, e))
            goto out;
        a->block = (enum block_kind)t;
        block_given = 1;
    }
    const cJSON *depth = cJSON_GetObjectItemCaseSensitive(root, "depth");
    const cJSON *stages = cJSON_GetObjectItemCaseSensitive(root, "stages");
    if (depth && stages) {
        err_set(e, "%s: keys \"depth\" and \"stages\" both given; use one", src);
        goto out;
    }
    if (depth) {
        int d;
        if (get_int(depth, "depth", 1, 100000, &d, src, e) ||
            depth_to_stages(d, a, block_given, src, e))
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
    /* widths: 64, 128, 256, ... for ImageNet, 16, 32, 64 for CIFAR */
    int base = a->stem == STEM_CIFAR ? 16 : 64;
    for (int i = 0; i < a->n_stages; i++)
        a->widths[i] = base << i;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "widths"))) {
        int n = get_int_array(v, "widths", 1, ARCH_MAX_STAGES, 1, 1 << 16, a->widths, src, e);
        if (n < 0)
            goto out;
        if (n != a->n_stages) {
            err_set(e, "%s: key \"widths\" has %d entries but the network has %d stages",
                    src, n, a->n_stages);
            goto out;
        }
    }
    a->stem_width = a->widths[0];
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "stem_width")) &&
        get_int(v, "stem_width", 1, 1 << 16, &a->stem_width, src, e))
        goto out;
    a->classes = a->stem == STEM_CIFAR ? 10 : 1000;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "classes")) &&
        get_int(v, "classes", 1, 1 << 20, &a->classes, src, e))
        goto out;
    /* input */
    a->in_h = a->in_w = a->stem == STEM_CIFAR ? 32 : 224;
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
    a->pre.resize = a->stem == STEM_CIFAR ? shorter : (shorter * 256 + 112) / 224;
    memcpy(a->pre.mean, a->stem == STEM_CIFAR ? cifar_mean : imagenet_mean, sizeof a->pre.mean);
    memcpy(a->pre.std, a->stem == STEM_CIFAR ? cifar_std : imagenet_std, sizeof a->pre.std);
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

int spec_load(const char *name_or_path, struct arch *a, struct err *e)
{
    const char *text = spec_builtin_text(name_or_path);
    if (text) {
        char src[128];
        snprintf(src, sizeof src, "%s (built-in spec)", name_or_path);
        return spec_parse(text, src, NULL, a, e);
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

int spec_from_depth(int depth, struct arch *a, struct err *e)
{
    char json[128];
    snprintf(json, sizeof json, "{\"name\": \"resnet%d\", \"depth\": %d}", depth, depth);
    return spec_parse(json, "--depth", NULL, a, e);
}
