/* test_weights.c -- the safetensors reader and the loaders: torchvision
 * and timm names, Keras HDF5 files by order.
 *
 * The test writes its own .safetensors files into a temporary directory:
 * well-formed ones (whose values must land in the right layer arrays, with
 * F16/BF16 converted exactly) and broken ones (every malformed header must
 * give -1 and an error naming the file and tensor, never a crash).  The
 * Keras and timm loaders read the files of tests/fixtures/keras/ (made by
 * tests/gen_keras_reference.py), against an independent reading of them. */
#include "check.h"
#include "h5.h"
#include "net.h"
#include "safetensors.h"
#include "spec.h"
#include "cache.h"
#include "weights.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[64];
static char written[128][128];   /* files to remove at the end */
static int n_written;

static const char *tmp_path(const char *name)
{
    static char paths[128][128];
    static int next;
    char *p = paths[next++ % 128];
    snprintf(p, 128, "%s/%s", tmpdir, name);
    return p;
}

static const char *write_bytes(const char *name, const void *bytes, size_t len)
{
    const char *path = tmp_path(name);
    FILE *fp = fopen(path, "wb");
    if (!fp || (len && fwrite(bytes, 1, len, fp) != len)) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
    fclose(fp);
    if (n_written < 128)
        snprintf(written[n_written++], 128, "%s", path);
    return path;
}

/* A file of header length `hlen` (as written in the first 8 bytes, which
 * need not be the truth), the header text, and `data_len` bytes of data. */
static const char *write_st_raw(const char *name, uint64_t hlen, const char *header,
                                size_t data_len)
{
    size_t tl = strlen(header);
    unsigned char *buf = calloc(8 + tl + data_len + 1, 1);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)(hlen >> (8 * i));
    memcpy(buf + 8, header, tl);
    for (size_t i = 0; i < data_len; i++)
        buf[8 + tl + i] = (unsigned char)(i * 7 + 1);
    const char *p = write_bytes(name, buf, 8 + tl + data_len);
    free(buf);
    return p;
}

static const char *write_st(const char *name, const char *header, size_t data_len)
{
    return write_st_raw(name, strlen(header), header, data_len);
}

/* ---- a small safetensors writer ---- */

struct tdesc {
    char name[96];
    const char *dtype;
    int ndim;
    int64_t shape[8];
    unsigned char *data;   /* malloc'd, little-endian */
    size_t nbytes;
    const char *alias;     /* NULL, or an earlier tensor whose bytes this one claims too */
};

/* Write tensors in the given order.  `odd` pads the header to an odd length
 * so that every tensor's data sits misaligned in the mapping.  A tensor with
 * an alias gets that tensor's data_offsets and adds no data of its own. */
static const char *write_tensors(const char *name, const struct tdesc *t, int n, int odd)
{
    size_t cap = 256 + (size_t)n * 256, at = 0, off = 0, total = 0, begin[128];
    char *h = malloc(cap);
    at += (size_t)snprintf(h + at, cap - at, "{\"__metadata__\":{\"format\":\"pt\"}");
    for (int i = 0; i < n && i < 128; i++) {
        at += (size_t)snprintf(h + at, cap - at, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[",
                               t[i].name, t[i].dtype);
        for (int d = 0; d < t[i].ndim; d++)
            at += (size_t)snprintf(h + at, cap - at, "%s%lld", d ? "," : "",
                                   (long long)t[i].shape[d]);
        begin[i] = off;
        for (int j = 0; t[i].alias && j < i; j++)
            if (!strcmp(t[j].name, t[i].alias))
                begin[i] = begin[j];
        at += (size_t)snprintf(h + at, cap - at, "],\"data_offsets\":[%zu,%zu]}", begin[i],
                               begin[i] + t[i].nbytes);
        if (!t[i].alias)
            off += t[i].nbytes;
    }
    at += (size_t)snprintf(h + at, cap - at, "}");
    /* Pad with spaces as real writers do, to an odd or a multiple-of-8 length. */
    while (odd ? at % 2 == 0 : at % 8 != 0)
        h[at++] = ' ';
    h[at] = 0;
    total = 8 + at + off;
    unsigned char *buf = malloc(total);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)((uint64_t)at >> (8 * i));
    memcpy(buf + 8, h, at);
    size_t pos = 8 + at;
    for (int i = 0; i < n; i++) {
        if (t[i].alias)
            continue;
        if (t[i].nbytes)
            memcpy(buf + pos, t[i].data, t[i].nbytes);
        pos += t[i].nbytes;
    }
    const char *p = write_bytes(name, buf, total);
    free(buf);
    free(h);
    return p;
}

static void put_f32(unsigned char *p, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(u >> (8 * i));
}

static void put_u16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* ---- the reader ---- */

static int has(const char *msg, const char *s)
{
    return strstr(msg, s) != NULL;
}

/* st_open must fail, leave a closable struct, and name the file and `what`. */
static void expect_bad(const char *label, const char *path, const char *what1,
                       const char *what2)
{
    struct st_file f;
    struct err e = {{0}};
    int rc = st_open(path, &f, &e);
    CHECK(rc == -1 && f.map == NULL && f.tensor == NULL && has(e.msg, path) &&
              (!what1 || has(e.msg, what1)) && (!what2 || has(e.msg, what2)),
          "%s is rejected: %s", label, e.msg);
    st_close(&f);
}

