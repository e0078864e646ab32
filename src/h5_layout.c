/* h5_layout.c -- the layers and weights of a Keras HDF5 file, with libhdf5.
 *
 * libhdf5 does the format; this file walks Keras's conventions on top of it:
 * layer_names at the root or under /model_weights, possibly split into
 * layer_names0, layer_names1, ...; one group per layer with weight_names; a
 * dataset per weight name, resolved relative to the layer group.
 *
 * Everything libhdf5 reports is caught: its automatic printing is off while
 * h5_layout_read runs, every call is checked, and a failure becomes one line naming
 * the file and the layer / weight, with libhdf5's innermost reason where it
 * helps.  Every dataset is checked for a float type, a sane shape and
 * allocated storage before any memory is reserved for it.
 *
 * This runs in the process that h5.c forks for it, so a libhdf5 crash on a
 * corrupt file stays there.  The h5_file's look-ups and h5_free are here
 * too: this file makes the struct, and both processes free it. */
#include "h5_layout.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hdf5_lib.h"

/* Keras splits attributes at 64 KiB; a list of names bigger than this is a
 * corrupt header, not a model. */
#define H5_MAX_ATTR_BYTES (64u << 20)

/* Room for libhdf5's reason in a message that must also name the file. */
#define REASON_LEN 256

struct reader {
    const char *path;
    struct err *e;
    const char *base;          /* "" or "/model_weights": for messages */
    hid_t dapl, gapl;          /* dataset / group access: refuse external links */
    char elink[REASON_LEN];    /* the external file a refused link named */
};

struct strlist {
    char **s;
    int n, cap;
};

static void strlist_free(struct strlist *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->s[i]);
    free(l->s);
    memset(l, 0, sizeof *l);
}

static int strlist_add(struct strlist *l, const char *p, size_t len)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 16;
        char **s = realloc(l->s, (size_t)cap * sizeof *s);
        if (!s)
            return -1;
        l->s = s;
        l->cap = cap;
    }
    char *c = malloc(len + 1);
    if (!c)
        return -1;
    memcpy(c, p, len);
    c[len] = 0;
    l->s[l->n++] = c;
    return 0;
}

/* ---- libhdf5's error stack ---- */

static herr_t keep_innermost(unsigned n, const H5E_error2_t *d, void *out)
{
    /* Walking upward, entry 0 is where the failure started: the most
     * specific reason ("truncated file: eof = ..."), not the API wrapper. */
    if (n == 0 && d->desc)
        snprintf(out, REASON_LEN, "%s", d->desc);
    return 0;
}

/* libhdf5's reason for the last failure, as one line; clears the stack. */
static const char *hdf5_reason(char *buf)
{
    buf[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, buf);
    H5Eclear2(H5E_DEFAULT);
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    if (!buf[0])
        snprintf(buf, REASON_LEN, "libhdf5 gave no reason");
    return buf;
}

/* External links would make a weight file open other files, chosen by
 * whoever wrote it; Keras never writes them. */
static herr_t refuse_elink(const char *parent_file, const char *parent_group,
                           const char *child_file, const char *child_object,
                           unsigned *flags, hid_t fapl, void *op_data)
{
    (void)parent_file, (void)parent_group, (void)child_object, (void)flags, (void)fapl;
    snprintf(op_data, REASON_LEN, "%s", child_file ? child_file : "");
    return -1;
}

/* ---- string attributes ---- */

static const char *class_name(H5T_class_t c)
{
    switch (c) {
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: return "floating-point";
    case H5T_STRING: return "string";
    case H5T_BITFIELD: return "bitfield";
    case H5T_OPAQUE: return "opaque";
    case H5T_COMPOUND: return "compound";
    case H5T_REFERENCE: return "reference";
    case H5T_ENUM: return "enum";
    case H5T_VLEN: return "variable-length";
    case H5T_ARRAY: return "array";
    default: return "unknown";
    }
}

/* Append the strings of attribute `name` of `obj` to `out`.  `where` names
 * the object in messages ("the root", "layer conv1_conv").  Keras writes an
 * empty list as an empty float64 array, so any type with no elements is an
 * empty list. */
