/* fuzz_safetensors.c -- bytes -> a .safetensors file -> st_open -> weights_load.
 *
 * st_open maps a file, so the input is written to an in-memory file
 * (memfd) and opened by its /proc path: the product's own open, fstat and
 * mmap run.  A header that claims sizes or offsets past the end must be an
 * error naming the file; an accepted file must only point inside its
 * mapping (every tensor byte is read, so a stray pointer faults), and
 * loading it onto a small net must either fill the net or fail cleanly.
 * Seeds: tests/fuzz/seeds/safetensors (that net in F32, F16, BF16). */
#include "fuzz.h"

#include <sys/mman.h>
#include <unistd.h>

#include "net.h"
#include "safetensors.h"
#include "spec.h"
#include "weights.h"

/* The net of the seeds: CIFAR stem, one basic block of 4 filters, 3 classes. */
static const char fuzz_st_spec[] =
    "{\"block\": \"basic\", \"stages\": [1], \"widths\": [4], \"stem\": \"cifar\", "
    "\"classes\": 3, \"input\": [8, 8, 3]}";

static void fuzz_safetensors(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz.safetensors", MFD_CLOEXEC);
        if (fd < 0) {
            perror("memfd_create");
            abort();
        }
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size)) {
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

    struct arch a;
    struct net n;
    memset(&n, 0, sizeof n);
    if (spec_parse(fuzz_st_spec, "fuzz-net", NULL, &a, &e) != 0 || net_build(&a, &n, &e) != 0) {
        fprintf(stderr, "the harness's own net does not build: %s\n", e.msg);
        abort();
    }
    rc = weights_load(&n, path, &e);
    if (rc == 0) {
        for (int i = 0; i < n.n_layers; i++) {
            const struct layer *l = &n.layer[i];
            long nw = net_weight_count(l), nb = net_bias_count(l);
            for (long k = 0; l->w && k < nw; k++)
                sum += l->w[k] != 0.0f;
            for (long k = 0; l->b && k < nb; k++)
                sum += l->b[k] != 0.0f;
        }
    } else {
        FUZZ_PROMISE(rc == -1 && fuzz_one_line(e.msg, NULL), "weights_load: %d \"%s\"", rc, e.msg);
    }
    net_free(&n);
}

FUZZ_ENTRY(fuzz_safetensors)
