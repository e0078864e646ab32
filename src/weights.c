/* weights.c -- weight files onto the layers of a net.
 *
 * The format is told by content: an HDF5 signature is a Keras file, the
 * rest must be safetensors.
 *
 * safetensors, by name.  Each layer with weights expects the tensors of a
 * PyTorch state_dict (torchvision's or timm's names, net.c chose them)
 * under its `tensor` prefix:
 *   CONV : <p>.weight [out_c, in_c, k, k] (OIHW, the net's own layout),
 *          <p>.bias [out_c] when the layer has one
 *   BN   : <p>.weight (gamma), <p>.bias (beta), <p>.running_mean,
 *          <p>.running_var, all [c]; <p>.num_batches_tracked is ignored
 *   DENSE: <p>.weight [out_c, in_c] -- or [out_c, in_c, 1, 1], timm's
 *          classifier being a 1x1 conv -- and <p>.bias [out_c]
 *
 * Keras HDF5, by order, as Keras's load_weights does: the k-th layer with
 * weights in the file goes to the k-th in Keras's order of the net
 * (net_keras_order), its weights in the order the file lists them:
 *   Conv2D             kernel [k, k, in_c, out_c] (HWIO), bias [out_c]
 *   BatchNormalization gamma, beta, moving_mean, moving_variance [c]
 *   Dense              kernel [in_c, out_c], bias [out_c]
 * Kernels are transposed into the net's OIHW and [out][in].  Layer names
 * are not matched (the classifier is `probs` in some files, `predictions`
 * in others); they only name things in messages.
 *
 * Either way the whole file is checked (every expected tensor present
 * with the right shape, no tensor left over) before anything is allocated,
 * so a failed load leaves the net as it was. */
#include "weights.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5.h"
#include "safetensors.h"

/* Longest prefix (63) + ".running_mean" + NUL. */
#define NAME_LEN 96

/* One tensor a layer expects. */
struct expect {
    char name[NAME_LEN];
    int ndim;
    int also_1x1;    /* [a, b] may come as [a, b, 1, 1] */
    int64_t shape[4];
    long count;      /* elements: the product of shape */
    float *dst;      /* [room] inside the net's store; NULL before allocation */
    long room;       /* floats the net sized that array for */
};

static void expect(struct expect *x, const struct layer *l, const char *suffix, float *dst,
                   long room, int ndim, const int64_t *shape)
{
    snprintf(x->name, sizeof x->name, "%s.%s", l->tensor, suffix);
    x->ndim = ndim;
    x->also_1x1 = 0;
    x->count = 1;
    for (int d = 0; d < ndim; d++) {
        x->shape[d] = shape[d];
        x->count *= (long)shape[d];
    }
    x->dst = dst;
    x->room = room;
}

/* The tensors layer `l` expects, in a fixed order; returns how many (0 for
 * layers without weights). */
static int layer_expect(const struct layer *l, struct expect ex[4])
{
    long wc = net_weight_count(l), bc = net_bias_count(l);
    int64_t c = l->out_c;
    int n = 0;
    switch (l->kind) {
    case LAYER_CONV:
        expect(&ex[n++], l, "weight", l->w, wc, 4, (int64_t[]){c, l->in_c, l->k, l->k});
        if (l->bias)
            expect(&ex[n++], l, "bias", l->b, bc, 1, &c);
        break;
    case LAYER_BN:
        expect(&ex[n++], l, "weight", l->w, wc, 1, &c);
        expect(&ex[n++], l, "bias", l->b, bc, 1, &c);
        expect(&ex[n++], l, "running_mean", l->mean, c, 1, &c);
        expect(&ex[n++], l, "running_var", l->var, c, 1, &c);
        break;
    case LAYER_DENSE:
        expect(&ex[n++], l, "weight", l->w, wc, 2, (int64_t[]){c, l->in_c});
        ex[n - 1].also_1x1 = 1;
        if (l->bias)
            expect(&ex[n++], l, "bias", l->b, bc, 1, &c);
        break;
    default:
        break;
    }
    return n;
}

static const char *dtype_name(enum st_dtype d)
{
    static const char *const names[] = {"F32", "F16", "BF16", "F64", "I64", "I32",
                                        "I16", "I8",  "U8",   "BOOL", "other"};
    return d <= ST_OTHER ? names[d] : "other";
}