static void test_reader_good(void)
{
    struct tdesc t[3] = {
        {.name = "a.weight", .dtype = "F32", .ndim = 2, .shape = {2, 3}},
        {.name = "b", .dtype = "F16", .ndim = 1, .shape = {4}},
        {.name = "n.num_batches_tracked", .dtype = "I64", .ndim = 0},
    };
    t[0].nbytes = 24;
    t[1].nbytes = 8;
    t[2].nbytes = 8;
    for (int i = 0; i < 3; i++) {
        t[i].data = calloc(t[i].nbytes, 1);
        for (size_t j = 0; j < t[i].nbytes; j++)
            t[i].data[j] = (unsigned char)(16 * i + j);
    }
    const char *path = write_tensors("good.safetensors", t, 3, 1);
    struct st_file f;
    struct err e = {{0}};
    int rc = st_open(path, &f, &e);
    CHECK(rc == 0, "well-formed file opens (%s)", rc ? e.msg : "ok");
    if (rc == 0) {
        CHECK(f.n == 3, "3 tensors listed, __metadata__ skipped (n=%d)", f.n);
        CHECK(f.n == 3 && strcmp(f.tensor[0].name, "a.weight") == 0 &&
                  strcmp(f.tensor[1].name, "b") == 0 &&
                  strcmp(f.tensor[2].name, "n.num_batches_tracked") == 0,
              "tensors are in header order");
        const struct st_tensor *a = st_find(&f, "a.weight");
        CHECK(a && a->dtype == ST_F32 && a->ndim == 2 && a->shape[0] == 2 &&
                  a->shape[1] == 3 && a->nbytes == 24,
              "st_find gives dtype, shape and size of a.weight");
        const struct st_tensor *b = st_find(&f, "b");
        CHECK(b && b->dtype == ST_F16 && b->ndim == 1 && b->shape[0] == 4 && b->nbytes == 8,
              "F16 tensor b has shape [4] and 8 bytes");
        const struct st_tensor *s = st_find(&f, "n.num_batches_tracked");
        CHECK(s && s->dtype == ST_I64 && s->ndim == 0 && s->nbytes == 8,
              "I64 scalar with shape [] has 8 bytes");
        CHECK(a && b && s && memcmp(a->data, t[0].data, 24) == 0 &&
                  memcmp(b->data, t[1].data, 8) == 0 && memcmp(s->data, t[2].data, 8) == 0,
              "data pointers address each tensor's bytes");
        CHECK(a && (const unsigned char *)a->data == f.map + 8 + (f.size - 8 - 40),
              "data starts right after the (odd-length) header");
        CHECK(st_find(&f, "nope") == NULL && st_find(&f, "a") == NULL,
              "st_find of an absent name is NULL");
    }
    st_close(&f);
    CHECK(f.map == NULL && f.tensor == NULL && f.n == 0, "st_close clears the struct");
    st_close(&f);   /* twice is harmless */
    for (int i = 0; i < 3; i++)
        free(t[i].data);

    /* An empty header object is a valid file with no tensors. */
    path = write_st("empty_obj.safetensors", "{}      ", 0);
    rc = st_open(path, &f, &e);
    CHECK(rc == 0 && f.n == 0, "a header of {} opens with 0 tensors");
    st_close(&f);
}

static void test_reader_bad(void)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/adir", tmpdir);
    mkdir(dir, 0700);
    expect_bad("a directory", dir, "directory", NULL);
    rmdir(dir);
    expect_bad("a missing file", tmp_path("does_not_exist.safetensors"), "No such file", NULL);
    expect_bad("a zero-length file", write_bytes("zero.safetensors", "", 0), "too short", NULL);
    expect_bad("a 5-byte file", write_bytes("five.safetensors", "abcde", 5), "too short", NULL);
    expect_bad("a header length beyond the file",
               write_st_raw("hlen_big.safetensors", 500, "{}", 10), "larger than the file",
               NULL);
    expect_bad("an absurd header length",
               write_st_raw("hlen_absurd.safetensors", (uint64_t)1 << 40, "{}", 0), "absurd",
               NULL);
    expect_bad("a header length of 2^64-1",
               write_st_raw("hlen_max.safetensors", UINT64_MAX, "{}", 0), "absurd", NULL);
    expect_bad("a zero header length", write_st_raw("hlen_zero.safetensors", 0, "", 4),
               "not valid JSON", NULL);
    expect_bad("a header that is not JSON", write_st("notjson.safetensors", "{\"a\": [", 0),
               "not valid JSON", NULL);
    expect_bad("a header cut short (length 1 of \"{}\")",
               write_st_raw("cut.safetensors", 1, "{}", 0), "not valid JSON", NULL);
    expect_bad("a JSON array header", write_st("array.safetensors", "[1, 2]", 0),
               "not a JSON object", NULL);
    expect_bad("garbage after the header object",
               write_st("trailing.safetensors", "{} x", 0), "trailing", NULL);
    expect_bad("a tensor entry that is not an object",
               write_st("entry_num.safetensors", "{\"w\": 5}", 0), "tensor w", "not an object");
    expect_bad("a tensor without dtype",
               write_st("no_dtype.safetensors",
                        "{\"w\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", 4),
               "tensor w", "dtype");
    expect_bad("a tensor without shape",
               write_st("no_shape.safetensors",
                        "{\"w\": {\"dtype\": \"F32\", \"data_offsets\": [0, 4]}}", 4),
               "tensor w", "shape");
    expect_bad("a tensor without data_offsets",
               write_st("no_offsets.safetensors",
                        "{\"w\": {\"dtype\": \"F32\", \"shape\": [1]}}", 4),
               "tensor w", "data_offsets");
    expect_bad("a numeric dtype",
               write_st("dtype_num.safetensors",
                        "{\"w\": {\"dtype\": 3, \"shape\": [1], \"data_offsets\": [0, 4]}}", 4),
               "tensor w", "dtype");
    expect_bad("a shape that is not an array",
               write_st("shape_obj.safetensors",
                        "{\"w\": {\"dtype\": \"F32\", \"shape\": 1, \"data_offsets\": [0, 4]}}", 4),
               "tensor w", "shape");
    expect_bad("data_offsets with three entries",
               write_st("offs3.safetensors",
                        "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4, 8]}}",
                        8),
               "tensor w", "data_offsets");
    expect_bad("data_offsets of strings",
               write_st("offs_str.safetensors",
                        "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [\"0\", \"4\"]}}",
                        4),
               "tensor w", "data_offsets");
    expect_bad("a negative offset",
               write_st("offs_neg.safetensors",
                        "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [-4, 0]}}", 4),
               "tensor w", "data_offsets");
    expect_bad("a negative dimension",
               write_st("dim_neg.safetensors",
                        "{\"w\": {\"dtype\": \"F32\", \"shape\": [2, -1], \"data_offsets\": [0, 4]}}", 4),
               "tensor w", "shape[1]");
    expect_bad("a fractional dimension",
               write_st("dim_frac.safetensors",
                        "{\"w\": {\"dtype\": \"F32\", \"shape\": [2.5], \"data_offsets\": [0, 4]}}", 4),
               "tensor w", "shape[0]");
    expect_bad("a string dimension",
               write_st("dim_str.safetensors",
                        "{\"w\": {\"dtype\": \"F32\", \"shape\": [\"2\"], \"data_offsets\": [0, 8]}}", 8),
               "tensor w", "shape[0]");
    expect_bad("a dimension beyond 2^53",
               write_st("dim_huge.safetensors",
                        "{\"w\": {\"dtype\": \"F32\", \"shape\": [1e300], \"data_offsets\": [0, 4]}}", 4),
               "tensor w", "shape[0]");
    expect_bad("a shape product that overflows 64 bits",
               write_st("overflow.safetensors",
                        "{\"w\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296, 16], "
                        "\"data_offsets\": [0, 0]}}", 0),
               "tensor w", "overflow");
    expect_bad("a byte size that overflows 64 bits",
               write_st("overflow_bytes.safetensors",
                        "{\"w\": {\"dtype\": \"F64\", \"shape\": [2147483648, 2147483648], "
                        "\"data_offsets\": [0, 0]}}", 0),
               "tensor w", "overflow");
    expect_bad("nine dimensions",
               write_st("ndim9.safetensors",
                        "{\"w\": {\"dtype\": \"U8\", \"shape\": [1,1,1,1,1,1,1,1,1], "
                        "\"data_offsets\": [0, 1]}}", 1),
               "tensor w", "dimensions");
    expect_bad("an unknown dtype",
               write_st("dtype_q4.safetensors",
                        "{\"w\": {\"dtype\": \"Q4_K\", \"shape\": [2], \"data_offsets\": [0, 1]}}", 1),
               "tensor w", "Q4_K");
    expect_bad("begin after end",
               write_st("begin_end.safetensors",
                        "{\"ok\": {\"dtype\": \"U8\", \"shape\": [0], \"data_offsets\": [0, 0]}, "
                        "\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 4]}}", 8),
               "tensor w", "begin after end");
    expect_bad("an end beyond the data",
               write_st("end_beyond.safetensors",
                        "{\"w\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", 12),
               "tensor w", "beyond");
    expect_bad("an end beyond the data far past 4 GB",
               write_st("end_far.safetensors",
                        "{\"w\": {\"dtype\": \"U8\", \"shape\": [8], "
                        "\"data_offsets\": [8589934592, 8589934600]}}", 12),
               "tensor w", "beyond");
    expect_bad("a size that disagrees with dtype x shape",
               write_st("size_mismatch.safetensors",
                        "{\"w\": {\"dtype\": \"BF16\", \"shape\": [3, 2], \"data_offsets\": [0, 16]}}", 16),
               "tensor w", "need 12");
    expect_bad("a tensor named twice",
               write_st("dup.safetensors",
                        "{\"w\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1]}, "
                        "\"w\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [1, 2]}}", 2),
               "tensor w", "twice");
    expect_bad("a __metadata__ that is not an object",
               write_st("meta.safetensors", "{\"__metadata__\": [1]}", 0), "__metadata__", NULL);

    /* The tensors must tile the data exactly (the reference reader's rule). */