static int read_attr_strings(struct reader *r, hid_t obj, const char *where,
                             const char *name, struct strlist *out)
{
    char why[REASON_LEN];
    int rc = -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t space = a < 0 ? -1 : H5Aget_space(a);
    hid_t type = a < 0 ? -1 : H5Aget_type(a);
    hid_t mem = -1;
    void *buf = NULL;
    if (a < 0 || space < 0 || type < 0) {
        err_set(r->e, "%s: %s: cannot read attribute %s: %s", r->path, where, name,
                hdf5_reason(why));
        goto done;
    }
    hssize_t np = H5Sget_simple_extent_npoints(space);
    if (np < 0) {
        err_set(r->e, "%s: %s: attribute %s has a bad dataspace: %s", r->path, where,
                name, hdf5_reason(why));
        goto done;
    }
    if (np == 0) {
        rc = 0;
        goto done;
    }
    H5T_class_t cls = H5Tget_class(type);
    if (cls != H5T_STRING) {
        err_set(r->e, "%s: %s: attribute %s holds %s values, not strings", r->path, where,
                name, class_name(cls));
        goto done;
    }
    size_t n = (size_t)np;
    htri_t vlen = H5Tis_variable_str(type);
    size_t size = H5Tget_size(type);
    size_t elsize = vlen > 0 ? sizeof(char *) : size;
    if (vlen < 0 || size == 0 || n > H5_MAX_ATTR_BYTES / elsize) {
        err_set(r->e, "%s: %s: attribute %s: %zu strings of %zu bytes is not a list of "
                "names", r->path, where, name, n, size);
        goto done;
    }
    buf = calloc(n, elsize);
    if (!buf) {
        err_set(r->e, "%s: %s: out of memory for attribute %s", r->path, where, name);
        goto done;
    }
    if (vlen > 0) {
        /* libhdf5 allocates each string; the memory type must carry the
         * file's character set or the read fails on UTF-8 names. */
        mem = H5Tcopy(H5T_C_S1);
        if (mem < 0 || H5Tset_size(mem, H5T_VARIABLE) < 0 ||
            H5Tset_cset(mem, H5Tget_cset(type)) < 0) {
            err_set(r->e, "%s: %s: cannot read attribute %s: %s", r->path, where, name,
                    hdf5_reason(why));
            goto done;
        }
        int fail = H5Aread(a, mem, buf) < 0;
        if (fail)
            err_set(r->e, "%s: %s: cannot read attribute %s: %s", r->path, where, name,
                    hdf5_reason(why));
        char **s = buf;
        for (size_t i = 0; i < n && !fail; i++)
            if (strlist_add(out, s[i] ? s[i] : "", s[i] ? strlen(s[i]) : 0) < 0)
                fail = err_set(r->e, "%s: %s: out of memory for attribute %s", r->path,
                               where, name);
        /* Also after a failed read: buf started zeroed, so the strings a
         * partial read allocated are freed and the rest are NULL. */
#if H5_VERSION_GE(1, 12, 0)
        H5Treclaim(mem, space, H5P_DEFAULT, buf);
#else
        H5Dvlen_reclaim(mem, space, H5P_DEFAULT, buf);
#endif
        if (fail)
            goto done;
    } else {
        /* Read in the file's own type, so no conversion touches the
         * padding, then cut each fixed-size slot at its end of string. */
        H5T_str_t pad = H5Tget_strpad(type);
        if (H5Aread(a, type, buf) < 0) {
            err_set(r->e, "%s: %s: cannot read attribute %s: %s", r->path, where, name,
                    hdf5_reason(why));
            goto done;
        }
        for (size_t i = 0; i < n; i++) {
            const char *p = (const char *)buf + i * size;
            size_t len = strnlen(p, size);
            if (pad == H5T_STR_SPACEPAD)
                while (len > 0 && p[len - 1] == ' ')
                    len--;
            if (strlist_add(out, p, len) < 0) {
                err_set(r->e, "%s: %s: out of memory for attribute %s", r->path, where,
                        name);
                goto done;
            }
        }
    }
    rc = 0;
done:
    free(buf);
    if (mem >= 0)
        H5Tclose(mem);
    if (type >= 0)
        H5Tclose(type);
    if (space >= 0)
        H5Sclose(space);
    if (a >= 0)
        H5Aclose(a);
    return rc;
}

/* Keras's load_attributes_from_hdf5_group: attribute `name`, else the
 * chunks name0, name1, ... in turn; neither is an empty list, as in Keras. */
