/* net.c -- struct arch -> the layer list, with shapes, parameter and
 * multiply-add counts.
 *
 * The list is what Keras would build for the same network, so `summary`
 * prints it directly: torch's symmetric padding is a ZeroPadding2D before
 * a 'valid' Conv2D, TensorFlow's padding='same' stays inside the layer.
 * One builder serves every layout the spec can name -- torchvision's and
 * timm's, Keras Applications' v1 and v2, the Keras tutorials' -- because
 * they differ only in where the stride, the biases, the padding and the
 * shortcut sit, which the arch says.  Each layer that holds weights also
 * records its tensor prefix in the spec's weight-name scheme. */
#include "net.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Keras's class name and tf.keras's auto-name stem (its snake case). */
static const struct {
    const char *cls, *snake;
} kinds[] = {
    [LAYER_INPUT] = {"InputLayer", "input"},
    [LAYER_ZEROPAD] = {"ZeroPadding2D", "zero_padding2d"},
    [LAYER_CONV] = {"Conv2D", "conv2d"},
    [LAYER_BN] = {"BatchNormalization", "batch_normalization"},
    [LAYER_RELU] = {"Activation", "activation"},
    [LAYER_MAXPOOL] = {"MaxPooling2D", "max_pooling2d"},
    [LAYER_ADD] = {"Add", "add"},
    [LAYER_GAP] = {"GlobalAveragePooling2D", "global_average_pooling2d"},
    [LAYER_DENSE] = {"Dense", "dense"},
    [LAYER_AVGPOOL] = {"AveragePooling2D", "average_pooling2d"},
    [LAYER_FLATTEN] = {"Flatten", "flatten"},
    [LAYER_DROPOUT] = {"Dropout", "dropout"},
};
#define N_KINDS (int)(sizeof kinds / sizeof *kinds)

const char *net_class_name(enum layer_kind k)
{
    return (int)k >= 0 && (int)k < N_KINDS && kinds[k].cls ? kinds[k].cls : "Layer";
}

struct builder {
    struct net *n;
    const struct arch *a;
    int cap;
    struct err *e;
};

/* A new layer reading in0 (and in1); its output shape starts as in0's.
 * `name` NULL or "" leaves it to the auto-naming pass. */
static int add(struct builder *b, enum layer_kind kind, const char *name,
               const char *tensor, int in0, int in1)
{
    struct net *n = b->n;
    if (n->n_layers == b->cap) {
        int cap = b->cap ? 2 * b->cap : 256;
        struct layer *l = realloc(n->layer, (size_t)cap * sizeof *l);
        if (!l)
            return err_set(b->e, "net: out of memory");
        n->layer = l;
        b->cap = cap;
    }
    struct layer *l = &n->layer[n->n_layers];
    memset(l, 0, sizeof *l);
    l->kind = kind;
    l->created = n->n_layers;
    snprintf(l->name, sizeof l->name, "%s", name ? name : "");
    snprintf(l->tensor, sizeof l->tensor, "%s", tensor ? tensor : "");
    l->in[0] = in0;
    l->in[1] = in1;
    l->n_in = in0 < 0 ? 0 : in1 < 0 ? 1 : 2;
    if (l->n_in) {
        const struct layer *p = &n->layer[in0];
        l->in_h = p->out_h, l->in_w = p->out_w, l->in_c = p->out_c;
        l->out_h = p->out_h, l->out_w = p->out_w, l->out_c = p->out_c;
        l->flat = p->flat;
    }
    return n->n_layers++;
}

static int zeropad(struct builder *b, const char *name, int in, int p)
{
    int i = add(b, LAYER_ZEROPAD, name, NULL, in, -1);
    if (i < 0)
        return -1;
    struct layer *l = &b->n->layer[i];
    l->pad_t = l->pad_b = l->pad_l = l->pad_r = p;
    l->out_h += 2 * p;
    l->out_w += 2 * p;
    return i;
}

/* A window's output size and own padding on one axis.  'valid':
 * floor((in - k) / stride) + 1.  TensorFlow's 'same': ceil(in / stride),
 * padded by max((out - 1) * stride + k - in, 0), the odd one at the end.
 * torch's `pad` each side: floor((in + 2 pad - k) / stride) + 1. */
