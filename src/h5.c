/* h5.c -- h5_read: a Keras HDF5 file read in a child process (see h5.h for
 * the layout; h5_layout.c reads it and owns the h5_file it gives).
 *
 * libhdf5 1.10 can crash, or loop, on a corrupted file (about one in 150
 * random bit flips of a Keras file did, inside the library).  So h5_read
 * forks; the child reads the file with libhdf5 (h5_layout.c) and sends the
 * result up a pipe, and the parent rebuilds it: a crash becomes an error
 * line naming the file, and a child silent for longer than the file could
 * take is killed.  The stream: int32 status; on error the message, else the
 * h5_file's fields, then per layer its name and weights (name, ndim, shape,
 * count, floats).  Strings are an int32 length and the bytes. */
#include "h5.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "h5_layout.h"

struct sender {
    FILE *out;
    int ok;
};

static void put(struct sender *s, const void *p, size_t n)
{
    if (s->ok && n && fwrite(p, 1, n, s->out) != n)
        s->ok = 0;
}

static void put_i32(struct sender *s, int32_t v) { put(s, &v, sizeof v); }
static void put_i64(struct sender *s, int64_t v) { put(s, &v, sizeof v); }

static void put_str(struct sender *s, const char *str)
{
    int32_t n = (int32_t)strlen(str);
    put_i32(s, n);
    put(s, str, (size_t)n);
}

static void send_result(int fd, int rc, const struct h5_file *f, const struct err *e)
{
    struct sender s = {fdopen(fd, "wb"), 1};
    if (!s.out)
        return;
    put_i32(&s, rc);
    if (rc < 0) {
        put_str(&s, e->msg);
    } else {
        put_i32(&s, f->n_layers), put_i32(&s, f->n_weighted), put_i32(&s, f->model_weights);
        put_i64(&s, f->total_bytes);
        put_str(&s, f->backend), put_str(&s, f->keras_version);
        for (int i = 0; i < f->n_layers; i++) {
            const struct h5_layer *l = &f->layer[i];
            put_str(&s, l->name);
            put_i32(&s, l->n_weights);
            for (int j = 0; j < l->n_weights; j++) {
                const struct h5_weight *w = &l->w[j];
                put_str(&s, w->name);
                put_i32(&s, w->ndim);
                put(&s, w->shape, sizeof w->shape);
                put_i64(&s, w->count);
                put(&s, w->data, (size_t)w->count * sizeof(float));
            }
        }
    }
    fclose(s.out);
}

struct receiver {
    int fd;
    int timeout_ms;       /* the longest silence allowed */
    int failed;           /* 1: the stream ended or broke off; 2: the child went silent */
};

static void get(struct receiver *r, void *p, size_t n)
{
    for (char *c = p; n && !r->failed;) {
        struct pollfd pfd = {r->fd, POLLIN, 0};
        int ready = poll(&pfd, 1, r->timeout_ms);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready == 0) {
            r->failed = 2;
            break;
        }
        ssize_t got = ready < 0 ? -1 : read(r->fd, c, n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            r->failed = 1;
            break;
        }
        c += got, n -= (size_t)got;
    }
}

static int32_t get_i32(struct receiver *r) { int32_t v = 0; get(r, &v, sizeof v); return v; }
static int64_t get_i64(struct receiver *r) { int64_t v = 0; get(r, &v, sizeof v); return v; }