static int read_name_list(struct reader *r, hid_t obj, const char *where, const char *name,
                          struct strlist *out)
{
    char why[REASON_LEN];
    htri_t ex = H5Aexists(obj, name);
    if (ex > 0)
        return read_attr_strings(r, obj, where, name, out);
    for (int k = 0; ex == 0; k++) {
        char chunk[64];
        snprintf(chunk, sizeof chunk, "%s%d", name, k);
        if ((ex = H5Aexists(obj, chunk)) <= 0)
            break;
        if (read_attr_strings(r, obj, where, chunk, out) < 0)
            return -1;
        ex = 0;
    }
    if (ex < 0)
        return err_set(r->e, "%s: %s: cannot look for attribute %s: %s", r->path, where,
                       name, hdf5_reason(why));
    return 0;
}

/* Names end up in one-line messages and in group paths. */
static int check_names(struct reader *r, const char *where, const char *attr,
                       const struct strlist *l)
{
    for (int i = 0; i < l->n; i++) {
        if (!l->s[i][0])
            return err_set(r->e, "%s: %s: %s[%d] is an empty name", r->path, where, attr, i);
        for (const char *p = l->s[i]; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                return err_set(r->e, "%s: %s: %s[%d] contains a control character",
                               r->path, where, attr, i);
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Two layers of one name would make h5_find_layer's answer arbitrary. */
static int check_duplicates(struct reader *r, const char *where, const struct strlist *l)
{
    if (l->n < 2)
        return 0;
    char **sorted = malloc((size_t)l->n * sizeof *sorted);
    if (!sorted)
        return err_set(r->e, "%s: out of memory", r->path);
    memcpy(sorted, l->s, (size_t)l->n * sizeof *sorted);
    qsort(sorted, (size_t)l->n, sizeof *sorted, cmp_str);
    int rc = 0;
    for (int i = 1; i < l->n && !rc; i++)
        if (strcmp(sorted[i - 1], sorted[i]) == 0)
            rc = err_set(r->e, "%s: %s: layer_names lists layer %s twice", r->path, where,
                         sorted[i]);
    free(sorted);
    return rc;
}

/* An optional scalar string attribute such as keras_version; "" if absent
 * or unreadable (it is informative only). */
static char *optional_string(struct reader *r, hid_t obj, const char *name)
{
    struct strlist l = {0};
    struct err quiet;
    struct err *keep = r->e;
    r->e = &quiet;
    char *s = NULL;
    if (H5Aexists(obj, name) > 0 && read_attr_strings(r, obj, "", name, &l) == 0 && l.n > 0) {
        s = l.s[0];
        l.s[0] = NULL;
        for (char *p = s; *p; p++)
            if ((unsigned char)*p < 0x20)
                *p = ' ';
    }
    H5Eclear2(H5E_DEFAULT);
    r->e = keep;
    strlist_free(&l);
    return s ? s : strdup("");
}

/* ---- datasets ---- */

static void format_shape(char *buf, size_t len, const hsize_t *dims, int ndim)
{
    size_t at = (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < ndim && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%llu", i ? "," : "",
                               (unsigned long long)dims[i]);
    if (at < len)
        snprintf(buf + at, len - at, "]");
}

/* Read dataset `wname` of layer group g into w; *total counts the bytes of
 * every weight read so far. */
static int read_weight(struct reader *r, hid_t g, const char *layer, const char *wname,
                       struct h5_weight *w, uint64_t *total)
{
    char why[REASON_LEN];
    int rc = -1;
    hid_t type = -1, space = -1;
    float *data = NULL;

    r->elink[0] = 0;
    hid_t d = H5Dopen2(g, wname, r->dapl);
    if (d < 0) {
        if (r->elink[0]) {
            H5Eclear2(H5E_DEFAULT);
            return err_set(r->e, "%s: layer %s: weight %s is an external link to %s; "
                           "weights must be inside the file", r->path, layer, wname,
                           r->elink);
        }
        return err_set(r->e, "%s: layer %s: weight %s: no dataset %s/%s/%s in the file, "
                       "though weight_names lists it (%s)", r->path, layer, wname, r->base,
                       layer, wname, hdf5_reason(why));
    }
    type = H5Dget_type(d);
    space = H5Dget_space(d);
    if (type < 0 || space < 0) {
        err_set(r->e, "%s: layer %s: weight %s: unreadable header: %s", r->path, layer,
                wname, hdf5_reason(why));
        goto done;
    }
    H5T_class_t cls = H5Tget_class(type);
    size_t size = H5Tget_size(type);
    if (cls != H5T_FLOAT) {
        err_set(r->e, "%s: layer %s: weight %s holds %s data; weights must be float16, "
                "float32 or float64", r->path, layer, wname, class_name(cls));
        goto done;
    }
    if (size != 2 && size != 4 && size != 8) {
        err_set(r->e, "%s: layer %s: weight %s is a %zu-byte float; weights must be "
                "float16, float32 or float64", r->path, layer, wname, size);
        goto done;
    }
    H5S_class_t sc = H5Sget_simple_extent_type(space);
    int ndim = H5Sget_simple_extent_ndims(space);
    if (sc == H5S_NULL || sc == H5S_NO_CLASS || ndim < 0) {
        err_set(r->e, "%s: layer %s: weight %s has no data (empty dataspace)", r->path,
                layer, wname);
        goto done;
    }
    if (ndim > H5_MAX_DIMS) {
        err_set(r->e, "%s: layer %s: weight %s has %d dimensions; at most %d are "
                "supported", r->path, layer, wname, ndim, H5_MAX_DIMS);
        goto done;
    }
    hsize_t dims[H5_MAX_DIMS] = {0};
    if (H5Sget_simple_extent_dims(space, dims, NULL) != ndim) {
        err_set(r->e, "%s: layer %s: weight %s: unreadable shape: %s", r->path, layer,
                wname, hdf5_reason(why));
        goto done;
    }
    char shape[128];
    format_shape(shape, sizeof shape, dims, ndim);
    /* Overflow-checked, so no product that wrapped can slip under the cap. */
    uint64_t count = 1, bytes;
    int over = 0;
    for (int i = 0; i < ndim; i++)
        over |= __builtin_mul_overflow(count, (uint64_t)dims[i], &count);
    over |= __builtin_mul_overflow(count, (uint64_t)sizeof(float), &bytes);
    if (over || bytes > H5_MAX_BYTES - *total || bytes > SIZE_MAX) {
        err_set(r->e, "%s: layer %s: weight %s of shape %s takes the weights past %llu "
                "GiB: not a weight file this program can hold", r->path, layer, wname,
                shape, (unsigned long long)(H5_MAX_BYTES >> 30));
        goto done;
    }
    /* A dataset that was created but never written reads as its fill value
     * (zeros): a broken save, not a model. */
    H5D_space_status_t status;
    if (count > 0 && (H5Dget_space_status(d, &status) < 0 ||
                      status == H5D_SPACE_STATUS_NOT_ALLOCATED)) {
        H5Eclear2(H5E_DEFAULT);
        err_set(r->e, "%s: layer %s: weight %s of shape %s was never written (no data "
                "stored)", r->path, layer, wname, shape);
        goto done;
    }
    data = malloc(count ? (size_t)bytes : sizeof(float));
    if (!data) {
        err_set(r->e, "%s: layer %s: weight %s: out of memory for shape %s", r->path, layer,
                wname, shape);
        goto done;
    }
    /* libhdf5 converts float16 / float64 / big-endian into native float. */
    if (count > 0 && H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
        err_set(r->e, "%s: layer %s: weight %s: cannot read its data (truncated or "
                "corrupt file?): %s", r->path, layer, wname, hdf5_reason(why));
        goto done;
    }
    /* A NaN or infinity would turn every probability into NaN, far from
     * here; the file is where it can be named. */
    for (uint64_t i = 0; i < count; i++)
        if (!isfinite(data[i])) {
            err_set(r->e, "%s: layer %s: weight %s has a non-finite value (%g) at element "
                    "%llu", r->path, layer, wname, (double)data[i], (unsigned long long)i);
            goto done;
        }
    w->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        w->shape[i] = (int64_t)dims[i];
    w->count = (int64_t)count;
    w->data = data;
    data = NULL;
    *total += bytes;
    rc = 0;
done:
    free(data);
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    H5Dclose(d);
    return rc;
}

/* ---- layers ---- */

static int read_layer(struct reader *r, hid_t base, const char *name, struct h5_layer *l,
                      uint64_t *total)
{
    char why[REASON_LEN], where[ERR_LEN / 2];
    snprintf(where, sizeof where, "layer %s", name);
    l->name = strdup(name);
    if (!l->name)
        return err_set(r->e, "%s: out of memory", r->path);

    r->elink[0] = 0;
    hid_t g = H5Gopen2(base, name, r->gapl);
    if (g < 0 && r->elink[0]) {
        H5Eclear2(H5E_DEFAULT);
        return err_set(r->e, "%s: layer %s is an external link to %s; weights must be "
                       "inside the file", r->path, name, r->elink);
    }
    if (g < 0)
        return err_set(r->e, "%s: layer %s: no group %s/%s in the file, though layer_names "
                       "lists it (%s)", r->path, name, r->base, name, hdf5_reason(why));
    struct strlist wn = {0};
    int rc = read_name_list(r, g, where, "weight_names", &wn);
    if (rc == 0)
        rc = check_names(r, where, "weight_names", &wn);
    if (rc == 0 && wn.n > 0) {
        l->w = calloc((size_t)wn.n, sizeof *l->w);
        if (!l->w)
            rc = err_set(r->e, "%s: out of memory", r->path);
    }
    for (int i = 0; rc == 0 && i < wn.n; i++) {
        struct h5_weight *w = &l->w[l->n_weights++];
        w->name = wn.s[i];
        wn.s[i] = NULL;
        rc = read_weight(r, g, name, w->name, w, total);
    }
    strlist_free(&wn);
    H5Gclose(g);
    return rc;
}

/* Where layer_names lives: the root (save_weights) or /model_weights
 * (model.save).  Returns the group to read from, or -1 with e set. */
static hid_t find_base(struct reader *r, hid_t file, struct h5_file *f)
{
    char why[REASON_LEN];
    htri_t at_root = H5Aexists(file, "layer_names");
    if (at_root == 0)
        at_root = H5Aexists(file, "layer_names0");
    if (at_root < 0) {
        err_set(r->e, "%s: cannot read the root group: %s", r->path, hdf5_reason(why));
        return -1;
    }
    if (at_root > 0) {
        hid_t root = H5Gopen2(file, "/", H5P_DEFAULT);
        if (root < 0)
            err_set(r->e, "%s: cannot open the root group: %s", r->path, hdf5_reason(why));
        return root;
    }

    htri_t nested = H5Lexists(file, "model_weights", H5P_DEFAULT);
    H5Eclear2(H5E_DEFAULT);
    if (nested > 0) {
        hid_t mw = H5Gopen2(file, "model_weights", r->gapl);
        htri_t has = mw < 0 ? -1 : H5Aexists(mw, "layer_names");
        if (has == 0)
            has = H5Aexists(mw, "layer_names0");
        if (has > 0) {
            f->model_weights = 1;
            r->base = "/model_weights";
            return mw;
        }
        if (mw >= 0)
            H5Gclose(mw);
        H5Eclear2(H5E_DEFAULT);
    }
    err_set(r->e, "%s: no layer_names attribute at / or in /model_weights: not a Keras "
            "weight file (model.save_weights() or model.save() in HDF5 format)", r->path);
    return -1;
}

static int read_file(struct reader *r, hid_t file, struct h5_file *f)
{
    hid_t base = find_base(r, file, f);
    if (base < 0)
        return -1;
    const char *where = f->model_weights ? "/model_weights" : "the root group";
    f->backend = optional_string(r, base, "backend");
    f->keras_version = optional_string(r, base, "keras_version");
    struct strlist names = {0};
    int rc = (f->backend && f->keras_version) ? 0 : err_set(r->e, "%s: out of memory", r->path);
    if (rc == 0)
        rc = read_name_list(r, base, where, "layer_names", &names);
    if (rc == 0)
        rc = check_names(r, where, "layer_names", &names);
    if (rc == 0)
        rc = check_duplicates(r, where, &names);
    if (rc == 0 && names.n == 0)
        rc = err_set(r->e, "%s: %s: layer_names is empty: the file holds no layers", r->path,
                     where);
    if (rc == 0) {
        f->layer = calloc((size_t)names.n, sizeof *f->layer);
        if (!f->layer)
            rc = err_set(r->e, "%s: out of memory for %d layers", r->path, names.n);
    }
    uint64_t total = 0;
    for (int i = 0; rc == 0 && i < names.n; i++) {
        struct h5_layer *l = &f->layer[f->n_layers++];
        rc = read_layer(r, base, names.s[i], l, &total);
        f->n_weighted += l->n_weights > 0;
    }
    f->total_bytes = (int64_t)total;
    strlist_free(&names);
    H5Gclose(base);
    return rc;
}

int h5_layout_read(const char *path, struct h5_file *f, struct err *e)
{
    memset(f, 0, sizeof *f);
    f->path = path;
    if (hdf5_lib_open(path, e))
        return -1;

    H5E_auto2_t old_func;
    void *old_data;
    H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

    char why[REASON_LEN];
    struct reader r = {.path = path, .e = e, .base = "", .dapl = -1, .gapl = -1};
    hid_t fapl = -1, file = -1;
    int rc = -1;
#if H5_VERSION_GE(1, 12, 0)
    htri_t is = H5Fis_accessible(path, H5P_DEFAULT);
#else
    htri_t is = H5Fis_hdf5(path);
#endif
    if (is == 0) {
        H5Eclear2(H5E_DEFAULT);
        err_set(e, "%s: not an HDF5 file (no HDF5 signature); expected a Keras .h5 weight "
                "file", path);
        goto done;
    }
    fapl = H5Pcreate(H5P_FILE_ACCESS);
    r.dapl = H5Pcreate(H5P_DATASET_ACCESS);
    r.gapl = H5Pcreate(H5P_GROUP_ACCESS);
    /* STRONG: closing the file closes whatever an error path left open.
     * No file locking: a read needs none, and it fails on some network and
     * read-only file systems. */
    if (fapl < 0 || r.dapl < 0 || r.gapl < 0 ||
        H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0 ||
#if H5_HAS_FILE_LOCKING
        H5Pset_file_locking(fapl, 0, 1) < 0 ||
#endif
        H5Pset_elink_cb(r.dapl, refuse_elink, r.elink) < 0 ||
        H5Pset_elink_cb(r.gapl, refuse_elink, r.elink) < 0) {
        err_set(e, "%s: cannot set up libhdf5: %s", path, hdf5_reason(why));
        goto done;
    }
    if (is > 0)
        file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (file < 0) {
        err_set(e, "%s: cannot open as HDF5 (truncated or corrupt?): %s", path,
                hdf5_reason(why));
        goto done;
    }
    rc = read_file(&r, file, f);
done:
    if (file >= 0)
        H5Fclose(file);
    if (r.dapl >= 0)
        H5Pclose(r.dapl);
    if (r.gapl >= 0)
        H5Pclose(r.gapl);
    if (fapl >= 0)
        H5Pclose(fapl);
    H5Eclear2(H5E_DEFAULT);
    H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
    if (rc < 0)
        h5_free(f);
    return rc;
}

/* ---- the result: looking things up in it, freeing it ---- */

const struct h5_layer *h5_find_layer(const struct h5_file *f, const char *name)
{
    for (int i = 0; i < f->n_layers; i++)
        if (strcmp(f->layer[i].name, name) == 0)
            return &f->layer[i];
    return NULL;
}

/* The leaf of a weight name: after the last '/', before a ":<digits>". */
static size_t leaf_of(const char *name, const char **leaf)
{
    const char *slash = strrchr(name, '/');
    const char *p = slash ? slash + 1 : name;
    size_t len = strlen(p);
    const char *colon = strrchr(p, ':');
    if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1))
        len = (size_t)(colon - p);
    *leaf = p;
    return len;
}

const struct h5_weight *h5_find_weight(const struct h5_layer *l, const char *leaf)
{
    const char *want;
    size_t want_len = leaf_of(leaf, &want);
    for (int i = 0; i < l->n_weights; i++) {
        const char *have;
        size_t have_len = leaf_of(l->w[i].name, &have);
        if (have_len == want_len && memcmp(have, want, want_len) == 0)
            return &l->w[i];
    }
    return NULL;
}

void h5_free(struct h5_file *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->n_layers; i++) {
        struct h5_layer *l = &f->layer[i];
        for (int j = 0; j < l->n_weights; j++) {
            free(l->w[j].name);
            free(l->w[j].data);
        }
        free(l->w);
        free(l->name);
    }
    free(f->layer);
    free(f->backend);
    free(f->keras_version);
    memset(f, 0, sizeof *f);
}