static int window(int in, int k, int stride, enum window_pad how, int pad, int *lo, int *hi)
{
    if (how == WPAD_SAME) {
        int out = (in + stride - 1) / stride;
        int total = (out - 1) * stride + k - in;
        total = total > 0 ? total : 0;
        *lo = total / 2, *hi = total - total / 2;
        return out;
    }
    *lo = *hi = how == WPAD_TORCH ? pad : 0;
    in += *lo + *hi;
    return in < k ? 0 : (in - k) / stride + 1;
}

/* Shape a conv or pool layer: out_h, out_w and its own padding. */
static int shape_window(struct builder *b, int i, int k, int stride, enum window_pad how, int pad)
{
    struct layer *l = &b->n->layer[i];
    l->k = k, l->stride = stride;
    l->out_h = window(l->in_h, k, stride, how, pad, &l->pad_t, &l->pad_b);
    l->out_w = window(l->in_w, k, stride, how, pad, &l->pad_l, &l->pad_r);
    if (l->out_h < 1 || l->out_w < 1)
        return err_set(b->e, "net: layer %s: input %dx%d is smaller than its %dx%d window "
                       "-- the spec's input is too small for this depth",
                       l->name[0] ? l->name : net_class_name(l->kind), l->in_h, l->in_w, k, k);
    return i;
}

/* A Conv2D; `how` WPAD_TORCH is written as a ZeroPadding2D before it. */
static int conv(struct builder *b, const char *name, const char *pad_name, const char *tensor,
                int in, int filters, int k, int stride, enum window_pad how, int pad, int bias)
{
    if (how == WPAD_TORCH && pad > 0 && (in = zeropad(b, pad_name, in, pad)) < 0)
        return -1;
    int i = add(b, LAYER_CONV, name, tensor, in, -1);
    if (i < 0 || shape_window(b, i, k, stride, how == WPAD_SAME ? WPAD_SAME : WPAD_VALID, 0) < 0)
        return -1;
    struct layer *l = &b->n->layer[i];
    l->out_c = filters;
    l->bias = bias;
    l->params = (long)filters * l->in_c * k * k;
    l->macs = (double)l->params * l->out_h * l->out_w;
    l->params += bias ? filters : 0;
    return i;
}

static int pool(struct builder *b, enum layer_kind kind, const char *name, int in, int k,
                int stride, enum window_pad how, int pad)
{
    int i = add(b, kind, name, NULL, in, -1);
    return i < 0 ? -1 : shape_window(b, i, k, stride, how, pad);
}

static int bn(struct builder *b, const char *name, const char *tensor, int in)
{
    int i = add(b, LAYER_BN, name, tensor, in, -1);
    if (i < 0)
        return -1;
    struct layer *l = &b->n->layer[i];
    l->eps = b->a->bn_eps > 0 ? b->a->bn_eps : 1e-5f;
    l->params = 2L * l->out_c;   /* gamma, beta */
    l->frozen = 2L * l->out_c;   /* moving mean, moving variance */
    return i;
}

static int dense(struct builder *b, const char *name, const char *tensor, int in, int units,
                 int bias, enum activation act)
{
    int i = add(b, LAYER_DENSE, name, tensor, in, -1);
    if (i < 0)
        return -1;
    struct layer *l = &b->n->layer[i];
    l->out_c = units;
    l->bias = bias;
    l->relu = act == ACT_RELU;
    l->softmax = act == ACT_SOFTMAX;
    l->params = (long)l->in_c * units + (bias ? units : 0);
    l->macs = (double)l->in_c * units;
    return i;
}

/* Flatten and global pooling make the features a (None, C) vector. */
static int flatten(struct builder *b, enum layer_kind kind, const char *name, int in)
{
    int i = add(b, kind, name, NULL, in, -1);
    if (i < 0)
        return -1;
    struct layer *l = &b->n->layer[i];
    if (kind == LAYER_FLATTEN)
        l->out_c = l->in_h * l->in_w * l->in_c;
    l->out_h = l->out_w = 1;
    l->flat = 1;
    return i;
}

/* ---- names ---- */

