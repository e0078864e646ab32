/* fuzz_safetensors.c -- bytes -> a .safetensors file -> st_open, then
 * model_open of a small net with that weight file.
 *
 * st_open maps a file, so the input is written to an in-memory file
 * (memfd) and opened by its /proc path: the product's own open, fstat and
 * mmap run.  A header that claims sizes or offsets past the end must be an
 * error naming the file; an accepted file must only point inside its
 * mapping (every tensor byte is read, so a stray pointer faults), and
 * opening the model with it, as classify does (without the packed cache),
 * must either give a model that runs or fail cleanly.
 * Seeds: tests/fuzz/seeds/safetensors (that net in F32, F16, BF16). */
#include "fuzz.h"

#include <sys/mman.h>
#include <unistd.h>

#include "model.h"
#include "safetensors.h"

/* The net of the seeds: CIFAR stem, one basic block of 4 filters, 3 classes. */
static const char fuzz_st_spec[] =
    "{\"block\": \"basic\", \"stages\": [1], \"widths\": [4], \"stem\": \"cifar\", "
    "\"classes\": 3, \"input\": [8, 8, 3]}";

/* An in-memory file holding `size` bytes, named by its /proc path. */
static int fuzz_memfd(int *fd, char path[64], const void *data, size_t size)
{
    if (*fd < 0) {
        if ((*fd = memfd_create("fuzz", MFD_CLOEXEC)) < 0)
            return -1;
        snprintf(path, 64, "/proc/self/fd/%d", *fd);
    }
    return ftruncate(*fd, 0) != 0 || (size && pwrite(*fd, data, size, 0) != (ssize_t)size) ? -1
                                                                                            : 0;
}

/* The harness's model with the weights at `path`, as classify opens one. */
static int fuzz_st_open(struct model **m, const char *path, struct err *e)
{
    static int fd = -1;
    static char spec[64];
    if (fd < 0 && fuzz_memfd(&fd, spec, fuzz_st_spec, strlen(fuzz_st_spec))) {
        perror("writing the spec's memfd");
        abort();
    }
    const struct model_opts o = {.model = spec, .weights = path, .no_cache = 1, .no_tuning = 1,
                                 .no_labels = 1};
    return model_open(m, &o, e);
}

static void fuzz_safetensors(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fuzz_memfd(&fd, path, data, size)) {
        perror("writing the memfd");
        abort();
    }

    struct st_file f;
    struct err e = {{0}};
    int rc = st_open(path, &f, &e);
    if (rc != 0) {
        FUZZ_PROMISE(rc == -1 && fuzz_one_line(e.msg, path) && f.map == NULL && f.tensor == NULL,
                     "st_open: %d \"%s\"", rc, e.msg);
        return;
    }
    FUZZ_PROMISE(f.size == size && f.n >= 0, "st_open: size %zu of %zu, %d tensors", f.size, size, f.n);
    unsigned sum = 0;
    for (int i = 0; i < f.n; i++) {
        const struct st_tensor *t = &f.tensor[i];
        FUZZ_PROMISE(t->data >= f.map + 8 && t->nbytes <= (size_t)(f.map + f.size - t->data),
                     "tensor %s: %zu bytes at offset %td of a %zu-byte file", t->name, t->nbytes,
                     t->data - f.map, f.size);
        FUZZ_PROMISE(t->ndim >= 0 && t->ndim <= ST_MAX_DIMS, "tensor %s: %d dimensions", t->name, t->ndim);
        for (size_t k = 0; k < t->nbytes; k++)
            sum += t->data[k];
        const struct st_tensor *found = st_find(&f, t->name);
        FUZZ_PROMISE(found && !strcmp(found->name, t->name), "st_find(%s) lost it", t->name);
    }
    (void)sum;
    st_close(&f);

    struct model *m;
    rc = fuzz_st_open(&m, path, &e);
    if (rc == 0) {
        static const float input[3 * 8 * 8];
        const float *p = model_run(m, input);
        FUZZ_PROMISE(p != NULL && m->net.arch.classes == 3, "model_run: %p, %d classes",
                     (const void *)p, m->net.arch.classes);
        model_close(m);
    } else {
        FUZZ_PROMISE(rc == -1 && m == NULL && fuzz_one_line(e.msg, NULL), "model_open: %d \"%s\"",
                     rc, e.msg);
    }
}

FUZZ_ENTRY(fuzz_safetensors)