#define U8(name, n, b, e) "\"" name "\": {\"dtype\": \"U8\", \"shape\": [" #n "], " \
                          "\"data_offsets\": [" #b ", " #e "]}"
    expect_bad("two tensors that overlap",
               write_st("overlap.safetensors", "{" U8("a", 8, 0, 8) ", " U8("b", 8, 4, 12) "}", 12),
               "tensors a and b overlap", "[0, 8] and [4, 12]");
    expect_bad("two tensors that overlap, listed in the other order",
               write_st("overlap_rev.safetensors", "{" U8("b", 8, 4, 12) ", " U8("a", 8, 0, 8) "}", 12),
               "tensors a and b overlap", NULL);
    expect_bad("two tensors on the same bytes",
               write_st("alias.safetensors", "{" U8("x", 4, 0, 4) ", " U8("y", 4, 0, 4) "}", 4),
               "tensors x and y overlap", NULL);
    expect_bad("an empty tensor inside another",
               write_st("empty_inside.safetensors", "{" U8("big", 8, 0, 8) ", " U8("z", 0, 4, 4) "}", 8),
               "tensors big and z overlap", NULL);
    expect_bad("a gap between two tensors",
               write_st("gap.safetensors", "{" U8("a", 4, 0, 4) ", " U8("b", 4, 8, 12) "}", 12),
               "4 bytes at data offset 4 belong to no tensor", "between tensors a and b");
    expect_bad("a gap before the first tensor",
               write_st("gap_start.safetensors", "{" U8("w", 4, 4, 8) "}", 8),
               "4 bytes at data offset 0 belong to no tensor", "before the first tensor, w");
    expect_bad("bytes after the last tensor",
               write_st("gap_end.safetensors", "{" U8("w", 4, 0, 4) "}", 12),
               "8 bytes at data offset 4 belong to no tensor", "after the last tensor, w");
    expect_bad("data and no tensor",
               write_st("gap_only.safetensors", "{}", 4), "4 bytes at data offset 0", "lists none");
}

/* What the reference reader accepts, in any header order: tensors tiling
 * the data, empty ones anywhere on a boundary. */
static void test_reader_cover(void)
{
    struct st_file f;
    struct err e = {{0}};
    const char *path = write_st("cover.safetensors",
                                "{" U8("e2", 0, 8, 8) ", " U8("b", 4, 4, 8) ", " U8("e0", 0, 0, 0) ", "
                                U8("a", 4, 0, 4) ", " U8("e1", 0, 4, 4) "}", 8);
    int rc = st_open(path, &f, &e);
    CHECK(rc == 0 && f.n == 5 && st_find(&f, "b") && st_find(&f, "b")->data == f.map + f.size - 4,
          "tensors out of header order, empty ones at the start, between and at the end: open (%s)",
          rc ? e.msg : "ok");
    st_close(&f);
#undef U8
}

/* ---- the loader, on a tiny net ---- */

/* ResNet v1, basic blocks, stages [1, 1], widths [4, 8], CIFAR stem,
 * 10 classes, 8x8x3 input: conv1, bn1, layer1.0, layer2.0 (with a
 * downsample), fc. */