/* The name of a part of a block or stem, "<prefix>_<what>", or "" when the
 * spec wants tf.keras's auto names. */
static const char *nm(struct builder *b, char *out, size_t len, const char *prefix,
                      const char *what)
{
    if (b->a->names == NAMES_AUTO)
        out[0] = '\0';
    else
        snprintf(out, len, "%.31s_%.31s", prefix, what);
    return out;
}

static int by_layer_name(const void *a, const void *b)
{
    return strcmp((*(const struct layer *const *)a)->name, (*(const struct layer *const *)b)->name);
}

/* The first name two layers share, or NULL; sorted, so a spec of thousands
 * of blocks is checked as fast as it is built. */
static const char *shared_name(const struct net *n, struct err *e, int *failed)
{
    const struct layer **sorted = malloc((size_t)n->n_layers * sizeof *sorted);
    *failed = !sorted;
    if (!sorted) {
        err_set(e, "net: out of memory");
        return NULL;
    }
    for (int i = 0; i < n->n_layers; i++)
        sorted[i] = &n->layer[i];
    qsort(sorted, (size_t)n->n_layers, sizeof *sorted, by_layer_name);
    const char *dup = NULL;
    for (int i = 1; i < n->n_layers && !dup; i++)
        if (!strcmp(sorted[i - 1]->name, sorted[i]->name))
            dup = sorted[i]->name;
    free(sorted);
    return dup;
}

/* tf.keras names an unnamed layer by its class, counting from zero per
 * class in the order the code created them: conv2d, conv2d_1, ...  The
 * input is input_1 (a counter of its own that starts at 1). */
static int auto_names(struct builder *b)
{
    struct net *n = b->n;
    int count[N_KINDS] = {0};
    int *by_created = malloc((size_t)n->n_layers * sizeof *by_created);
    if (!by_created)
        return err_set(b->e, "net: out of memory");
    for (int i = 0; i < n->n_layers; i++)
        by_created[n->layer[i].created] = i;
    for (int r = 0; r < n->n_layers; r++) {
        struct layer *l = &n->layer[by_created[r]];
        if (l->name[0])
            continue;
        if (l->kind == LAYER_INPUT) {
            snprintf(l->name, sizeof l->name, "input_1");
            continue;
        }
        int k = count[l->kind]++;
        if (k)
            snprintf(l->name, sizeof l->name, "%s_%d", kinds[l->kind].snake, k);
        else
            snprintf(l->name, sizeof l->name, "%s", kinds[l->kind].snake);
    }
    free(by_created);
    /* A spec's own layer name may collide with an auto name: Keras refuses
     * such a model, and so do we. */
    int failed;
    const char *dup = shared_name(n, b->e, &failed);
    if (failed)
        return -1;
    if (dup)
        return err_set(b->e, "net: two layers are named %s; rename the spec's layer", dup);
    return 0;
}

/* The reference code created layers [from, mid) after [mid, to) although
 * they are built first: swap the two runs' creation ranks. */
static void created_later(struct builder *b, int from, int mid, int to)
{
    for (int i = from; i < to; i++) {
        struct layer *l = &b->n->layer[i];
        l->created = i < mid ? from + (to - mid) + (i - from) : from + (i - mid);
    }
}

/* ---- tensor names ---- */

/* The prefix of a block's tensor `part` (conv1, bn1, downsample.0, ...):
 * timm's for its v2 nets, torchvision's (timm's v1 names too) otherwise.
 * A v2 net's preact and final BN have no torchvision name; the spec never
 * pairs the two (Keras files name layers by order, then by Keras name). */
static const char *block_tensor(const struct arch *a, char *out, size_t len, int stage,
                                int idx, const char *part)
{
    if (a->version == 2 && a->weight_names == WNAMES_TIMM)
        snprintf(out, len, "stages.%d.blocks.%d.%s", stage, idx, part);
    else
        snprintf(out, len, "layer%d.%d.%s", stage + 1, idx, part);
    return out;
}

/* ---- blocks ---- */

enum shortcut { SC_IDENTITY, SC_PROJECT, SC_POOL };

