/* pipeline.c -- paths -> decoded, preprocessed batches, one batch ahead.
 *
 * One producer thread walks the operands in order, decodes each image into
 * a slot of the batch it is filling, and hands the batch over when it is
 * full, when the input ends, or when standard input has nothing more to
 * read yet (so a slow `find | resnet classify -` still streams).  Two batch
 * buffers alternate: the network reads one while the next one is decoded. */
#include "pipeline.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "preprocess.h"

/* One path to classify, or the reason an operand could not be listed. */
struct entry {
    char *path;
    char *error;   /* NULL, or why this operand failed (reported in its place) */
};

struct operand {
    int is_stdin;
    struct entry *e;   /* [n] for files and directories */
    long n, cap;
};

struct stdin_reader {
    char buf[1 << 16];
    size_t len;      /* bytes in buf */
    int eof;
    char *line;      /* the current path being assembled */
    size_t line_len, line_cap;
};

enum buf_state { BUF_FREE, BUF_READY };

struct pipeline {
    const struct arch *a;
    struct pipe_opts o;
    struct operand *op;
    int n_ops;
    long total;
    size_t image_floats;          /* 3 * in_h * in_w */

    struct pipe_batch buf[2];
    enum buf_state state[2];
    int consumer_buf;             /* buffer the caller holds, -1 none */
    int next_buf;                 /* buffer the caller gets next */
    int producer_done, stop;
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct stdin_reader in;
};

/* --- listing the operands --- */

static int push(struct operand *o, char *path, char *error)
{
    if (o->n == o->cap) {
        long cap = o->cap ? 2 * o->cap : 16;
        struct entry *e = realloc(o->e, (size_t)cap * sizeof *e);
        if (!e) {
            free(path);
            free(error);
            return -1;
        }
        o->e = e;
        o->cap = cap;
    }
    o->e[o->n++] = (struct entry){path, error};
    return 0;
}

/* Whether a file's first bytes are a JPEG or PNG signature. */
static int looks_like_image(const char *path)
{
    unsigned char head[IMG_FORMAT_BYTES];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, head, sizeof head);
    close(fd);
    return n > 0 && img_format_of(head, (size_t)n) != IMG_UNKNOWN;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir);
    int slash = n > 0 && dir[n - 1] == '/';
    char *p = malloc(n + strlen(name) + 2);
    if (p)
        sprintf(p, "%s%s%s", dir, slash ? "" : "/", name);
    return p;
}

/* Images in a directory, sorted by name; subdirectories in place when
 * recursive.  Files that are not JPEG or PNG by content are skipped. */
static int list_dir(struct operand *o, const char *dir, int recursive, int depth)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, by_name);
    if (n < 0) {
        char msg[ERR_LEN];
        snprintf(msg, sizeof msg, "%s: cannot read directory: %s", dir, strerror(errno));
        return push(o, strdup(dir), strdup(msg));
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        char *path = (rc || !strcmp(name, ".") || !strcmp(name, "..")) ? NULL : join(dir, name);
        struct stat st;
        if (path && stat(path, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                /* 64 levels: deeper is a symlink loop, not a photo library */
                if (recursive && depth < 64)
                    rc = list_dir(o, path, recursive, depth + 1);
            } else if (S_ISREG(st.st_mode) && looks_like_image(path)) {
                rc = push(o, path, NULL);
                path = NULL;
            }
        }
        free(path);
        free(names[i]);
    }
    free(names);
    return rc;
}

/* --- standard input, one path at a time, without blocking needlessly --- */

/* 1 when a whole path is already buffered or at end of input, so reading
 * the next one will not wait on the writer. */
static int stdin_ready(struct stdin_reader *r, int delim)
{
    if (r->eof || memchr(r->buf, delim, r->len))
        return 1;
    struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
    return poll(&pfd, 1, 0) > 0;
}