static int tiny_net(struct net *n)
{
    struct arch a;
    memset(&a, 0, sizeof a);
    snprintf(a.name, sizeof a.name, "tiny");
    a.version = 1;
    a.block = BLOCK_BASIC;
    a.n_stages = 2;
    a.stages[0] = a.stages[1] = 1;
    a.widths[0] = 4;
    a.widths[1] = 8;
    a.stem = STEM_CIFAR;
    a.stem_width = 4;
    a.classes = 10;
    a.in_h = a.in_w = 8;
    a.in_c = 3;
    a.pre.resize = 8;
    for (int c = 0; c < 3; c++) {
        a.pre.mean[c] = 0.5f;
        a.pre.std[c] = 0.25f;
    }
    struct err e = {{0}};
    memset(n, 0, sizeof *n);
    if (net_build(&a, n, &e) < 0) {
        CHECK(0, "net_build of the tiny net: %s", e.msg);
        return -1;
    }
    return 0;
}

/* What a torchvision state_dict of the net holds, in layer order, with
 * each element's value a function of its position: `slot` is where the
 * converted floats must land. */
struct want {
    struct tdesc t[64];
    float *slot[64];   /* the layer array the tensor fills (after loading) */
    int n;
};

static void add_tensor(struct want *w, const char *prefix, const char *suffix, int ndim,
                       const int64_t *shape)
{
    struct tdesc *t = &w->t[w->n++];
    snprintf(t->name, sizeof t->name, "%s.%s", prefix, suffix);
    t->dtype = "F32";
    t->ndim = ndim;
    size_t count = 1;
    for (int d = 0; d < ndim; d++) {
        t->shape[d] = shape[d];
        count *= (size_t)shape[d];
    }
    t->nbytes = 4 * count;
    t->data = malloc(t->nbytes ? t->nbytes : 1);
    /* Exact in float: small integers over 4. */
    for (size_t i = 0; i < count; i++)
        put_f32(t->data + 4 * i, (float)(w->n * 1000 + (int)i) * 0.25f);
}

static void state_dict(const struct net *n, struct want *w)
{
    memset(w, 0, sizeof *w);
    for (int i = 0; i < n->n_layers; i++) {
        const struct layer *l = &n->layer[i];
        if (l->kind == LAYER_CONV) {
            int64_t s[4] = {l->out_c, l->in_c, l->k, l->k};
            add_tensor(w, l->tensor, "weight", 4, s);
            if (l->bias)
                add_tensor(w, l->tensor, "bias", 1, s);
        } else if (l->kind == LAYER_BN) {
            int64_t s[1] = {l->out_c};
            add_tensor(w, l->tensor, "weight", 1, s);
            add_tensor(w, l->tensor, "bias", 1, s);
            add_tensor(w, l->tensor, "running_mean", 1, s);
            add_tensor(w, l->tensor, "running_var", 1, s);
            struct tdesc *t = &w->t[w->n++];
            snprintf(t->name, sizeof t->name, "%s.num_batches_tracked", l->tensor);
            t->dtype = "I64";
            t->ndim = 0;
            t->nbytes = 8;
            t->data = calloc(8, 1);
            t->data[0] = 42;
        } else if (l->kind == LAYER_DENSE) {
            int64_t s[2] = {l->out_c, l->in_c};
            add_tensor(w, l->tensor, "weight", 2, s);
            if (l->bias)
                add_tensor(w, l->tensor, "bias", 1, s);
        }
    }
}

/* After loading: the layer arrays in the same order as state_dict(). */
static void slots(const struct net *n, struct want *w)
{
    int k = 0;
    for (int i = 0; i < n->n_layers; i++) {
        const struct layer *l = &n->layer[i];
        if (l->kind == LAYER_CONV || l->kind == LAYER_DENSE) {
            w->slot[k++] = l->w;
            if (l->bias)
                w->slot[k++] = l->b;
        } else if (l->kind == LAYER_BN) {
            w->slot[k++] = l->w;
            w->slot[k++] = l->b;
            w->slot[k++] = l->mean;
            w->slot[k++] = l->var;
            w->slot[k++] = NULL;   /* num_batches_tracked goes nowhere */
        }
    }
}

static void free_want(struct want *w)
{
    for (int i = 0; i < w->n; i++)
        free(w->t[i].data);
}

static int find_want(const struct want *w, const char *name)
{
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->t[i].name, name) == 0)
            return i;
    return -1;
}

static const struct layer *find_layer(const struct net *n, const char *tensor, enum layer_kind k)
{
    for (int i = 0; i < n->n_layers; i++)
        if (n->layer[i].kind == k && strcmp(n->layer[i].tensor, tensor) == 0)
            return &n->layer[i];
    return NULL;
}

/* weights_load must fail with a message containing s1 and s2 and leave the
 * net without weights. */
static void expect_load_fails(const char *label, const char *path, const char *s1,
                              const char *s2)
{
    struct net n;
    if (tiny_net(&n) < 0)
        return;
    struct err e = {{0}};
    int rc = weights_load(&n, path, &e);
    CHECK(rc == -1 && has(e.msg, "weights: ") && has(e.msg, path) && has(e.msg, s1) &&
              (!s2 || has(e.msg, s2)),
          "%s: %s", label, e.msg);
    CHECK(n.store == NULL, "%s leaves the net without weights", label);
    net_free(&n);
}