/* What one residual block looks like, decided from the arch. */
struct block_plan {
    int stage, idx;       /* 0-based */
    int in;               /* the layer the block reads */
    int width, out_c;     /* inner filters, output filters */
    int stride;           /* of the block: 1 or 2 */
    enum shortcut sc;
    char prefix[40];      /* conv2_block1 */
};

/* pad + conv + BN (+ ReLU), a block's unit `unit` ("1", "2", "3");
 * `relu` 0 stops after the BN, `with_bn` 0 after the conv. */
static int unit(struct builder *b, const struct block_plan *p, const char *unitname,
                const char *tconv, const char *tbn, int in, int filters, int k, int stride,
                int bias, int with_bn, int relu)
{
    const struct arch *a = b->a;
    char name[64], pad_name[64], what[32];
    enum window_pad how = k == 1 ? WPAD_VALID : a->padding == PAD_SAME ? WPAD_SAME : WPAD_TORCH;
    snprintf(what, sizeof what, "%s_conv", unitname);
    nm(b, name, sizeof name, p->prefix, what);
    snprintf(what, sizeof what, "%s_pad", unitname);
    nm(b, pad_name, sizeof pad_name, p->prefix, what);
    int x = conv(b, name, pad_name, tconv, in, filters, k, stride, how, (k - 1) / 2, bias);
    if (x < 0 || !with_bn)
        return x;
    snprintf(what, sizeof what, "%s_bn", unitname);
    if ((x = bn(b, nm(b, name, sizeof name, p->prefix, what), tbn, x)) < 0 || !relu)
        return x;
    snprintf(what, sizeof what, "%s_relu", unitname);
    return add(b, LAYER_RELU, nm(b, name, sizeof name, p->prefix, what), NULL, x, -1);
}

/* The shortcut branch, reading `x` (the block's input) or `preact`. */
static int shortcut(struct builder *b, const struct block_plan *p, int x, int preact)
{
    const struct arch *a = b->a;
    char t0[64], t1[64];
    int timm = a->version == 2 && a->weight_names == WNAMES_TIMM;
    block_tensor(a, t0, sizeof t0, p->stage, p->idx, timm ? "downsample.conv" : "downsample.0");
    block_tensor(a, t1, sizeof t1, p->stage, p->idx, timm ? "downsample.norm" : "downsample.1");
    switch (p->sc) {
    case SC_PROJECT: {
        int from = a->version == 2 && a->shortcut_from == FROM_PREACT ? preact : x;
        return unit(b, p, "0", t0, t1, from, p->out_c, 1, p->stride, a->bias != BIAS_NONE,
                    a->shortcut == SHORTCUT_PROJECTION, 0);
    }
    case SC_POOL:
        /* Keras v2's MaxPooling2D(1, strides=2): unnamed, so auto-named */
        return pool(b, LAYER_MAXPOOL, "", x, 1, p->stride, WPAD_VALID, 0);
    default:
        return x;
    }
}

/* The residual branch; v1 ends in a BN, v2 in a conv. */
static int residual(struct builder *b, const struct block_plan *p, int in)
{
    const struct arch *a = b->a;
    int v2 = a->version == 2, timm = v2 && a->weight_names == WNAMES_TIMM;
    char t[6][64];
    /* v1: conv1 bn1 conv2 bn2 conv3 bn3; timm v2: a conv's BN is the next norm */
    static const char *const tv[6] = {"conv1", "bn1", "conv2", "bn2", "conv3", "bn3"};
    static const char *const tm[6] = {"conv1", "norm2", "conv2", "norm3", "conv3", ""};
    for (int i = 0; i < 6; i++)
        block_tensor(a, t[i], sizeof t[i], p->stage, p->idx, timm ? tm[i] : tv[i]);
    /* Keras v2 biases only the last conv; "all" every conv. */
    int inner_bias = a->bias == BIAS_ALL, last_bias = a->bias != BIAS_NONE;
    int x;
    if (a->block == BLOCK_BOTTLENECK) {
        int s1 = a->stride_at == STRIDE_1X1 ? p->stride : 1, s2 = p->stride / s1;
        x = unit(b, p, "1", t[0], t[1], in, p->width, 1, s1, inner_bias, 1, 1);
        if (x >= 0)
            x = unit(b, p, "2", t[2], t[3], x, p->width, 3, s2, inner_bias, 1, 1);
        if (x >= 0)
            x = unit(b, p, "3", t[4], t[5], x, p->out_c, 1, 1, last_bias, !v2, 0);
    } else {
        x = unit(b, p, "1", t[0], t[1], in, p->out_c, 3, p->stride, inner_bias, 1, 1);
        if (x >= 0)
            x = unit(b, p, "2", t[2], t[3], x, p->out_c, 3, 1, last_bias, !v2, 0);
    }
    return x;
}