/* The next non-empty path from stdin, or NULL at the end (or on stop). */
static char *stdin_next(struct pipeline *p)
{
    struct stdin_reader *r = &p->in;
    int delim = p->o.nul ? '\0' : '\n';
    for (;;) {
        char *end = memchr(r->buf, delim, r->len);
        size_t take = end ? (size_t)(end - r->buf) : r->len;
        if (r->line_len + take + 1 > r->line_cap) {
            size_t cap = 2 * (r->line_len + take + 1);
            char *l = realloc(r->line, cap);
            if (!l)
                return NULL;
            r->line = l;
            r->line_cap = cap;
        }
        memcpy(r->line + r->line_len, r->buf, take);
        r->line_len += take;
        size_t used = end ? take + 1 : take;
        memmove(r->buf, r->buf + used, r->len - used);
        r->len -= used;
        if (end || (r->eof && r->line_len)) {
            r->line[r->line_len] = 0;
            if (!p->o.nul)
                while (r->line_len && r->line[r->line_len - 1] == '\r')
                    r->line[--r->line_len] = 0;
            size_t len = r->line_len;
            r->line_len = 0;
            if (len)
                return strdup(r->line);
            continue;
        }
        if (r->eof)
            return NULL;
        /* Wait for more, waking now and then to see if the caller quit. */
        struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
        int ready = poll(&pfd, 1, 100);
        pthread_mutex_lock(&p->mu);
        int stop = p->stop;
        pthread_mutex_unlock(&p->mu);
        if (stop)
            return NULL;
        if (ready <= 0)
            continue;
        ssize_t n = read(STDIN_FILENO, r->buf + r->len, sizeof r->buf - r->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            r->eof = 1;
        else
            r->len += (size_t)n;
    }
}

/* --- the producer --- */

static void fill_slot(struct pipeline *p, struct pipe_batch *b, char *path, const char *error)
{
    struct pipe_slot *s = &b->slot[b->n];
    float *dst = b->input + (size_t)b->n * p->image_floats;
    struct err e;
    s->path = path;
    s->failed = 0;
    if (error) {
        snprintf(s->error, sizeof s->error, "%s", error);
        s->failed = 1;
    } else if (img_file_to_tensor(path, &p->a->pre, p->a->in_h, p->a->in_w, dst, &e)) {
        snprintf(s->error, sizeof s->error, "%s", e.msg);
        s->failed = 1;
    }
    if (s->failed)
        memset(dst, 0, p->image_floats * sizeof *dst);
    b->n++;
}

/* Wait for buffer k to be free and start filling it; 0, or -1 on stop. */
static int take_buffer(struct pipeline *p, int k)
{
    pthread_mutex_lock(&p->mu);
    while (p->state[k] != BUF_FREE && !p->stop)
        pthread_cond_wait(&p->cv, &p->mu);
    int stop = p->stop;
    pthread_mutex_unlock(&p->mu);
    if (stop)
        return -1;
    for (int i = 0; i < p->buf[k].n; i++)
        free(p->buf[k].slot[i].path);
    p->buf[k].n = 0;
    return 0;
}

static void publish(struct pipeline *p, int k)
{
    pthread_mutex_lock(&p->mu);
    p->state[k] = BUF_READY;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static void *produce(void *arg)
{
    struct pipeline *p = arg;
    int k = 0;
    int delim = p->o.nul ? '\0' : '\n';
    if (take_buffer(p, k))
        goto done;
    for (int i = 0; i < p->n_ops; i++) {
        struct operand *o = &p->op[i];
        for (long j = 0; o->is_stdin || j < o->n; j++) {
            char *path, *error = NULL;
            if (o->is_stdin) {
                /* Hand over what is decoded before waiting on the writer. */
                if (p->buf[k].n && !stdin_ready(&p->in, delim)) {
                    publish(p, k);
                    if (take_buffer(p, k ^= 1))
                        goto done;
                }
                if (!(path = stdin_next(p)))
                    break;
            } else {
                path = o->e[j].path;
                error = o->e[j].error;
                o->e[j].path = NULL;
            }
            fill_slot(p, &p->buf[k], path, error);
            if (p->buf[k].n == p->o.batch) {
                publish(p, k);
                if (take_buffer(p, k ^= 1))
                    goto done;
            }
        }
    }
    if (p->buf[k].n)
        publish(p, k);
done:
    pthread_mutex_lock(&p->mu);
    p->producer_done = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* --- the caller's side --- */

int pipe_open(struct pipeline **out, char *const *paths, int n_paths, const struct arch *a,
              const struct pipe_opts *o, struct err *e)
{
    *out = NULL;
    struct pipeline *p = calloc(1, sizeof *p);
    if (!p)
        return err_set(e, "out of memory");
    p->a = a;
    p->o = *o;
    p->consumer_buf = -1;
    p->image_floats = (size_t)3 * a->in_h * a->in_w;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->op = calloc((size_t)n_paths, sizeof *p->op);
    if (!p->op)
        goto oom;
    p->n_ops = n_paths;
    for (int i = 0; i < n_paths; i++) {
        struct operand *op = &p->op[i];
        struct stat st;
        if (!strcmp(paths[i], "-")) {
            op->is_stdin = 1;
            p->total = -1;
        } else if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            if (list_dir(op, paths[i], o->recursive, 0))
                goto oom;
        } else if (push(op, strdup(paths[i]), NULL)) {
            goto oom;
        }
        if (p->total >= 0)
            p->total += op->n;
    }
    for (int k = 0; k < 2; k++) {
        p->buf[k].slot = calloc((size_t)o->batch, sizeof *p->buf[k].slot);
        p->buf[k].input = calloc((size_t)o->batch * p->image_floats, sizeof(float));
        if (!p->buf[k].slot || !p->buf[k].input)
            goto oom;
    }
    if (pthread_create(&p->thread, NULL, produce, p) != 0) {
        pipe_close(p);
        return err_set(e, "cannot start the decoding thread");
    }
    p->started = 1;
    *out = p;
    return 0;
oom:
    pipe_close(p);
    return err_set(e, "out of memory listing the images");
}

long pipe_total(const struct pipeline *p)
{
    return p->total;
}

const struct pipe_batch *pipe_next(struct pipeline *p)
{
    pthread_mutex_lock(&p->mu);
    if (p->consumer_buf >= 0) {
        p->state[p->consumer_buf] = BUF_FREE;
        p->consumer_buf = -1;
        pthread_cond_broadcast(&p->cv);
    }
    int k = p->next_buf;
    while (p->state[k] != BUF_READY && !p->producer_done)
        pthread_cond_wait(&p->cv, &p->mu);
    const struct pipe_batch *b = NULL;
    if (p->state[k] == BUF_READY) {
        p->consumer_buf = k;
        p->next_buf = k ^ 1;
        b = &p->buf[k];
    }
    pthread_mutex_unlock(&p->mu);
    return b;
}

void pipe_close(struct pipeline *p)
{
    if (!p)
        return;
    if (p->started) {
        pthread_mutex_lock(&p->mu);
        p->stop = 1;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->thread, NULL);
    }
    for (int i = 0; p->op && i < p->n_ops; i++) {
        for (long j = 0; j < p->op[i].n; j++) {
            free(p->op[i].e[j].path);
            free(p->op[i].e[j].error);
        }
        free(p->op[i].e);
    }
    free(p->op);
    for (int k = 0; k < 2; k++) {
        for (int i = 0; p->buf[k].slot && i < p->buf[k].n; i++)
            free(p->buf[k].slot[i].path);
        free(p->buf[k].slot);
        free(p->buf[k].input);
    }
    free(p->in.line);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}