static void test_load(void)
{
    struct net n;
    if (tiny_net(&n) < 0)
        return;
    struct want w;
    state_dict(&n, &w);

    /* The names torchvision uses, independent of how net.c spells them. */
    const char *names[] = {"conv1.weight", "bn1.weight", "bn1.running_var",
                           "layer1.0.conv1.weight", "layer1.0.bn2.bias",
                           "layer2.0.conv2.weight", "layer2.0.downsample.0.weight",
                           "layer2.0.downsample.1.running_mean", "fc.weight", "fc.bias"};
    int all = 1;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (find_want(&w, names[i]) < 0) {
            all = 0;
            printf("# the tiny net has no tensor %s\n", names[i]);
        }
    CHECK(all, "the tiny net expects torchvision's tensor names");
    int c1 = find_want(&w, "layer2.0.conv1.weight");
    CHECK(c1 >= 0 && w.t[c1].shape[0] == 8 && w.t[c1].shape[1] == 4 && w.t[c1].shape[2] == 3,
          "layer2.0.conv1.weight is [8, 4, 3, 3]");

    /* A complete file, misaligned data, with num_batches_tracked: loads, and
     * every value lands where it belongs. */
    const char *good = write_tensors("net_good.safetensors", w.t, w.n, 1);
    struct err e = {{0}};
    int rc = weights_load(&n, good, &e);
    CHECK(rc == 0, "a complete state_dict loads (%s)", rc ? e.msg : "ok");
    if (rc == 0) {
        slots(&n, &w);
        int bad = -1;
        for (int i = 0; i < w.n && bad < 0; i++) {
            if (!w.slot[i])
                continue;
            size_t count = w.t[i].nbytes / 4;
            for (size_t j = 0; j < count; j++)
                if (float_bits(w.slot[i][j]) !=
                    float_bits((float)((i + 1) * 1000 + (int)j) * 0.25f)) {
                    bad = i;
                    break;
                }
        }
        CHECK(bad < 0, "every tensor's values land in its layer's array (first wrong: %s)",
              bad < 0 ? "none" : w.t[bad].name);
        const struct layer *ds = find_layer(&n, "layer2.0.downsample.1", LAYER_BN);
        int k = find_want(&w, "layer2.0.downsample.1.running_var");
        CHECK(ds && k >= 0 && ds->var && ds->var[7] == (float)((k + 1) * 1000 + 7) * 0.25f,
              "layer2.0.downsample.1.running_var[7] is in that BN's var");
        const struct layer *fc = find_layer(&n, "fc", LAYER_DENSE);
        k = find_want(&w, "fc.weight");
        CHECK(fc && k >= 0 && fc->w && fc->w[3 * 8 + 5] == (float)((k + 1) * 1000 + 29) * 0.25f,
              "fc.weight[3][5] is fc's w[3*in_c + 5]");
    }
    net_free(&n);

    /* Without any num_batches_tracked it loads just as well. */
    struct want lean = {.n = 0};
    for (int i = 0; i < w.n; i++)
        if (!strstr(w.t[i].name, "num_batches_tracked"))
            lean.t[lean.n++] = w.t[i];
    const char *nonbt = write_tensors("net_no_nbt.safetensors", lean.t, lean.n, 0);
    if (tiny_net(&n) == 0) {
        rc = weights_load(&n, nonbt, &e);
        CHECK(rc == 0, "a state_dict without num_batches_tracked loads (%s)",
              rc ? e.msg : "ok");
        net_free(&n);
    }

    /* Missing: drop layer2.0.conv2.weight. */
    struct want cut = {.n = 0};
    for (int i = 0; i < w.n; i++)
        if (strcmp(w.t[i].name, "layer2.0.conv2.weight") != 0)
            cut.t[cut.n++] = w.t[i];
    expect_load_fails("a missing tensor",
                      write_tensors("net_missing.safetensors", cut.t, cut.n, 0),
                      "missing tensor layer2.0.conv2.weight", "expected [8, 8, 3, 3]");

    /* Extra: a layer the spec does not have. */
    unsigned char four[4] = {0};
    const struct tdesc extra = {.name = "layer3.0.conv1.weight", .dtype = "F32", .ndim = 4,
                                .shape = {1, 1, 1, 1}, .data = four, .nbytes = 4};
    struct want more = w;
    more.t[more.n++] = extra;
    expect_load_fails("an extra tensor",
                      write_tensors("net_extra.safetensors", more.t, more.n, 0),
                      "unexpected tensor layer3.0.conv1.weight", "more layers than the spec");

    /* Wrong shape: conv1.weight as [4, 3, 1, 9] (same size). */
    more = w;
    int ci = find_want(&more, "conv1.weight");
    if (ci >= 0) {
        more.t[ci].shape[2] = 1;
        more.t[ci].shape[3] = 9;
        expect_load_fails("a misshapen tensor",
                          write_tensors("net_shape.safetensors", more.t, more.n, 0),
                          "conv1.weight has shape [4, 3, 1, 9], the spec needs [4, 3, 3, 3]",
                          "depth/width");
    }

    /* Wrong rank: fc.bias as [1, 10]. */
    more = w;
    ci = find_want(&more, "fc.bias");
    if (ci >= 0) {
        more.t[ci].ndim = 2;
        more.t[ci].shape[0] = 1;
        more.t[ci].shape[1] = 10;
        expect_load_fails("a tensor of the wrong rank",
                          write_tensors("net_rank.safetensors", more.t, more.n, 0),
                          "fc.bias has shape [1, 10], the spec needs [10]", NULL);
    }

    /* Wrong dtype: fc.bias as I32 (same size). */
    more = w;
    if (ci >= 0) {
        more.t[ci].dtype = "I32";
        expect_load_fails("an integer weight tensor",
                          write_tensors("net_dtype.safetensors", more.t, more.n, 0),
                          "fc.bias", "I32");
    }

    /* bn1.bias on bn1.weight's bytes: a file that would load and run, its
     * bias silently the scale, is refused naming both. */
    more = w;
    int bi = find_want(&more, "bn1.bias");
    if (bi >= 0) {
        more.t[bi].alias = "bn1.weight";
        expect_load_fails("a tensor on another's bytes",
                          write_tensors("net_alias.safetensors", more.t, more.n, 0),
                          "tensors bn1.weight and bn1.bias overlap", NULL);
    }

    /* A broken file reaches the caller with the loader's prefix. */
    expect_load_fails("a broken file through weights_load",
                      write_st("net_broken.safetensors",
                               "{\"fc.weight\": {\"dtype\": \"F32\", \"shape\": [1]}}", 4),
                      "fc.weight", "data_offsets");

    /* Both a missing and an extra tensor: the first in layer order wins,
     * the same way every time. */
    struct want both = cut;
    both.t[both.n++] = extra;
    const char *bp = write_tensors("net_both.safetensors", both.t, both.n, 0);
    expect_load_fails("missing and extra together", bp, "missing tensor layer2.0.conv2.weight",
                      NULL);

    free_want(&w);
}