/* "[256, 256, 3, 3]" */
static const char *fmt_shape(char *buf, size_t len, int ndim, const int64_t *shape)
{
    size_t at = (size_t)snprintf(buf, len, "[");
    for (int d = 0; d < ndim && at < len; d++)
        at += (size_t)snprintf(buf + at, len - at, "%s%lld", d ? ", " : "",
                               (long long)shape[d]);
    if (at < len)
        snprintf(buf + at, len - at, "]");
    return buf;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* ---- dtype conversion (the data may sit at any alignment in the map) ---- */

static uint32_t load_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t load_le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static float bits_to_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* IEEE half: 1 sign, 5 exponent (bias 15), 10 mantissa bits.  Every half is
 * exactly a float, subnormals included. */
static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ff;
    if (exp == 0x1f)   /* inf, or nan with its payload kept */
        return bits_to_float(sign | 0x7f800000u | man << 13);
    if (exp == 0) {
        if (man == 0)
            return bits_to_float(sign);
        /* Subnormal: man x 2^-24.  Shift the leading 1 up to the implicit
         * bit, lowering the exponent once per shift. */
        int e = -14;
        while (!(man & 0x400)) {
            man <<= 1;
            e--;
        }
        man &= 0x3ff;
        return bits_to_float(sign | (uint32_t)(e + 127) << 23 | man << 13);
    }
    return bits_to_float(sign | (exp - 15 + 127) << 23 | man << 13);
}

/* bfloat16 is the top half of a float. */
static float bf16_to_float(uint16_t h)
{
    return bits_to_float((uint32_t)h << 16);
}

static void convert(const struct st_tensor *t, float *dst, long count)
{
    const unsigned char *p = t->data;
    switch (t->dtype) {
    case ST_F32:
        for (long i = 0; i < count; i++)
            dst[i] = bits_to_float(load_le32(p + 4 * i));
        break;
    case ST_F16:
        for (long i = 0; i < count; i++)
            dst[i] = half_to_float(load_le16(p + 2 * i));
        break;
    case ST_BF16:
        for (long i = 0; i < count; i++)
            dst[i] = bf16_to_float(load_le16(p + 2 * i));
        break;
    default:   /* ruled out by check_tensor */
        break;
    }
}

/* ---- matching ---- */

