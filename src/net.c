/* net.c -- struct arch -> the layer list, with shapes, parameter and
 * multiply-add counts.
 *
 * The list is what Keras would build for the same network, so `summary`
 * prints it directly: torchvision's convolutions pad symmetrically, which
 * Keras writes as ZeroPadding2D followed by a 'valid' Conv2D.  Each layer
 * that holds weights also records its torchvision state_dict prefix, which
 * is all the weight loader needs to find its tensors. */
#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct builder {
    struct net *n;
    int cap;
    struct err *e;
};

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
    snprintf(l->name, sizeof l->name, "%s", name);
    snprintf(l->tensor, sizeof l->tensor, "%s", tensor ? tensor : "");
    l->in[0] = in0;
    l->in[1] = in1;
    l->n_in = in0 < 0 ? 0 : in1 < 0 ? 1 : 2;
    if (l->n_in) {
        const struct layer *p = &n->layer[in0];
        l->in_h = p->out_h, l->in_w = p->out_w, l->in_c = p->out_c;
        l->out_h = p->out_h, l->out_w = p->out_w, l->out_c = p->out_c;
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

/* Output size of a 'valid' window: floor((in - k) / stride) + 1. */
static int valid_out(int in, int k, int stride)
{
    return in < k ? 0 : (in - k) / stride + 1;
}

static int conv(struct builder *b, const char *name, const char *tensor, int in,
                int filters, int k, int stride)
{
    int i = add(b, LAYER_CONV, name, tensor, in, -1);
    if (i < 0)
        return -1;
    struct layer *l = &b->n->layer[i];
    l->k = k, l->stride = stride, l->out_c = filters;
    l->out_h = valid_out(l->in_h, k, stride);
    l->out_w = valid_out(l->in_w, k, stride);
    if (l->out_h < 1 || l->out_w < 1)
        return err_set(b->e, "net: layer %s: input %dx%d is smaller than its %dx%d kernel "
                       "-- the spec's input is too small for this depth",
                       name, l->in_h, l->in_w, k, k);
    l->params = (long)filters * l->in_c * k * k;
    l->macs = (double)l->params * l->out_h * l->out_w;
    return i;
}

static int bn(struct builder *b, const char *name, const char *tensor, int in)
{
    int i = add(b, LAYER_BN, name, tensor, in, -1);
    if (i < 0)
        return -1;
    struct layer *l = &b->n->layer[i];
    l->eps = 1e-5f;              /* torchvision's BatchNorm2d default */
    l->params = 2L * l->out_c;   /* gamma, beta */
    l->frozen = 2L * l->out_c;   /* moving mean, moving variance */
    return i;
}

/* "<prefix>_<unit>_<what>", or "<prefix>_<what>" for the stem's empty unit
 * (Keras names it conv1_pad, conv1_conv, conv1_bn). */
static void unit_name(char *out, size_t len, const char *prefix, const char *unit,
                      const char *what)
{
    if (unit[0])
        snprintf(out, len, "%s_%s_%s", prefix, unit, what);
    else
        snprintf(out, len, "%s_%s", prefix, what);
}

/* pad (if any) + conv + BN, the unit every ResNet is made of; returns the BN. */
static int conv_bn(struct builder *b, const char *prefix, const char *unit,
                   const char *tconv, const char *tbn, int in, int filters, int k,
                   int stride, int pad)
{
    char name[64];
    if (pad) {
        unit_name(name, sizeof name, prefix, unit, "pad");
        if ((in = zeropad(b, name, in, pad)) < 0)
            return -1;
    }
    unit_name(name, sizeof name, prefix, unit, "conv");
    if ((in = conv(b, name, tconv, in, filters, k, stride)) < 0)
        return -1;
    unit_name(name, sizeof name, prefix, unit, "bn");
    return bn(b, name, tbn, in);
}

static int relu(struct builder *b, const char *prefix, const char *unit, int in)
{
    char name[64];
    snprintf(name, sizeof name, "%s_%s", prefix, unit);
    return add(b, LAYER_RELU, name, NULL, in, -1);
}

/* One residual block, torchvision layout: the stride sits on the first 3x3
 * conv (basic) or on the 3x3 conv (bottleneck, "ResNet v1.5"); a projection
 * (1x1 conv + BN) whenever the shape changes.  Keras's functional ordering
 * lists the projection beside the block's last conv, so we build it there. */
static int block(struct builder *b, const struct arch *a, int stage, int idx,
                 int in, int width, int stride)
{
    char prefix[32], t[8][64];
    snprintf(prefix, sizeof prefix, "conv%d_block%d", stage + 2, idx + 1);
    const char *tv = "layer%d.%d.%s";
    const char *parts[] = {"conv1", "bn1", "conv2", "bn2", "conv3", "bn3",
                           "downsample.0", "downsample.1"};
    for (int i = 0; i < 8; i++)
        snprintf(t[i], sizeof t[i], tv, stage + 1, idx, parts[i]);

    int out_c = a->block == BLOCK_BOTTLENECK ? 4 * width : width;
    int project = stride != 1 || b->n->layer[in].out_c != out_c;
    int x, shortcut = in;
    if (a->block == BLOCK_BASIC) {
        x = conv_bn(b, prefix, "1", t[0], t[1], in, width, 3, stride, 1);
        if (x < 0 || (x = relu(b, prefix, "1_relu", x)) < 0)
            return -1;
        if (project) {
            /* ZeroPadding2D and the second conv come first in Keras's order
             * (deeper from the output), then the projection beside conv 2. */
            char name[64];
            snprintf(name, sizeof name, "%s_2_pad", prefix);
            if ((x = zeropad(b, name, x, 1)) < 0)
                return -1;
            snprintf(name, sizeof name, "%s_0_conv", prefix);
            if ((shortcut = conv(b, name, t[6], in, out_c, 1, stride)) < 0)
                return -1;
            snprintf(name, sizeof name, "%s_2_conv", prefix);
            if ((x = conv(b, name, t[2], x, width, 3, 1)) < 0)
                return -1;
            snprintf(name, sizeof name, "%s_0_bn", prefix);
            if ((shortcut = bn(b, name, t[7], shortcut)) < 0)
                return -1;
            snprintf(name, sizeof name, "%s_2_bn", prefix);
            if ((x = bn(b, name, t[3], x)) < 0)
                return -1;
        } else if ((x = conv_bn(b, prefix, "2", t[2], t[3], x, width, 3, 1, 1)) < 0) {
            return -1;
        }
    } else {
        x = conv_bn(b, prefix, "1", t[0], t[1], in, width, 1, 1, 0);
        if (x < 0 || (x = relu(b, prefix, "1_relu", x)) < 0)
            return -1;
        x = conv_bn(b, prefix, "2", t[2], t[3], x, width, 3, stride, 1);
        if (x < 0 || (x = relu(b, prefix, "2_relu", x)) < 0)
            return -1;
        char name[64];
        if (project) {
            snprintf(name, sizeof name, "%s_0_conv", prefix);
            if ((shortcut = conv(b, name, t[6], in, out_c, 1, stride)) < 0)
                return -1;
        }
        snprintf(name, sizeof name, "%s_3_conv", prefix);
        if ((x = conv(b, name, t[4], x, out_c, 1, 1)) < 0)
            return -1;
        if (project) {
            snprintf(name, sizeof name, "%s_0_bn", prefix);
            if ((shortcut = bn(b, name, t[7], shortcut)) < 0)
                return -1;
        }
        snprintf(name, sizeof name, "%s_3_bn", prefix);
        if ((x = bn(b, name, t[5], x)) < 0)
            return -1;
    }
    char name[64];
    snprintf(name, sizeof name, "%s_add", prefix);
    if ((x = add(b, LAYER_ADD, name, NULL, shortcut, x)) < 0)
        return -1;
    return relu(b, prefix, "out", x);
}

int net_build(const struct arch *a, struct net *n, struct err *e)
{
    memset(n, 0, sizeof *n);
    n->arch = *a;
    struct builder b = {n, 0, e};

    int x = add(&b, LAYER_INPUT, "input_1", NULL, -1, -1);
    if (x < 0)
        goto fail;
    n->layer[x].out_h = a->in_h, n->layer[x].out_w = a->in_w, n->layer[x].out_c = a->in_c;

    if (a->stem == STEM_IMAGENET) {
        /* 7x7/2 conv, BN, ReLU, 3x3/2 max pool; torchvision pads the pool
         * with -inf, Keras with zeros: after a ReLU both give the same max. */
        if ((x = conv_bn(&b, "conv1", "", "conv1", "bn1", x, a->stem_width, 7, 2, 3)) < 0 ||
            (x = relu(&b, "conv1", "relu", x)) < 0 ||
            (x = zeropad(&b, "pool1_pad", x, 1)) < 0 ||
            (x = add(&b, LAYER_MAXPOOL, "pool1_pool", NULL, x, -1)) < 0)
            goto fail;
        struct layer *p = &n->layer[x];
        p->k = 3, p->stride = 2;
        p->out_h = valid_out(p->in_h, 3, 2);
        p->out_w = valid_out(p->in_w, 3, 2);
        if (p->out_h < 1 || p->out_w < 1) {
            err_set(e, "net: the input %dx%d is too small for the imagenet stem",
                    a->in_h, a->in_w);
            goto fail;
        }
    } else {
        if ((x = conv_bn(&b, "conv1", "", "conv1", "bn1", x, a->stem_width, 3, 1, 1)) < 0 ||
            (x = relu(&b, "conv1", "relu", x)) < 0)
            goto fail;
    }
    for (int s = 0; s < a->n_stages; s++)
        for (int j = 0; j < a->stages[s]; j++)
            if ((x = block(&b, a, s, j, x, a->widths[s], s > 0 && j == 0 ? 2 : 1)) < 0)
                goto fail;

    if ((x = add(&b, LAYER_GAP, "avg_pool", NULL, x, -1)) < 0)
        goto fail;
    n->layer[x].out_h = n->layer[x].out_w = 1;
    if ((x = add(&b, LAYER_DENSE, "predictions", "fc", x, -1)) < 0)
        goto fail;
    struct layer *fc = &n->layer[x];
    fc->out_c = a->classes;
    fc->bias = 1;
    fc->softmax = 1;
    fc->params = (long)fc->in_c * fc->out_c + fc->out_c;
    fc->macs = (double)fc->in_c * fc->out_c;

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
    free(n->store);
    n->store = calloc(total ? total : 1, sizeof(float));
    if (!n->store)
        return err_set(e, "net: out of memory for %zu weights", total);
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

void net_free(struct net *n)
{
    free(n->layer);
    free(n->store);
    n->layer = NULL;
    n->store = NULL;
    n->n_layers = 0;
}