/* Half, bfloat16 and float bit patterns through the loader. */
static void test_convert(void)
{
    struct net n;
    if (tiny_net(&n) < 0)
        return;
    struct want w;
    state_dict(&n, &w);
    int ci = find_want(&w, "conv1.weight");   /* [4, 3, 3, 3]: 108 elements */
    int fi = find_want(&w, "fc.weight");      /* [10, 8]: 80 elements */
    int bi = find_want(&w, "bn1.running_var");/* [4] */
    if (ci < 0 || fi < 0 || bi < 0) {
        CHECK(0, "the tiny net has conv1.weight, fc.weight and bn1.running_var");
        free_want(&w);
        net_free(&n);
        return;
    }

    static const struct {
        uint16_t h;
        float f;
        const char *what;
    } halves[] = {
        {0x0001, 0x1p-24f, "smallest subnormal 2^-24"},
        {0x8001, -0x1p-24f, "negative smallest subnormal"},
        {0x03ff, 1023 * 0x1p-24f, "largest subnormal"},
        {0x0200, 0x1p-15f, "subnormal 2^-15"},
        {0x0400, 0x1p-14f, "smallest normal 2^-14"},
        {0x3c00, 1.0f, "1"},
        {0xc000, -2.0f, "-2"},
        {0x3555, 0.333251953125f, "0.33325195"},
        {0x7bff, 65504.0f, "largest half 65504"},
        {0x0000, 0.0f, "+0"},
        {0x8000, -0.0f, "-0"},
        {0x7c00, INFINITY, "+inf"},
        {0xfc00, -INFINITY, "-inf"},
    };
    int nh = (int)(sizeof halves / sizeof halves[0]);
    struct tdesc *t = &w.t[ci];
    t->dtype = "F16";
    t->nbytes = 2 * 108;
    for (int i = 0; i < 108; i++)
        put_u16(t->data + 2 * i, i < nh ? halves[i].h : i == nh ? 0x7e00 : 0x3800);

    static const struct {
        uint16_t h;
        float f;
        const char *what;
    } bf[] = {
        {0x3f80, 1.0f, "1"},
        {0xc040, -3.0f, "-3"},
        {0x3eab, 0.333984375f, "0.33398438"},
        {0x0001, 0x1p-133f, "subnormal 2^-133"},
        {0x8000, -0.0f, "-0"},
        {0x7f80, INFINITY, "+inf"},
        {0xff80, -INFINITY, "-inf"},
        {0x7f7f, 0x1.fep127f, "largest bf16"},
    };
    int nb = (int)(sizeof bf / sizeof bf[0]);
    t = &w.t[fi];
    t->dtype = "BF16";
    t->nbytes = 2 * 80;
    for (int i = 0; i < 80; i++)
        put_u16(t->data + 2 * i, i < nb ? bf[i].h : i == nb ? 0x7fc0 : 0x4000);

    /* F32 bit patterns pass through untouched, even denormals and nan. */
    static const uint32_t fbits[4] = {0x00000001u, 0x80000000u, 0x7fc00001u, 0x3f800000u};
    t = &w.t[bi];
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 4; b++)
            t->data[4 * i + b] = (unsigned char)(fbits[i] >> (8 * b));

    const char *path = write_tensors("convert.safetensors", w.t, w.n, 1);
    struct err e = {{0}};
    int rc = weights_load(&n, path, &e);
    CHECK(rc == 0, "a file with F16, BF16 and F32 tensors loads (%s)", rc ? e.msg : "ok");
    if (rc == 0) {
        const struct layer *c = find_layer(&n, "conv1", LAYER_CONV);
        for (int i = 0; c && i < nh; i++)
            CHECK(float_bits(c->w[i]) == float_bits(halves[i].f),
                  "F16 %04x -> %s (got %a)", halves[i].h, halves[i].what, (double)c->w[i]);
        CHECK(c && isnan(c->w[nh]), "F16 7e00 -> nan");
        CHECK(c && c->w[107] == 0.5f, "F16 3800 -> 0.5 (last element)");

        const struct layer *fc = find_layer(&n, "fc", LAYER_DENSE);
        for (int i = 0; fc && i < nb; i++)
            CHECK(float_bits(fc->w[i]) == float_bits(bf[i].f),
                  "BF16 %04x -> %s (got %a)", bf[i].h, bf[i].what, (double)fc->w[i]);
        CHECK(fc && isnan(fc->w[nb]), "BF16 7fc0 -> nan");
        CHECK(fc && fc->w[79] == 2.0f, "BF16 4000 -> 2 (last element)");

        const struct layer *bn = find_layer(&n, "bn1", LAYER_BN);
        int same = bn != NULL;
        for (int i = 0; same && i < 4; i++)
            same = float_bits(bn->var[i]) == fbits[i];
        CHECK(same, "F32 bit patterns (denormal, -0, nan payload, 1) pass unchanged");
    }
    net_free(&n);
    free_want(&w);
}

/* ---- random weights and the default path ---- */

/* Every float of the net's weights, in layer order, into `out` (or count). */
static long gather(const struct net *n, float *out)
{
    long k = 0;
    for (int i = 0; i < n->n_layers; i++) {
        const struct layer *l = &n->layer[i];
        long nw = l->kind == LAYER_BN ? l->out_c : net_weight_count(l);
        long nb = l->kind == LAYER_BN ? l->out_c : net_bias_count(l);
        const float *arr[4] = {l->w, l->b, l->mean, l->var};
        long cnt[4] = {nw, nb, l->out_c, l->out_c};
        for (int a = 0; a < 4; a++)
            for (long j = 0; arr[a] && j < cnt[a]; j++, k++)
                if (out)
                    out[k] = arr[a][j];
    }
    return k;
}