/* One residual block.  v1 (post-activation): conv-BN-ReLU units, Add,
 * ReLU.  v2 (pre-activation, He et al. 2016): a shared BN-ReLU (the
 * "preact") first, conv units without a closing BN, a bare Add.
 *
 * The branches are built in the order of the Add's operands, so that the
 * forward pass, which fuses the Add into its second operand's last conv,
 * finds the first operand already computed; the creation ranks then say in
 * which order the reference code made them. */
static int block(struct builder *b, struct block_plan *p)
{
    const struct arch *a = b->a;
    char name[64], t[64];
    int timm = a->version == 2 && a->weight_names == WNAMES_TIMM;
    int x = p->in, preact = p->in;
    snprintf(p->prefix, sizeof p->prefix, "conv%d_block%d", p->stage + 2, p->idx + 1);
    if (a->version == 2 && !(a->skip_first_preact && p->stage == 0 && p->idx == 0)) {
        if ((preact = bn(b, nm(b, name, sizeof name, p->prefix, "preact_bn"),
                         block_tensor(a, t, sizeof t, p->stage, p->idx, timm ? "norm1" : "bn0"),
                         x)) < 0 ||
            (preact = add(b, LAYER_RELU, nm(b, name, sizeof name, p->prefix, "preact_relu"),
                          NULL, preact, -1)) < 0)
            return -1;
    }
    int from = b->n->n_layers, sc, res, mid;
    if (a->add_order == ADD_SHORTCUT_FIRST) {
        if ((sc = shortcut(b, p, x, preact)) < 0)
            return -1;
        mid = b->n->n_layers;
        if ((res = residual(b, p, preact)) < 0)
            return -1;
        if (a->created == CREATED_SHORTCUT_LAST)
            created_later(b, from, mid, b->n->n_layers);
    } else {
        if ((res = residual(b, p, preact)) < 0)
            return -1;
        mid = b->n->n_layers;
        if ((sc = shortcut(b, p, x, preact)) < 0)
            return -1;
        if (a->created == CREATED_SHORTCUT_FIRST)
            created_later(b, from, mid, b->n->n_layers);
    }
    int first = a->add_order == ADD_SHORTCUT_FIRST ? sc : res;
    int second = a->add_order == ADD_SHORTCUT_FIRST ? res : sc;
    if (a->version == 2)
        return add(b, LAYER_ADD, nm(b, name, sizeof name, p->prefix, "out"), NULL, first, second);
    if ((x = add(b, LAYER_ADD, nm(b, name, sizeof name, p->prefix, "add"), NULL, first,
                 second)) < 0)
        return -1;
    return add(b, LAYER_RELU, nm(b, name, sizeof name, p->prefix, "out"), NULL, x, -1);
}

/* The stride of block `idx` of stage `s`. */
static int block_stride(const struct arch *a, int s, int idx)
{
    if (a->stride_at == STRIDE_LAST)
        return s < a->n_stages - 1 && idx == a->stages[s] - 1 ? 2 : 1;
    return s > 0 && idx == 0 ? 2 : 1;
}

static int stages(struct builder *b, int x)
{
    const struct arch *a = b->a;
    for (int s = 0; s < a->n_stages; s++)
        for (int j = 0; j < a->stages[s]; j++) {
            struct block_plan p = {.stage = s, .idx = j, .in = x, .width = a->widths[s],
                                   .out_c = arch_out_width(a, s),
                                   .stride = block_stride(a, s, j)};
            int in_c = b->n->layer[x].out_c;
            /* A projection where the channels change, or where the stride
             * does in the first block; Keras v2's strided last block keeps
             * its identity, subsampled by a 1x1 max pool. */
            if (in_c != p.out_c || (p.stride > 1 && a->stride_at != STRIDE_LAST))
                p.sc = SC_PROJECT;
            else
                p.sc = p.stride > 1 ? SC_POOL : SC_IDENTITY;
            if ((x = block(b, &p)) < 0)
                return -1;
        }
    return x;
}

