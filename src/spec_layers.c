/* spec_layers.c -- a spec's "stem" or "head" given as a list of layer
 * objects ({"type": "conv", "filters": 64, ...}) -> struct arch_layer.
 *
 * Each type of layer takes its own keys (layer_takes); the list as a whole
 * must make sense where it stands: a stem keeps the image's height and
 * width, a head ends in the softmax classifier. */
#include "spec_layers.h"

#include <stdio.h>
#include <string.h>
#include <threads.h>

#include "spec_json.h"

/* "valid", "same", or a number of rows/cols each side (torch's padding). */
static int get_window_pad(const cJSON *v, const char *key, int torch_ok, struct arch_layer *l,
                          const char *src, struct err *e)
{
    if (cJSON_IsNumber(v) && torch_ok) {
        l->padding = WPAD_TORCH;
        return json_int(v, key, 0, 1024, &l->pad, src, e);
    }
    static const char *const names[] = {"valid", "same", NULL};
    int t;
    if (!cJSON_IsString(v))
        return err_set(e, "%s: key \"%s\" must be \"valid\", \"same\"%s", src, key,
                       torch_ok ? " or a number of rows each side" : "");
    if (json_enum(v, key, names, &t, src, e))
        return -1;
    l->padding = t ? WPAD_SAME : WPAD_VALID;
    return 0;
}

/* The keys each type of layer object takes (spec_layer_keys), by enum
 * arch_layer_kind.  The NULLs that pad a row end it: a row holds at most 7. */
static const char *const layer_takes[][8] = {
    [AL_ZEROPAD] = {"type", "name", "pad"},
    [AL_CONV] = {"type", "name", "filters", "kernel", "stride", "padding", "bias"},
    [AL_BN] = {"type", "name"},
    [AL_RELU] = {"type", "name"},
    [AL_MAXPOOL] = {"type", "name", "pool", "stride", "padding"},
    [AL_AVGPOOL] = {"type", "name", "pool", "stride", "padding"},
    [AL_GAP] = {"type", "name"},
    [AL_FLATTEN] = {"type", "name"},
    [AL_DENSE] = {"type", "name", "units", "activation", "bias"},
    [AL_DROPOUT] = {"type", "name", "rate"},
};

/* One layer object: {"type": "conv", "filters": 64, "kernel": 7, ...}. */
static int parse_layer(const cJSON *obj, const char *at, struct arch_layer *l,
                       const char *src, struct err *e)
{
    static const char *const types[] = {"zeropad", "conv", "bn", "relu", "maxpool", "avgpool",
                                        "gap", "flatten", "dense", "dropout", NULL};
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
    if (json_enum(v, key, types, &t, src, e))
        return -1;
    memset(l, 0, sizeof *l);
    l->kind = (enum arch_layer_kind)t;
    snprintf(prefix, sizeof prefix, "%s.", at);
    if (json_check_keys(obj, layer_takes[t], prefix, src, e))
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
        return json_int(v, KEY("pad"), 0, 1024, &l->pad, src, e);
    case AL_CONV:
        if (!(v = cJSON_GetObjectItemCaseSensitive(obj, "filters")))
            return err_set(e, "%s: key \"%s\" is missing", src, KEY("filters"));
        if (json_int(v, KEY("filters"), 1, 1 << 16, &l->units, src, e))
            return -1;
        if (!(v = cJSON_GetObjectItemCaseSensitive(obj, "kernel")))
            return err_set(e, "%s: key \"%s\" is missing", src, KEY("kernel"));
        if (json_int(v, KEY("kernel"), 1, 64, &l->k, src, e))
            return -1;
        l->stride = 1;
        if ((v = cJSON_GetObjectItemCaseSensitive(obj, "stride")) &&
            json_int(v, KEY("stride"), 1, 64, &l->stride, src, e))
            return -1;
        if ((v = cJSON_GetObjectItemCaseSensitive(obj, "padding")) &&
            get_window_pad(v, KEY("padding"), 1, l, src, e))
            return -1;
        if ((v = cJSON_GetObjectItemCaseSensitive(obj, "bias")) &&
            json_bool(v, KEY("bias"), &l->bias, src, e))
            return -1;
        return 0;
    case AL_MAXPOOL:
    case AL_AVGPOOL:
        if (!(v = cJSON_GetObjectItemCaseSensitive(obj, "pool")))
            return err_set(e, "%s: key \"%s\" is missing", src, KEY("pool"));
        if (json_int(v, KEY("pool"), 1, 64, &l->k, src, e))
            return -1;
        l->stride = l->k;   /* Keras's default: strides = pool_size */
        if ((v = cJSON_GetObjectItemCaseSensitive(obj, "stride")) &&
            json_int(v, KEY("stride"), 1, 64, &l->stride, src, e))
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
            json_int(v, KEY("units"), 1, 1 << 20, &l->units, src, e))
            return -1;
        if ((v = cJSON_GetObjectItemCaseSensitive(obj, "activation"))) {
            if (json_enum(v, KEY("activation"), acts, &t, src, e))
                return -1;
            l->act = (enum activation)t;
        }
        if ((v = cJSON_GetObjectItemCaseSensitive(obj, "bias")) &&
            json_bool(v, KEY("bias"), &l->bias, src, e))
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

int spec_layers_parse(const cJSON *arr, const char *key, int head, struct arch_layer *out,
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

static const char *layer_key_names[sizeof layer_takes / sizeof layer_takes[0][0] + 1];

/* Every key of layer_takes, once, in the order the rows first name them. */
static void list_layer_keys(void)
{
    size_t n = 0;
    for (size_t t = 0; t < sizeof layer_takes / sizeof *layer_takes; t++)
        for (const char *const *k = layer_takes[t]; *k; k++) {
            size_t seen = 0;
            while (seen < n && strcmp(layer_key_names[seen], *k))
                seen++;
            if (seen == n)
                layer_key_names[n++] = *k;
        }
}

const char *const *spec_layer_keys(void)
{
    static once_flag once = ONCE_FLAG_INIT;
    call_once(&once, list_layer_keys);
    return layer_key_names;
}