static int cmp_tensor(const void *a, const void *b)
{
    const struct st_tensor *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

/* The file's tensors sorted by name, so a lookup is a binary search. */
struct index {
    const struct st_tensor **by_name;   /* [n] */
    unsigned char *used;                /* [n], by position in f->tensor */
    const struct st_file *f;
};

static const struct st_tensor *index_find(const struct index *ix, const char *name)
{
    struct st_tensor key = {.name = (char *)name};
    const struct st_tensor *k = &key;
    const struct st_tensor **hit =
        bsearch(&k, ix->by_name, (size_t)ix->f->n, sizeof *ix->by_name, cmp_tensor);
    return hit ? *hit : NULL;
}

/* Is tensor `x` in the file, of a float dtype and of the expected shape? */
static int check_tensor(const struct index *ix, const struct expect *x, struct err *e)
{
    const char *path = ix->f->path;
    char want[128], have[128];
    fmt_shape(want, sizeof want, x->ndim, x->shape);
    const struct st_tensor *t = index_find(ix, x->name);
    if (!t)
        return err_set(e, "weights: %s: missing tensor %s (expected %s)", path, x->name, want);
    ix->used[t - ix->f->tensor] = 1;
    if (t->dtype != ST_F32 && t->dtype != ST_F16 && t->dtype != ST_BF16)
        return err_set(e, "weights: %s: %s has dtype %s; weights must be F32, F16 or BF16",
                       path, x->name, dtype_name(t->dtype));
    int same = t->ndim == x->ndim ||
               (x->also_1x1 && t->ndim == 4 && t->shape[2] == 1 && t->shape[3] == 1);
    for (int d = 0; same && d < x->ndim; d++)
        same = t->shape[d] == x->shape[d];
    if (!same)
        return err_set(e, "weights: %s: %s has shape %s, the spec needs %s -- is the "
                       "spec's depth/width right?", path, x->name,
                       fmt_shape(have, sizeof have, t->ndim, t->shape), want);
    return 0;
}

/* Every expected tensor present and well-formed, then nothing left over. */
static int check_file(const struct net *n, struct index *ix, struct err *e)
{
    for (int i = 0; i < n->n_layers; i++) {
        const struct layer *l = &n->layer[i];
        struct expect ex[4];
        int m = layer_expect(l, ex);
        if (m && !l->tensor[0])
            return err_set(e, "weights: layer %s has weights but no tensor name", l->name);
        for (int j = 0; j < m; j++)
            if (check_tensor(ix, &ex[j], e) < 0)
                return -1;
    }
    /* Header order, so the first leftover reported is the file's first. */
    for (int i = 0; i < ix->f->n; i++) {
        const char *name = ix->f->tensor[i].name;
        if (!ix->used[i] && !ends_with(name, ".num_batches_tracked"))
            return err_set(e, "weights: %s: unexpected tensor %s -- the file has more "
                           "layers than the spec", ix->f->path, name);
    }
    return 0;
}

/* Convert every expected tensor into the (allocated) net. */
static int fill(struct net *n, const struct index *ix, struct err *e)
{
    for (int i = 0; i < n->n_layers; i++) {
        const struct layer *l = &n->layer[i];
        struct expect ex[4];
        int m = layer_expect(l, ex);
        for (int j = 0; j < m; j++) {
            /* net.c sizes the arrays itself; a disagreement would write past them. */
            if (!ex[j].dst || ex[j].room != ex[j].count)
                return err_set(e, "weights: layer %s: the net holds %ld floats for %s, "
                               "the tensor has %ld", l->name, ex[j].dst ? ex[j].room : 0,
                               ex[j].name, ex[j].count);
            const struct st_tensor *t = index_find(ix, ex[j].name);
            convert(t, ex[j].dst, ex[j].count);
            net_release(t->data, t->nbytes);   /* the mapped file's copy is done with */
        }
    }
    return 0;
}

static int load_safetensors(struct net *n, const char *path, struct err *e)
{
    struct st_file f;
    if (st_open(path, &f, e) < 0)
        return err_prefix(e, "weights: ");

    int rc = -1;
    struct index ix = {.f = &f};
    size_t cnt = f.n ? (size_t)f.n : 1;
    ix.by_name = malloc(cnt * sizeof *ix.by_name);
    ix.used = calloc(cnt, 1);
    if (!ix.by_name || !ix.used) {
        err_set(e, "weights: %s: out of memory", path);
        goto done;
    }
    for (int i = 0; i < f.n; i++)
        ix.by_name[i] = &f.tensor[i];
    qsort(ix.by_name, (size_t)f.n, sizeof *ix.by_name, cmp_tensor);

    if (check_file(n, &ix, e) < 0)
        goto done;
    if (net_alloc_weights(n, e) < 0)
        goto done;
    rc = fill(n, &ix, e);
done:
    free(ix.by_name);
    free(ix.used);
    st_close(&f);
    return rc;
}

/* ---- Keras HDF5, by order ---- */

/* What Keras stores for a layer: its weights' shapes in Keras's axis order
 * and, for each, where the floats go and whether to transpose. */
struct keras_expect {
    int n;
    const char *what[4];
    int ndim[4];
    int64_t shape[4][4];
};

static int keras_expect(const struct layer *l, struct keras_expect *k)
{
    int64_t c = l->out_c, in = l->in_c, kk = l->k;
    memset(k, 0, sizeof *k);
    switch (l->kind) {
    case LAYER_CONV:
        k->what[0] = "kernel", k->ndim[0] = 4;
        memcpy(k->shape[0], (int64_t[]){kk, kk, in, c}, sizeof k->shape[0]);
        k->n = 1;
        break;
    case LAYER_DENSE:
        k->what[0] = "kernel", k->ndim[0] = 2;
        memcpy(k->shape[0], (int64_t[]){in, c}, 2 * sizeof(int64_t));
        k->n = 1;
        break;
    case LAYER_BN: {
        static const char *const bn[4] = {"gamma", "beta", "moving_mean", "moving_variance"};
        for (int i = 0; i < 4; i++)
            k->what[i] = bn[i], k->ndim[i] = 1, k->shape[i][0] = c;
        return k->n = 4;
    }
    default:
        return 0;
    }
    if (l->bias) {
        k->what[1] = "bias", k->ndim[1] = 1, k->shape[1][0] = c;
        k->n = 2;
    }
    return k->n;
}

/* Check one file layer against one net layer; the message is the caller's
 * to prefix. */
static int keras_check(const struct h5_layer *fl, const struct layer *l, struct err *e)
{
    struct keras_expect k;
    char want[128], have[128];
    keras_expect(l, &k);
    if (fl->n_weights != k.n) {
        const char *hint = l->kind == LAYER_BN
                               ? "-- BatchNormalization without center/scale is not supported"
                           : fl->n_weights == k.n + 1 ? "-- the file's layer has a bias the spec's "
                                                        "does not: is the spec's \"bias\" right?"
                           : fl->n_weights + 1 == k.n ? "-- the spec's layer has a bias the file's "
                                                        "does not: is the spec's \"bias\" right?"
                                                      : "-- does the spec describe this network?";
        return err_set(e, "layer %s has %d weights, the spec's %s %s needs %d %s", fl->name,
                       fl->n_weights, net_class_name(l->kind), l->name, k.n, hint);
    }
    for (int j = 0; j < k.n; j++) {
        const struct h5_weight *w = &fl->w[j];
        int same = w->ndim == k.ndim[j];
        for (int d = 0; same && d < k.ndim[j]; d++)
            same = w->shape[d] == k.shape[j][d];
        if (!same)
            return err_set(e, "%s has shape %s, the spec's %s %s needs %s %s -- is the spec's "
                           "depth/width right?", w->name,
                           fmt_shape(have, sizeof have, w->ndim, w->shape), net_class_name(l->kind),
                           l->name, k.what[j], fmt_shape(want, sizeof want, k.ndim[j], k.shape[j]));
    }
    return 0;
}

/* Keras's layouts into the net's: HWIO -> OIHW, [in][out] -> [out][in]. */
static void keras_fill(const struct h5_layer *fl, struct layer *l)
{
    const float *src = fl->w[0].data;
    long per = net_weight_count(l) / l->out_c;   /* in_c x k x k, or in_c */
    switch (l->kind) {
    case LAYER_CONV:
        for (int o = 0; o < l->out_c; o++)
            for (int i = 0; i < l->in_c; i++)
                for (int y = 0; y < l->k; y++)
                    for (int x = 0; x < l->k; x++)
                        l->w[((long)o * l->in_c + i) * l->k * l->k + y * l->k + x] =
                            src[(((long)y * l->k + x) * l->in_c + i) * l->out_c + o];
        break;
    case LAYER_DENSE:
        for (int o = 0; o < l->out_c; o++)
            for (long i = 0; i < per; i++)
                l->w[o * per + i] = src[i * l->out_c + o];
        break;
    case LAYER_BN:
        memcpy(l->w, fl->w[0].data, (size_t)l->out_c * sizeof(float));
        memcpy(l->b, fl->w[1].data, (size_t)l->out_c * sizeof(float));
        memcpy(l->mean, fl->w[2].data, (size_t)l->out_c * sizeof(float));
        memcpy(l->var, fl->w[3].data, (size_t)l->out_c * sizeof(float));
        return;
    default:
        return;
    }
    if (l->bias)
        memcpy(l->b, fl->w[1].data, (size_t)l->out_c * sizeof(float));
}

static int load_keras(struct net *n, const char *path, struct err *e)
{
    struct h5_file f;
    if (h5_read(path, &f, e) < 0)
        return err_prefix(e, "weights: ");
    int rc = -1, n_net = 0, n_file = 0;
    int *order = net_keras_order(n);
    int *net_w = malloc(((size_t)n->n_layers + 1) * sizeof *net_w);   /* weighted, Keras order */
    int *file_w = malloc(((size_t)f.n_layers + 1) * sizeof *file_w); /* weighted, file order */
    if (!order || !net_w || !file_w) {
        err_set(e, "weights: %s: out of memory", path);
        goto done;
    }
    for (int i = 0; i < n->n_layers; i++) {
        struct keras_expect k;
        if (keras_expect(&n->layer[order[i]], &k))
            net_w[n_net++] = order[i];
    }
    for (int i = 0; i < f.n_layers; i++)
        if (f.layer[i].n_weights)
            file_w[n_file++] = i;
    /* Pair them up; where the counts differ, say so, and where the two
     * lists part. */
    for (int j = 0; j < n_net && j < n_file; j++)
        if (keras_check(&f.layer[file_w[j]], &n->layer[net_w[j]], e) < 0) {
            if (n_file != n_net)
                err_prefix(e, "weights: %s: the file has %d layers with weights, the spec's "
                           "network %d; they part here: ", path, n_file, n_net);
            else
                err_prefix(e, "weights: %s: ", path);
            goto done;
        }
    if (n_file != n_net) {
        err_set(e, "weights: %s: the file has %d layers with weights, the spec's network %d "
                "(first unmatched: %s) -- does the spec describe this network?", path, n_file,
                n_net, n_file > n_net ? f.layer[file_w[n_net]].name : n->layer[net_w[n_file]].name);
        goto done;
    }
    if (net_alloc_weights(n, e) < 0)
        goto done;
    for (int j = 0; j < n_net; j++)
        keras_fill(&f.layer[file_w[j]], &n->layer[net_w[j]]);
    rc = 0;
done:
    free(order);
    free(net_w);
    free(file_w);
    h5_free(&f);
    return rc;
}

/* HDF5's signature, at the start of a file without a user block (Keras
 * writes none). */
static const unsigned char HDF5_SIG[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

int weights_is_keras(const char *path)
{
    unsigned char head[8] = {0};
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(head, 1, sizeof head, f) : 0;
    if (f)
        fclose(f);
    return got == sizeof head && !memcmp(head, HDF5_SIG, sizeof head);
}

int weights_load(struct net *n, const char *path, struct err *e)
{
    return weights_is_keras(path) ? load_keras(n, path, e) : load_safetensors(n, path, e);
}

/* ---- random weights ---- */

/* xorshift64*, seeded through splitmix64 so that nearby seeds (0, 1, 2)
 * still start far apart and a zero seed is not a stuck state. */
struct rng {
    uint64_t s;
};

static void rng_seed(struct rng *r, unsigned seed)
{
    uint64_t z = (uint64_t)seed + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    r->s = z ? z : 1;
}

/* Uniform in [-1, 1). */
static float rng_uniform(struct rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    uint64_t x = r->s * 0x2545f4914f6cdd1dull;
    return (float)(x >> 40) * (2.0f / 16777216.0f) - 1.0f;
}

/* dst[i] = centre + spread * U[-1, 1) */
static void fill_uniform(struct rng *r, float *dst, long count, float centre, float spread)
{
    for (long i = 0; i < count; i++)
        dst[i] = centre + spread * rng_uniform(r);
}

int weights_random(struct net *n, unsigned seed, struct err *e)
{
    if (net_alloc_weights(n, e) < 0)
        return -1;
    struct rng r;
    rng_seed(&r, seed);
    for (int i = 0; i < n->n_layers; i++) {
        struct layer *l = &n->layer[i];
        long nw = net_weight_count(l), nb = net_bias_count(l);
        switch (l->kind) {
        case LAYER_CONV:
        case LAYER_DENSE: {
            /* Standard deviation 1/sqrt(fan_in) (U[-a, a] has variance a^2/3):
             * the BN statistics are random too, so nothing renormalises the
             * activations, and He's factor 2 would double the residual sum's
             * variance at every block of a 150-layer net. */
            long fan_in = (long)l->in_c * (l->kind == LAYER_CONV ? l->k * l->k : 1);
            float a = sqrtf(3.0f / (float)(fan_in > 0 ? fan_in : 1));
            if (l->w)
                fill_uniform(&r, l->w, nw, 0.0f, a);
            if (l->b)
                fill_uniform(&r, l->b, nb, 0.0f, 0.05f);
            break;
        }
        case LAYER_BN:
            if (l->w)
                fill_uniform(&r, l->w, l->out_c, 1.0f, 0.2f);    /* gamma */
            if (l->b)
                fill_uniform(&r, l->b, l->out_c, 0.0f, 0.05f);   /* beta */
            if (l->mean)
                fill_uniform(&r, l->mean, l->out_c, 0.0f, 0.05f);
            if (l->var)   /* strictly positive: BN divides by sqrt(var + eps) */
                fill_uniform(&r, l->var, l->out_c, 1.0f, 0.25f);
            break;
        case LAYER_ADD:
            /* A BN that feeds an Add ends a residual branch (or a projection).
             * A small gamma there keeps each block near the identity, as in
             * trained nets; with gamma ~1 the sum's variance grows by a
             * constant factor per block and a 50-block net saturates. */
            for (int j = 0; j < l->n_in; j++) {
                const struct layer *p = &n->layer[l->in[j]];
                for (int c = 0; p->kind == LAYER_BN && p->w && c < p->out_c; c++)
                    p->w[c] *= 0.25f;
            }
            break;
        default:
            break;
        }
    }
    return 0;
}