/* ---- stem and head ---- */

/* A layer given as a spec object, reading x; `tensor` is its prefix in the
 * safetensors schemes (the caller's "stem.<i>", "head.<i>" or "fc"). */
static int layer_object(struct builder *b, const struct arch_layer *o, int x, const char *name,
                        const char *tensor)
{
    const struct arch *a = b->a;
    char pad_name[80] = "";
    int bias = o->bias >= 0 ? o->bias : a->bias != BIAS_NONE;
    switch (o->kind) {
    case AL_ZEROPAD: return zeropad(b, name, x, o->pad);
    case AL_CONV:
        if (name[0])
            snprintf(pad_name, sizeof pad_name, "%s_pad", name);
        return conv(b, name, pad_name, tensor, x, o->units, o->k, o->stride, o->padding, o->pad,
                    bias);
    case AL_BN: return bn(b, name, tensor, x);
    case AL_RELU: return add(b, LAYER_RELU, name, NULL, x, -1);
    case AL_MAXPOOL: return pool(b, LAYER_MAXPOOL, name, x, o->k, o->stride, o->padding, o->pad);
    case AL_AVGPOOL: return pool(b, LAYER_AVGPOOL, name, x, o->k, o->stride, o->padding, 0);
    case AL_GAP: return flatten(b, LAYER_GAP, name, x);
    case AL_FLATTEN: return flatten(b, LAYER_FLATTEN, name, x);
    case AL_DENSE:
        return dense(b, name, tensor, x, o->units ? o->units : a->classes, bias, o->act);
    case AL_DROPOUT: return add(b, LAYER_DROPOUT, name, NULL, x, -1);
    }
    return err_set(b->e, "net: unknown layer object kind %d", (int)o->kind);
}

static int stem(struct builder *b, int x)
{
    const struct arch *a = b->a;
    char name[64], pad_name[64], t[32];
    if (a->stem == STEM_LAYERS) {
        for (int i = 0; i < a->n_stem_layers; i++) {
            snprintf(t, sizeof t, "stem.%d", i);
            if ((x = layer_object(b, &a->stem_layers[i], x, a->stem_layers[i].name, t)) < 0)
                return -1;
        }
        return x;
    }
    int timm = a->version == 2 && a->weight_names == WNAMES_TIMM;
    int imagenet = a->stem == STEM_IMAGENET;
    enum window_pad how = imagenet || a->padding == PAD_EXPLICIT ? WPAD_TORCH : WPAD_SAME;
    if ((x = conv(b, nm(b, name, sizeof name, "conv1", "conv"),
                  nm(b, pad_name, sizeof pad_name, "conv1", "pad"), timm ? "stem.conv" : "conv1",
                  x, a->stem_width, imagenet ? 7 : 3, imagenet ? 2 : 1, how, imagenet ? 3 : 1,
                  a->bias != BIAS_NONE)) < 0)
        return -1;
    /* v2 leaves the BN-ReLU to the first block's preact */
    if (a->version == 1 &&
        ((x = bn(b, nm(b, name, sizeof name, "conv1", "bn"), "bn1", x)) < 0 ||
         (x = add(b, LAYER_RELU, nm(b, name, sizeof name, "conv1", "relu"), NULL, x, -1)) < 0))
        return -1;
    if (!imagenet)
        return x;
    /* The 3x3/2 max pool.  After v1's ReLU zeros and -inf padding give the
     * same max; before v2's first BN they do not. */
    nm(b, name, sizeof name, "pool1", "pool");
    switch (a->pool_padding) {
    case POOL_ZERO:
        if ((x = zeropad(b, nm(b, pad_name, sizeof pad_name, "pool1", "pad"), x, 1)) < 0)
            return -1;
        return pool(b, LAYER_MAXPOOL, name, x, 3, 2, WPAD_VALID, 0);
    case POOL_MIN: return pool(b, LAYER_MAXPOOL, name, x, 3, 2, WPAD_TORCH, 1);
    case POOL_SAME: return pool(b, LAYER_MAXPOOL, name, x, 3, 2, WPAD_SAME, 0);
    }
    return -1;
}

