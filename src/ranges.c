/* ranges.c -- calibrated activation ranges on disk (see ranges.h). */
#include "ranges.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "cache.h"

int ranges_path(char out[PATH_MAX], const char *weights, uint64_t layout, struct err *e)
{
    char real[PATH_MAX], dir[PATH_MAX];
    if (!realpath(weights, real))
        return err_set(e, "%s: %s", weights, strerror(errno));
    if (cache_dir(dir, sizeof dir, e))
        return -1;
    uLong h = crc32(0L, (const Bytef *)real, (uInt)strlen(real));
    h = crc32(h, (const Bytef *)&layout, sizeof layout);
    int len = snprintf(out, PATH_MAX, "%s/ranges/%.64s.%08lx.ranges", dir, strrchr(real, '/') + 1,
                       (unsigned long)h);
    if (len < 0 || len >= PATH_MAX)
        return err_set(e, "ranges: the cache path for %s is too long", weights);
    return 0;
}

static int weight_stamp(const char *weights, long long *size, long long *mtime_ns, struct err *e)
{
    struct stat st;
    if (stat(weights, &st) != 0)
        return err_set(e, "%s: %s", weights, strerror(errno));
    *size = (long long)st.st_size;
    *mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    return 0;
}

int ranges_add(struct fwd_ranges *r, int *cap, const char *name, float max)
{
    if (r->n == *cap) {
        const int more = *cap ? 2 * *cap : 64;
        char(*nn)[64] = realloc(r->name, (size_t)more * sizeof *nn);
        if (nn)
            r->name = nn;
        float *nm = nn ? realloc(r->max, (size_t)more * sizeof *nm) : NULL;
        if (!nm)
            return -1;
        r->max = nm, *cap = more;
    }
    snprintf(r->name[r->n], sizeof r->name[r->n], "%s", name);
    r->max[r->n++] = max;
    return 0;
}

int ranges_alloc(struct fwd_ranges *r, int n)
{
    memset(r, 0, sizeof *r);
    r->name = calloc((size_t)(n > 0 ? n : 1), sizeof *r->name);
    r->max = calloc((size_t)(n > 0 ? n : 1), sizeof *r->max);
    if (!r->name || !r->max) {
        ranges_free(r);
        return -1;
    }
    return 0;
}

void ranges_free(struct fwd_ranges *r)
{
    free(r->name), free(r->max);
    memset(r, 0, sizeof *r);
}

int ranges_load(const char *path, const char *weights, struct fwd_ranges *r, char method[32],
                struct err *e)
{
    memset(r, 0, sizeof *r);
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : err_set(e, "%s: %s", path, strerror(errno));
    long long size = 0, mtime = 0, want_size = 0, want_mtime = 0;
    int version, rc = 0;
    char line[256];
    if (weight_stamp(weights, &want_size, &want_mtime, e)) {
        fclose(f);
        return -1;
    }
    if (!fgets(line, sizeof line, f) ||
        sscanf(line, "resnet-ranges %d %lld %lld %31s", &version, &size, &mtime, method) != 4 ||
        version != 1) {
        fclose(f);
        return err_set(e, "%s: not a ranges file of this version; rerun `resnet calibrate`", path);
    }
    if (size != want_size || mtime != want_mtime) {
        fclose(f);
        return 0;   /* the weight file changed since */
    }
    int cap = 0;
    while (fgets(line, sizeof line, f)) {
        char name[64];
        float max;
        if (sscanf(line, "%63s %f", name, &max) != 2 || !(max >= 0)) {
            rc = err_set(e, "%s: a line is not NAME MAX: %.40s", path, line);
            break;
        }
        if (ranges_add(r, &cap, name, max)) {
            rc = err_set(e, "out of memory");
            break;
        }
    }
    fclose(f);
    if (rc) {
        ranges_free(r);
        return -1;
    }
    return 1;
}

int ranges_save(const char *path, const char *weights, const struct fwd_ranges *r,
                const char *method, struct err *e)
{
    char dir[PATH_MAX], tmp[PATH_MAX + 32];
    long long size = 0, mtime = 0;
    if (weight_stamp(weights, &size, &mtime, e))
        return -1;
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = 0;
    if (cache_make_dir(dir, e))
        return -1;
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return err_set(e, "%s: %s", tmp, strerror(errno));
    fprintf(f, "resnet-ranges 1 %lld %lld %s\n", size, mtime, method);
    for (int i = 0; i < r->n; i++)
        fprintf(f, "%s %.9g\n", r->name[i], r->max[i]);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        int err = errno;
        unlink(tmp);
        return err_set(e, "%s: cannot write the ranges: %s", path, strerror(err ? err : EIO));
    }
    return 0;
}
