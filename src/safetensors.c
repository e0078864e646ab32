/* safetensors.c -- map a .safetensors file and list its tensors.
 *
 * The format: an 8-byte little-endian header length N, N bytes of JSON
 *   {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
 *    ..., "__metadata__": {str: str}}
 * then the raw little-endian data, offsets counted from the byte after the
 * header.  The file is mapped, not read: a ResNet-152 is 240 MB and the
 * loader converts each tensor once, straight out of the page cache.
 *
 * Every field of the header is checked before anything points into the
 * mapping, so a truncated or hostile file yields an error, never a read
 * outside it; and the tensors must cover the data exactly, without overlaps
 * or gaps, as the format's reference reader requires. */
#include "safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Real headers are a few tens of kB; a bigger one is a corrupt length. */
#define ST_MAX_HEADER (100u * 1024 * 1024)

/* Doubles hold integers exactly up to 2^53; beyond that a JSON number is
 * no longer the integer that was written. */
#define ST_MAX_INT 9007199254740992.0

static const struct {
    const char *name;
    enum st_dtype dtype;
    size_t size;
} dtypes[] = {
    {"F32", ST_F32, 4}, {"F16", ST_F16, 2}, {"BF16", ST_BF16, 2},
    {"F64", ST_F64, 8}, {"I64", ST_I64, 8}, {"I32", ST_I32, 4},
    {"I16", ST_I16, 2}, {"I8", ST_I8, 1},   {"U8", ST_U8, 1},
    {"BOOL", ST_BOOL, 1},
};

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* A JSON number that is a whole number in [0, 2^53]; -1 otherwise. */
static int64_t json_uint(const cJSON *j)
{
    if (!cJSON_IsNumber(j))
        return -1;
    double d = j->valuedouble;
    if (!(d >= 0 && d <= ST_MAX_INT) || d != floor(d))
        return -1;
    return (int64_t)d;
}

/* Fill one tensor from its header entry `j`; `data_len` is the size of the
 * data section.  The caller has set t->name. */
static int parse_entry(const char *path, const cJSON *j, const unsigned char *data,
                       size_t data_len, struct st_tensor *t, struct err *e)
{
    const char *nm = t->name;
    if (!cJSON_IsObject(j))
        return err_set(e, "%s: tensor %s: header entry is not an object", path, nm);

    const cJSON *jd = cJSON_GetObjectItemCaseSensitive(j, "dtype");
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(j, "shape");
    const cJSON *jo = cJSON_GetObjectItemCaseSensitive(j, "data_offsets");
    if (!jd)
        return err_set(e, "%s: tensor %s: no \"dtype\"", path, nm);
    if (!js)
        return err_set(e, "%s: tensor %s: no \"shape\"", path, nm);
    if (!jo)
        return err_set(e, "%s: tensor %s: no \"data_offsets\"", path, nm);
    if (!cJSON_IsString(jd))
        return err_set(e, "%s: tensor %s: \"dtype\" is not a string", path, nm);
    if (!cJSON_IsArray(js))
        return err_set(e, "%s: tensor %s: \"shape\" is not an array", path, nm);
    if (!cJSON_IsArray(jo) || cJSON_GetArraySize(jo) != 2)
        return err_set(e, "%s: tensor %s: \"data_offsets\" is not an array [begin, end]",
                       path, nm);

    size_t elsize = 0;
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (strcmp(jd->valuestring, dtypes[i].name) == 0) {
            t->dtype = dtypes[i].dtype;
            elsize = dtypes[i].size;
        }
    if (!elsize)
        return err_set(e, "%s: tensor %s: unknown dtype \"%.32s\"", path, nm, jd->valuestring);

    int ndim = cJSON_GetArraySize(js);
    if (ndim > ST_MAX_DIMS)
        return err_set(e, "%s: tensor %s: %d dimensions, at most %d are supported",
                       path, nm, ndim, ST_MAX_DIMS);
    t->ndim = ndim;
    /* The element count, checked for overflow so that the size comparison
     * below cannot be fooled by a product that wrapped around. */
    uint64_t count = 1;
    int d = 0;
    const cJSON *jx;
    cJSON_ArrayForEach(jx, js) {
        int64_t v = json_uint(jx);
        if (v < 0)
            return err_set(e, "%s: tensor %s: shape[%d] is not a non-negative integer",
                           path, nm, d);
        t->shape[d++] = v;
        if (__builtin_mul_overflow(count, (uint64_t)v, &count))
            return err_set(e, "%s: tensor %s: shape product overflows", path, nm);
    }
    uint64_t bytes;
    if (__builtin_mul_overflow(count, (uint64_t)elsize, &bytes))
        return err_set(e, "%s: tensor %s: shape product overflows", path, nm);

    int64_t begin = json_uint(cJSON_GetArrayItem(jo, 0));
    int64_t end = json_uint(cJSON_GetArrayItem(jo, 1));
    if (begin < 0 || end < 0)
        return err_set(e, "%s: tensor %s: \"data_offsets\" are not non-negative integers",
                       path, nm);
    if (begin > end)
        return err_set(e, "%s: tensor %s: data_offsets [%lld, %lld] begin after end",
                       path, nm, (long long)begin, (long long)end);
    if ((uint64_t)end > data_len)
        return err_set(e, "%s: tensor %s: data_offsets end %lld is beyond the %zu bytes "
                       "of data (truncated file?)", path, nm, (long long)end, data_len);
    if ((uint64_t)(end - begin) != bytes)
        return err_set(e, "%s: tensor %s: %lld bytes of data, but %s x %llu elements "
                       "need %llu", path, nm, (long long)(end - begin), jd->valuestring,
                       (unsigned long long)count, (unsigned long long)bytes);
    t->data = data + begin;
    t->nbytes = (size_t)bytes;
    return 0;
}