static int head(struct builder *b, int x)
{
    const struct arch *a = b->a;
    int timm = a->version == 2 && a->weight_names == WNAMES_TIMM;
    const char *fc = timm ? "head.fc" : "fc";
    int apps = a->names == NAMES_APPLICATIONS;
    if (a->version == 2 &&
        ((x = bn(b, apps ? "post_bn" : "", timm ? "norm" : "bn_post", x)) < 0 ||
         (x = add(b, LAYER_RELU, apps ? "post_relu" : "", NULL, x, -1)) < 0))
        return -1;
    if (!a->n_head) {
        if ((x = flatten(b, LAYER_GAP, apps ? "avg_pool" : "", x)) < 0)
            return -1;
        return dense(b, apps ? "predictions" : "", fc, x, a->classes, 1, ACT_SOFTMAX);
    }
    for (int i = 0; i < a->n_head; i++) {
        const struct arch_layer *o = &a->head[i];
        const char *name = o->name;
        char t[32];
        int last = i == a->n_head - 1;
        /* Keras Applications' names for the two layers it has */
        if (!name[0] && apps && o->kind == AL_GAP)
            name = "avg_pool";
        if (!name[0] && apps && last)
            name = "predictions";
        snprintf(t, sizeof t, "head.%d", i);
        if ((x = layer_object(b, o, x, name, last ? fc : t)) < 0)
            return -1;
    }
    return x;
}

int net_build(const struct arch *a, struct net *n, struct err *e)
{
    memset(n, 0, sizeof *n);
    n->arch = *a;
    struct builder b = {n, &n->arch, 0, e};

    int x = add(&b, LAYER_INPUT, "input_1", NULL, -1, -1);
    if (x < 0)
        goto fail;
    n->layer[x].out_h = a->in_h, n->layer[x].out_w = a->in_w, n->layer[x].out_c = a->in_c;
    if ((x = stem(&b, x)) < 0 || (x = stages(&b, x)) < 0 || head(&b, x) < 0 ||
        auto_names(&b) < 0)
        goto fail;
    /* Keras files map by order; their layers' names serve the messages. */
    for (int i = 0; a->weight_names == WNAMES_KERAS && i < n->n_layers; i++)
        if (n->layer[i].tensor[0])
            snprintf(n->layer[i].tensor, sizeof n->layer[i].tensor, "%s", n->layer[i].name);
    for (int i = 0; i < n->n_layers; i++) {
        n->params += n->layer[i].params;
        n->frozen += n->layer[i].frozen;
        n->macs += n->layer[i].macs;
    }
    return 0;
fail:
    net_free(n);
    return -1;
}

/* ---- Keras's layer order ---- */

struct rank {
    long key;     /* deeper first, then earlier in the walk */
    int layer;
};

static int by_key(const void *a, const void *b)
{
    long x = ((const struct rank *)a)->key, y = ((const struct rank *)b)->key;
    return (x > y) - (x < y);
}

/* Depth-first from the output, each layer's inputs in order, numbering
 * layers when first reached (_build_map in keras/engine/functional.py).
 * An explicit stack: a deep net would recurse thousands of levels. */
static int walk(const struct net *n, int *reached)
{
    int *stack = malloc(((size_t)n->n_layers * 2 + 1) * sizeof *stack);
    if (!stack)
        return -1;
    int top = 0, next = 0;
    stack[top++] = n->n_layers - 1;
    while (top) {
        int i = stack[--top];
        if (reached[i] >= 0)
            continue;
        reached[i] = next++;
        /* pushed last-first, so in[0] is walked first */
        for (int j = n->layer[i].n_in - 1; j >= 0; j--)
            if (reached[n->layer[i].in[j]] < 0)
                stack[top++] = n->layer[i].in[j];
    }
    free(stack);
    return next;
}