/* A string of at most `max` bytes, or NULL (out of memory, or a broken stream). */
static char *get_str(struct receiver *r, int32_t max)
{
    int32_t n = get_i32(r);
    if (r->failed || n < 0 || n > max) {
        r->failed = r->failed ? r->failed : 1;
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (!s) {
        r->failed = 1;
        return NULL;
    }
    get(r, s, (size_t)n);
    s[n] = 0;
    return s;
}

/* Rebuild the child's result; 0, or -1 with the child's own error in e,
 * or 1 when the stream broke off (r->failed says how). */
static int receive_result(struct receiver *r, struct h5_file *f, struct err *e)
{
    int32_t rc = get_i32(r);
    if (r->failed)
        return 1;
    if (rc < 0) {
        char *msg = get_str(r, (int32_t)sizeof e->msg);
        if (!msg)
            return 1;
        err_set(e, "%s", msg);
        free(msg);
        return -1;
    }
    const int32_t max_name = 1 << 20;
    f->n_layers = get_i32(r), f->n_weighted = get_i32(r), f->model_weights = get_i32(r);
    f->total_bytes = get_i64(r);
    f->backend = get_str(r, max_name);
    f->keras_version = get_str(r, max_name);
    if (r->failed || f->n_layers < 0 || f->n_layers > (1 << 24) ||
        !(f->layer = calloc((size_t)f->n_layers + 1, sizeof *f->layer)))
        return r->failed = 1;
    int layers = f->n_layers;
    f->n_layers = 0;   /* counts what h5_free must free */
    for (int i = 0; i < layers && !r->failed; i++) {
        struct h5_layer *l = &f->layer[f->n_layers++];
        l->name = get_str(r, max_name);
        int32_t nw = get_i32(r);
        if (r->failed || nw < 0 || nw > (1 << 16) ||
            !(l->w = calloc((size_t)nw + 1, sizeof *l->w)))
            return r->failed = 1;
        for (int j = 0; j < nw && !r->failed; j++) {
            struct h5_weight *w = &l->w[l->n_weights++];
            w->name = get_str(r, max_name);
            w->ndim = get_i32(r);
            get(r, w->shape, sizeof w->shape);
            w->count = get_i64(r);
            if (r->failed || w->count < 0 || (uint64_t)w->count > H5_MAX_BYTES / sizeof(float) ||
                !(w->data = malloc((size_t)w->count * sizeof(float) + 1)))
                return r->failed = 1;
            get(r, w->data, (size_t)w->count * sizeof(float));
        }
    }
    return r->failed ? 1 : 0;
}

int h5_read(const char *path, struct h5_file *f, struct err *e)
{
    memset(f, 0, sizeof *f);
    f->path = path;

    /* The plain cases in the words of the OS, before libhdf5 words them
     * (and before forking for them). */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(e, "%s: %s", path, strerror(errno));
    struct stat sb;
    int st = fstat(fd, &sb), st_errno = errno;
    close(fd);
    if (st < 0)
        return err_set(e, "%s: %s", path, strerror(st_errno));
    if (S_ISDIR(sb.st_mode))
        return err_set(e, "%s: is a directory, not a Keras .h5 weight file", path);
    if (!S_ISREG(sb.st_mode))
        return err_set(e, "%s: not a regular file", path);

    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return err_set(e, "%s: cannot make a pipe (%s)", path, strerror(errno));
    fflush(NULL);   /* nothing buffered may be written twice */
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]), close(p[1]);
        return err_set(e, "%s: cannot fork to read it (%s)", path, strerror(errno));
    }
    if (pid == 0) {
        close(p[0]);
        struct h5_file cf;
        struct err ce;
        int rc = h5_layout_read(path, &cf, &ce);
        send_result(p[1], rc, &cf, &ce);
        _exit(0);
    }
    close(p[1]);
    /* Reading takes time in proportion to the file: allow 30 s of silence,
     * and a second more per 10 MB, before calling it a hang. */
    long long ms = 30000 + (long long)sb.st_size / 10000;
    struct receiver r = {p[0], ms > INT32_MAX ? INT32_MAX : (int)ms, 0};
    int rc = receive_result(&r, f, e);
    close(p[0]);
    if (r.failed == 2)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (rc == 0) {
        f->path = path;
        return 0;
    }
    h5_free(f);
    f->path = path;
    if (rc < 0)
        return -1;
    if (r.failed == 2)
        return err_set(e, "%s: libhdf5 hung reading it (stopped after %lld s): a corrupt file?",
                       path, ms / 1000);
    if (WIFSIGNALED(status))
        return err_set(e, "%s: libhdf5 crashed reading it (%s): a corrupt file?", path,
                       strsignal(WTERMSIG(status)));
    return err_set(e, "%s: the process reading it with libhdf5 ended (status %d) without an "
                   "answer", path, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}