static int cmp_name(const void *a, const void *b)
{
    const struct st_tensor *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

/* Two entries with one name would make st_find's answer depend on order. */
static int check_duplicates(struct st_file *f, struct err *e)
{
    if (f->n < 2)
        return 0;
    /* Sorted, so a file of many tensors costs n log n, not n^2. */
    const struct st_tensor **by_name = malloc((size_t)f->n * sizeof *by_name);
    if (!by_name)
        return err_set(e, "%s: out of memory", f->path);
    for (int i = 0; i < f->n; i++)
        by_name[i] = &f->tensor[i];
    qsort(by_name, (size_t)f->n, sizeof *by_name, cmp_name);
    int rc = 0;
    for (int i = 1; i < f->n && !rc; i++)
        if (strcmp(by_name[i - 1]->name, by_name[i]->name) == 0)
            rc = err_set(e, "%s: tensor %s appears twice in the header", f->path,
                         by_name[i]->name);
    free(by_name);
    return rc;
}

/* By offset, then size; then header order, so that which two tensors an
 * error names does not depend on qsort. */
static int cmp_offsets(const void *a, const void *b)
{
    const struct st_tensor *x = *(const struct st_tensor *const *)a;
    const struct st_tensor *y = *(const struct st_tensor *const *)b;
    if (x->data != y->data)
        return x->data < y->data ? -1 : 1;
    if (x->nbytes != y->nbytes)
        return x->nbytes < y->nbytes ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* The tensors must tile the data exactly, as the format's reference reader
 * (huggingface/safetensors) requires: taken in the order of their offsets,
 * each begins where the one before ends, the first at 0 and the last ends
 * at the end of the file.  Overlapping tensors share bytes (one write would
 * change both; a forged file can alias weights), and a gap is bytes no
 * tensor owns: either is a file no writer makes. */
static int check_coverage(struct st_file *f, const unsigned char *data, size_t data_len,
                          struct err *e)
{
    const struct st_tensor **by_offset = malloc((f->n ? (size_t)f->n : 1) * sizeof *by_offset);
    if (!by_offset)
        return err_set(e, "%s: out of memory", f->path);
    for (int i = 0; i < f->n; i++)
        by_offset[i] = &f->tensor[i];
    qsort(by_offset, (size_t)f->n, sizeof *by_offset, cmp_offsets);
    size_t covered = 0;   /* bytes [0, covered) of the data belong to the tensors so far */
    const struct st_tensor *last = NULL;
    int rc = 0;
    for (int i = 0; i < f->n && !rc; i++) {
        const struct st_tensor *t = by_offset[i];
        size_t begin = (size_t)(t->data - data), end = begin + t->nbytes;
        if (begin < covered)
            rc = err_set(e, "%s: tensors %s and %s overlap: data_offsets [%zu, %zu] and [%zu, %zu] "
                         "share bytes", f->path, last->name, t->name,
                         (size_t)(last->data - data), covered, begin, end);
        else if (begin > covered && last)
            rc = err_set(e, "%s: the %zu bytes at data offset %zu belong to no tensor (a gap "
                         "between tensors %s and %s); the tensors must cover the data exactly",
                         f->path, begin - covered, covered, last->name, t->name);
        else if (begin > covered)
            rc = err_set(e, "%s: the %zu bytes at data offset 0 belong to no tensor (a gap "
                         "before the first tensor, %s); the tensors must cover the data exactly",
                         f->path, begin, t->name);
        covered = end;
        last = t;
    }
    if (!rc && covered != data_len)
        rc = err_set(e, "%s: the %zu bytes at data offset %zu belong to no tensor (a gap %s%s%s); "
                     "the tensors must cover the data exactly", f->path, data_len - covered,
                     covered, last ? "after the last tensor, " : "", last ? last->name : "",
                     last ? "" : "where the header lists none");
    free(by_offset);
    return rc;
}

static int parse_header(struct st_file *f, size_t hlen, struct err *e)
{
    /* A NUL-terminated copy: the parser then cannot step off the end of the
     * mapping whatever the header holds, and the header is small. */
    char *text = malloc(hlen + 1);
    if (!text)
        return err_set(e, "%s: out of memory for a %zu-byte header", f->path, hlen);
    memcpy(text, f->map + 8, hlen);
    text[hlen] = 0;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, hlen, &end, 0);
    long at = end ? (long)(end - text) : 0;
    /* cJSON stops after the first value; writers pad with spaces to keep the
     * data aligned, anything else after the object is corruption. */
    while (root && end && end < text + hlen &&
           (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r' || *end == '\0'))
        end++;
    int trailing = root && end && end < text + hlen;
    long trail_at = trailing ? (long)(end - text) : 0;
    free(text);
    if (!root)
        return err_set(e, "%s: header is not valid JSON (at byte %ld of %zu)", f->path,
                       at, hlen);
    if (trailing) {
        cJSON_Delete(root);
        return err_set(e, "%s: header has trailing bytes after the JSON object (at byte %ld)",
                       f->path, trail_at);
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return err_set(e, "%s: header is not a JSON object", f->path);
    }

    int count = 0;
    const cJSON *j;
    cJSON_ArrayForEach(j, root)
        if (!j->string || strcmp(j->string, "__metadata__") != 0)
            count++;
    f->tensor = calloc(count ? (size_t)count : 1, sizeof *f->tensor);
    if (!f->tensor) {
        cJSON_Delete(root);
        return err_set(e, "%s: out of memory for %d tensors", f->path, count);
    }

    const unsigned char *data = f->map + 8 + hlen;
    size_t data_len = f->size - 8 - hlen;
    int rc = 0;
    cJSON_ArrayForEach(j, root) {
        if (j->string && strcmp(j->string, "__metadata__") == 0) {
            if (!cJSON_IsObject(j)) {
                rc = err_set(e, "%s: \"__metadata__\" is not an object", f->path);
                break;
            }
            continue;
        }
        struct st_tensor *t = &f->tensor[f->n];
        t->name = strdup(j->string ? j->string : "");
        if (!t->name) {
            rc = err_set(e, "%s: out of memory", f->path);
            break;
        }
        f->n++;
        if ((rc = parse_entry(f->path, j, data, data_len, t, e)) < 0)
            break;
    }
    cJSON_Delete(root);
    if (rc == 0)
        rc = check_duplicates(f, e);
    if (rc == 0)
        rc = check_coverage(f, data, data_len, e);
    return rc;
}

int st_open(const char *path, struct st_file *f, struct err *e)
{
    memset(f, 0, sizeof *f);
    f->path = path;

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(e, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) < 0) {
        int err = errno;
        close(fd);
        return err_set(e, "%s: %s", path, strerror(err));
    }
    if (S_ISDIR(sb.st_mode)) {
        close(fd);
        return err_set(e, "%s: is a directory, not a .safetensors file", path);
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return err_set(e, "%s: not a regular file", path);
    }
    if (sb.st_size < 8) {
        close(fd);
        return err_set(e, "%s: file is %lld bytes, too short for the 8-byte header length "
                       "of a .safetensors file", path, (long long)sb.st_size);
    }
    f->size = (size_t)sb.st_size;
    /* MAP_PRIVATE + PROT_READ: nothing we do can reach the file. */
    /* Populated at once: every byte is read, and one call maps the page
     * cache faster than 25,000 faults would. */
    void *m = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    int map_errno = errno;
    close(fd);
    if (m == MAP_FAILED) {
        f->size = 0;
        return err_set(e, "%s: cannot map the file: %s", path, strerror(map_errno));
    }
    f->map = m;

    uint64_t hlen = load_le64(f->map);
    if (hlen > ST_MAX_HEADER)
        err_set(e, "%s: header length %llu is absurd (over %u bytes): not a "
                ".safetensors file?", path, (unsigned long long)hlen, ST_MAX_HEADER);
    else if (hlen > f->size - 8)
        err_set(e, "%s: header length %llu is larger than the file (%zu bytes): "
                "truncated?", path, (unsigned long long)hlen, f->size);
    else if (parse_header(f, (size_t)hlen, e) == 0)
        return 0;
    st_close(f);
    return -1;
}

const struct st_tensor *st_find(const struct st_file *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->tensor[i].name, name) == 0)
            return &f->tensor[i];
    return NULL;
}

void st_close(struct st_file *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->n; i++)
        free(f->tensor[i].name);
    free(f->tensor);
    if (f->map)
        munmap(f->map, f->size);
    memset(f, 0, sizeof *f);
}