int *net_keras_order(const struct net *n)
{
    int L = n->n_layers;
    int *depth = calloc((size_t)L + 1, sizeof *depth);
    int *reached = malloc(((size_t)L + 1) * sizeof *reached);
    struct rank *r = malloc(((size_t)L + 1) * sizeof *r);
    int *order = malloc(((size_t)L + 1) * sizeof *order);
    int next;
    if (!depth || !reached || !r || !order)
        goto oom;
    /* Layers come in topological order, so walking back from the end sees
     * every consumer of a layer before the layer itself. */
    int max_depth = 0;
    for (int i = L - 1; i >= 0; i--) {
        for (int j = 0; j < n->layer[i].n_in; j++) {
            int p = n->layer[i].in[j];
            if (depth[p] < depth[i] + 1)
                depth[p] = depth[i] + 1;
        }
        if (depth[i] > max_depth)
            max_depth = depth[i];
    }
    for (int i = 0; i < L; i++)
        reached[i] = -1;
    if (L && (next = walk(n, reached)) < 0)
        goto oom;
    for (int i = 0; i < L; i++) {
        if (reached[i] < 0)             /* not on a path to the output */
            reached[i] = next++;
        r[i].key = (long)(max_depth - depth[i]) * L + reached[i];
        r[i].layer = i;
    }
    qsort(r, (size_t)L, sizeof *r, by_key);
    for (int i = 0; i < L; i++)
        order[i] = r[i].layer;
    free(depth), free(reached), free(r);
    return order;
oom:
    free(depth), free(reached), free(r), free(order);
    return NULL;
}

/* ---- weights ---- */

long net_weight_count(const struct layer *l)
{
    switch (l->kind) {
    case LAYER_CONV: return (long)l->out_c * l->in_c * l->k * l->k;
    case LAYER_DENSE: return (long)l->out_c * l->in_c;
    case LAYER_BN: return l->out_c;
    default: return 0;
    }
}

long net_bias_count(const struct layer *l)
{
    switch (l->kind) {
    case LAYER_CONV:
    case LAYER_DENSE: return l->bias ? l->out_c : 0;
    case LAYER_BN: return l->out_c;
    default: return 0;
    }
}

int net_alloc_weights(struct net *n, struct err *e)
{
    size_t total = 0;
    for (int i = 0; i < n->n_layers; i++) {
        const struct layer *l = &n->layer[i];
        total += net_weight_count(l) + net_bias_count(l);
        if (l->kind == LAYER_BN)
            total += 2 * (size_t)l->out_c;
    }
    /* Mapped, not malloc'd, so net_release can hand pages back whatever
     * the allocator would have done with a block this size. */
    if (n->store)
        munmap(n->store, n->store_bytes);
    n->store_bytes = (total ? total : 1) * sizeof(float);
    n->store = mmap(NULL, n->store_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                    -1, 0);
    if (n->store == MAP_FAILED) {
        n->store = NULL;
        return err_set(e, "net: out of memory for %zu weights", total);
    }
    madvise(n->store, n->store_bytes, MADV_HUGEPAGE);   /* fewer page faults while loading */
    float *p = n->store;
    for (int i = 0; i < n->n_layers; i++) {
        struct layer *l = &n->layer[i];
        long w = net_weight_count(l), bc = net_bias_count(l);
        l->w = w ? p : NULL, p += w;
        l->b = bc ? p : NULL, p += bc;
        if (l->kind == LAYER_BN) {
            l->mean = p, p += l->out_c;
            l->var = p, p += l->out_c;
        }
    }
    return 0;
}

void net_release(const void *p, size_t bytes)
{
    /* A peak of the weights in two forms at once (file and floats, floats
     * and packed) would cost a resnet50 another 100 MB: drop each tensor's
     * pages as soon as they are consumed. */
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = ((uintptr_t)p + page - 1) & ~(page - 1);
    uintptr_t hi = ((uintptr_t)p + bytes) & ~(page - 1);
    if (p && hi > lo)
        madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

void net_free(struct net *n)
{
    free(n->layer);
    if (n->store)
        munmap(n->store, n->store_bytes);
    n->layer = NULL;
    n->store = NULL;
    n->n_layers = 0;
}