static void test_random(void)
{
    struct net a, b, c;
    if (tiny_net(&a) < 0 || tiny_net(&b) < 0 || tiny_net(&c) < 0)
        return;
    struct err e = {{0}};
    int rc = weights_random(&a, 7, &e) | weights_random(&b, 7, &e) | weights_random(&c, 8, &e);
    CHECK(rc == 0, "weights_random fills three nets (%s)", rc ? e.msg : "ok");
    if (rc == 0) {
        long m = gather(&a, NULL);
        float *va = malloc((size_t)m * sizeof *va), *vb = malloc((size_t)m * sizeof *vb),
              *vc = malloc((size_t)m * sizeof *vc);
        gather(&a, va);
        gather(&b, vb);
        gather(&c, vc);
        CHECK(m > 0 && memcmp(va, vb, (size_t)m * sizeof *va) == 0,
              "the same seed gives the same %ld weights", m);
        CHECK(memcmp(va, vc, (size_t)m * sizeof *va) != 0, "another seed gives others");
        free(va);
        free(vb);
        free(vc);

        int sane = 1, pos = 1;
        for (int i = 0; i < a.n_layers; i++) {
            const struct layer *l = &a.layer[i];
            if (l->kind == LAYER_CONV || l->kind == LAYER_DENSE) {
                long fan = (long)l->in_c * (l->kind == LAYER_CONV ? l->k * l->k : 1);
                double lim = sqrt(3.0 / (double)fan) * 1.0001, ss = 0;
                long nw = net_weight_count(l);
                for (long j = 0; j < nw; j++) {
                    if (!isfinite(l->w[j]) || fabs(l->w[j]) > lim)
                        sane = 0;
                    ss += (double)l->w[j] * l->w[j];
                }
                /* variance near 1/fan_in (loose: small layers are noisy) */
                double var = ss / (double)nw * (double)fan;
                if (var < 0.5 || var > 1.5)
                    sane = 0;
            } else if (l->kind == LAYER_BN) {
                /* gamma ~1, or ~0.25 where the BN ends a residual branch */
                int ends = 0;
                for (int k = i + 1; k < a.n_layers; k++)
                    if (a.layer[k].kind == LAYER_ADD &&
                        (a.layer[k].in[0] == i || (a.layer[k].n_in > 1 && a.layer[k].in[1] == i)))
                        ends = 1;
                float g = ends ? 0.25f : 1.0f;
                for (int j = 0; j < l->out_c; j++) {
                    if (!(l->var[j] > 0.5f) || fabsf(l->w[j] - g) > 0.5f * g ||
                        fabsf(l->mean[j]) > 0.5f || fabsf(l->b[j]) > 0.5f)
                        pos = 0;
                }
            }
        }
        CHECK(sane, "conv/dense weights are finite, within sqrt(3/fan_in), variance ~1/fan_in");
        CHECK(pos, "BN gamma ~1 (~0.25 before an Add), beta and mean small, var positive ~1");
    }
    net_free(&a);
    net_free(&b);
    net_free(&c);
}

static void test_default_path(void)
{
    char out[256];
    struct err e = {{0}};
    setenv("RESNET_HOME", "/opt/w/", 1);
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    setenv("HOME", "/home/u", 1);
    int rc = cache_weights_path("resnet50", out, sizeof out, &e);
    CHECK(rc == 0 && strcmp(out, "/opt/w/resnet50.safetensors") == 0,
          "RESNET_HOME comes first: %s", out);
    unsetenv("RESNET_HOME");
    rc = cache_weights_path("resnet50", out, sizeof out, &e);
    CHECK(rc == 0 && strcmp(out, "/xdg/resnet/resnet50.safetensors") == 0,
          "then XDG_CACHE_HOME/resnet: %s", out);
    setenv("XDG_CACHE_HOME", "", 1);
    rc = cache_weights_path("resnet50", out, sizeof out, &e);
    CHECK(rc == 0 && strcmp(out, "/home/u/.cache/resnet/resnet50.safetensors") == 0,
          "then HOME/.cache/resnet (an empty XDG_CACHE_HOME counts as unset): %s", out);
    rc = cache_weights_path("resnet50", out, 20, &e);
    CHECK(rc == -1 && has(e.msg, "too long"), "a path that does not fit: %s", e.msg);
    unsetenv("XDG_CACHE_HOME");
    unsetenv("HOME");
    rc = cache_weights_path("resnet50", out, sizeof out, &e);
    CHECK(rc == -1 && has(e.msg, "RESNET_HOME") && has(e.msg, "HOME"),
          "no variable set: %s", e.msg);
}

/* ---- Keras HDF5 files, by order; timm names ---- */

#define KERAS_FIX "tests/fixtures/keras/"

static int load_spec_net(const char *spec, struct arch *a, struct net *n)
{
    struct err e = {{0}};
    memset(n, 0, sizeof *n);
    if (spec_load(spec, a, &e) < 0 || net_build(a, n, &e) < 0) {
        CHECK(0, "%s: %s", spec, e.msg);
        return -1;
    }
    return 0;
}

static const struct layer *layer_named(const struct net *n, const char *name)
{
    for (int i = 0; i < n->n_layers; i++)
        if (!strcmp(n->layer[i].name, name))
            return &n->layer[i];
    return NULL;
}

/* Does the net layer hold the file layer's weights, in the net's layout? */
static int same_weights(const struct h5_layer *fl, const struct layer *l)
{
    if (l->kind == LAYER_BN) {
        float *dst[4] = {l->w, l->b, l->mean, l->var};
        for (int j = 0; j < 4; j++)
            for (int c = 0; c < l->out_c; c++)
                if (fl->w[j].data[c] != dst[j][c])
                    return 0;
        return fl->n_weights == 4;
    }
    const float *k = fl->w[0].data;
    int kk = l->kind == LAYER_CONV ? l->k : 1;
    for (int o = 0; o < l->out_c; o++)
        for (int i = 0; i < l->in_c; i++)
            for (int y = 0; y < kk; y++)
                for (int x = 0; x < kk; x++)   /* HWIO -> OIHW, [in][out] -> [out][in] */
                    if (l->w[(((long)o * l->in_c + i) * kk + y) * kk + x] !=
                        k[(((long)y * kk + x) * l->in_c + i) * l->out_c + o])
                        return 0;
    for (int o = 0; l->bias && o < l->out_c; o++)
        if (fl->w[1].data[o] != l->b[o])
            return 0;
    return fl->n_weights == 1 + l->bias;
}

