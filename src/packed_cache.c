/* packed_cache.c -- the packed weights of a weight file, kept on disk (see
 * packed_cache.h).
 *
 * An entry is one page of header (struct packed_key, zero-padded) and then
 * fwd_params's block as it is in memory, so a hit is one mmap: the block
 * starts on a page, hence on the cache line the kernels expect. */
#include "packed_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include "cache.h"

#define HEADER_BYTES 4096
static const char MAGIC[8] = "RNPACK1";   /* bump when the entry's format changes */

static int64_t ns(struct timespec t)
{
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

int packed_cache_find(struct packed_cache *c, const struct fwd *f, const char *weights)
{
    memset(c, 0, sizeof *c);
    struct stat ws, xs;
    char real[PATH_MAX], dir[PATH_MAX];
    struct err e;
    /* The binary is part of the key: another build may pack differently. */
    if (stat(weights, &ws) != 0 || !S_ISREG(ws.st_mode) || stat("/proc/self/exe", &xs) != 0 ||
        !realpath(weights, real) || cache_dir(dir, sizeof dir, &e) != 0)
        return -1;
    size_t bytes;
    fwd_params(f, &bytes);
    struct packed_key *k = &c->key;
    memcpy(k->magic, MAGIC, sizeof k->magic);
    k->layout = fwd_params_layout(f);
    k->params_bytes = bytes;
    k->weights_dev = ws.st_dev, k->weights_ino = ws.st_ino, k->weights_size = ws.st_size;
    k->weights_mtime_ns = ns(ws.st_mtim), k->weights_ctime_ns = ns(ws.st_ctim);
    k->exe_ino = xs.st_ino, k->exe_size = xs.st_size, k->exe_mtime_ns = ns(xs.st_mtim);
    /* One entry per weight file and layout: a changed file overwrites its
     * own entry instead of adding one. */
    uLong h = crc32(0L, (const Bytef *)real, (uInt)strlen(real));
    h = crc32(h, (const Bytef *)&k->layout, sizeof k->layout);
    const char *base = strrchr(real, '/') + 1;
    int len = snprintf(c->path, sizeof c->path, "%s/packed/%.64s.%08lx.packed", dir, base,
                       (unsigned long)h);
    return len > 0 && (size_t)len < sizeof c->path ? 0 : -1;
}

int packed_cache_load(const struct packed_cache *c, struct fwd *f)
{
    int fd = open(c->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    const size_t bytes = HEADER_BYTES + c->key.params_bytes;
    struct stat st;
    struct packed_key k;
    void *m = MAP_FAILED;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == bytes &&
        pread(fd, &k, sizeof k, 0) == (ssize_t)sizeof k && !memcmp(&k, &c->key, sizeof k))
        m = mmap(NULL, bytes, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return 0;
    fwd_adopt_params(f, (const float *)((const char *)m + HEADER_BYTES), m, bytes);
    return 1;
}

/* Header and block in one writev, so the page cache holds the file in the
 * largest folios it can (2 MB ones map with one TLB entry each). */
static int write_entry(int fd, const void *header, size_t header_bytes, const void *p,
                       size_t n)
{
    struct iovec v[2] = {{(void *)header, header_bytes}, {(void *)p, n}};
    for (int i = 0; i < 2;) {
        ssize_t w = writev(fd, v + i, 2 - i);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        size_t done = (size_t)w;
        while (i < 2 && done >= v[i].iov_len)
            done -= v[i++].iov_len;
        if (i < 2) {
            v[i].iov_base = (char *)v[i].iov_base + done;
            v[i].iov_len -= done;
        }
    }
    return 0;
}

void packed_cache_save(const struct packed_cache *c, const struct fwd *f)
{
    char dir[PATH_MAX], tmp[PATH_MAX + 32];
    struct err e;
    snprintf(dir, sizeof dir, "%s", c->path);
    *strrchr(dir, '/') = 0;
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", c->path, (long)getpid());
    if (cache_make_dir(dir, &e) != 0)
        return;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    static char header[HEADER_BYTES];
    memcpy(header, &c->key, sizeof c->key);
    size_t bytes;
    const float *p = fwd_params(f, &bytes);
    int ok = write_entry(fd, header, sizeof header, p, bytes) == 0;
    if (close(fd) != 0)
        ok = 0;
    if (!ok || rename(tmp, c->path) != 0)
        unlink(tmp);
}