static void test_keras(void)
{
    static const char *const cases[] = {"keras_v1_small", "keras_v2_small",
                                        "tutorial_resnet34_small", "keras_cifar_v2_small",
                                        "tutorial_resnetv2_cifar_small"};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        char spec[256], h5[256];
        snprintf(spec, sizeof spec, KERAS_FIX "%s/spec.json", cases[c]);
        snprintf(h5, sizeof h5, KERAS_FIX "%s/weights.h5", cases[c]);
        struct arch a;
        struct net n;
        struct h5_file f;
        struct err e = {{0}};
        if (load_spec_net(spec, &a, &n) < 0)
            continue;
        if (weights_load(&n, h5, &e) < 0 || h5_read(h5, &f, &e) < 0) {
            CHECK(0, "%s: load and read: %s", cases[c], e.msg);
            net_free(&n);
            continue;
        }
        /* Keras Applications' and our names agree but for the classifier
         * (`probs` in the file, `predictions` here); the tutorials' agree. */
        int checked = 0, good = 1;
        for (int i = 0; i < f.n_layers; i++) {
            const struct h5_layer *fl = &f.layer[i];
            if (!fl->n_weights)
                continue;
            const struct layer *l = layer_named(&n, strcmp(fl->name, "probs") ? fl->name
                                                                               : "predictions");
            good &= l && same_weights(fl, l);
            checked++;
        }
        CHECK(good && checked > 10, "%s: the k-th weighted layer of the file fills the k-th of "
              "Keras's order, kernels transposed (%d layers)", cases[c], checked);
        h5_free(&f);
        net_free(&n);
    }

    /* one clear error for a spec that does not describe the file */
    struct {
        const char *what, *needle1, *needle2;
    } bad[] = {
        {"bias", "conv1_conv has 2 weights", "bias"},
        {"width", "conv2_block1_1_conv/kernel:0 has shape [1, 1, 64, 4]", "needs kernel [1, 1, 64, 5]"},
        {"stages", "the file has", "layers with weights"},
    };
    for (size_t t = 0; t < sizeof bad / sizeof *bad; t++) {
        struct arch a;
        struct net n;
        struct err e = {{0}};
        if (load_spec_net(KERAS_FIX "keras_v1_small/spec.json", &a, &n) < 0)
            continue;
        net_free(&n);
        if (t == 0)
            a.bias = BIAS_NONE;
        else if (t == 1)
            a.widths[0] = 5;
        else
            a.stages[0] = 1;
        if (net_build(&a, &n, &e) < 0) {
            CHECK(0, "%s: %s", bad[t].what, e.msg);
            continue;
        }
        int rc = weights_load(&n, KERAS_FIX "keras_v1_small/weights.h5", &e);
        CHECK(rc == -1 && has(e.msg, bad[t].needle1) && has(e.msg, bad[t].needle2) &&
                  has(e.msg, "weights.h5") && !n.store,
              "a spec with other %s: \"%s\", nothing allocated", bad[t].what, e.msg);
        net_free(&n);
    }

    /* a cut file is an HDF5 error naming the file */
    size_t size = 0;
    FILE *fp = fopen(KERAS_FIX "keras_v1_small/weights.h5", "rb");
    unsigned char *buf = fp ? malloc(1 << 20) : NULL;
    if (buf)
        size = fread(buf, 1, 1 << 20, fp);
    if (fp)
        fclose(fp);
    const char *cut = write_bytes("cut.h5", buf, size / 2);
    free(buf);
    struct arch a;
    struct net n;
    struct err e = {{0}};
    if (load_spec_net(KERAS_FIX "keras_v1_small/spec.json", &a, &n) == 0) {
        CHECK(size > 1000 && weights_load(&n, cut, &e) == -1 && has(e.msg, "weights: ") &&
                  has(e.msg, "cut.h5"),
              "a truncated .h5: %s", e.msg);
        net_free(&n);
    }

    /* timm: stages.N.blocks.M.*, downsample.conv, norm, head.fc as a 1x1 conv */
    if (load_spec_net(KERAS_FIX "timm_v2_small/spec.json", &a, &n) == 0) {
        struct st_file st;
        int ok = weights_load(&n, KERAS_FIX "timm_v2_small/weights.safetensors", &e) == 0 &&
                 st_open(KERAS_FIX "timm_v2_small/weights.safetensors", &st, &e) == 0;
        if (ok) {
            const struct st_tensor *t = st_find(&st, "head.fc.weight");
            const struct layer *fc = &n.layer[n.n_layers - 1];
            ok = t && t->ndim == 4 && t->shape[2] == 1 && t->shape[3] == 1 &&
                 !memcmp(fc->w, t->data, t->nbytes) && !strcmp(fc->tensor, "head.fc");
            t = st_find(&st, "stages.1.blocks.0.downsample.conv.weight");
            const struct layer *ds = layer_named(&n, "conv3_block1_0_conv");
            ok &= t && ds && !memcmp(ds->w, t->data, t->nbytes);
            st_close(&st);
        }
        CHECK(ok, "timm names: head.fc [7, 48, 1, 1] is the classifier, downsample.conv the "
              "projection%s%s", ok ? "" : ": ", ok ? "" : e.msg);
        net_free(&n);
    }
}

/* NAME.h5 is the default where there is no NAME.safetensors. */
static void test_default_h5(void)
{
    char out[256];
    struct err e = {{0}};
    setenv("RESNET_HOME", tmpdir, 1);
    write_bytes("kmodel.h5", "x", 1);
    int rc = cache_weights_path("kmodel", out, sizeof out, &e);
    CHECK(rc == 0 && has(out, "/kmodel.h5"), "only NAME.h5 there: %s", out);
    write_bytes("kmodel.safetensors", "x", 1);
    rc = cache_weights_path("kmodel", out, sizeof out, &e);
    CHECK(rc == 0 && has(out, "/kmodel.safetensors"), "both there: NAME.safetensors: %s", out);
    unsetenv("RESNET_HOME");
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_weights.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    test_reader_good();
    test_reader_bad();
    test_reader_cover();
    test_load();
    test_convert();
    test_random();
    test_default_path();
    test_keras();
    test_default_h5();
    for (int i = 0; i < n_written; i++)
        unlink(written[i]);
    rmdir(tmpdir);
    return CHECK_DONE();
}
