/* tune.c -- measuring and keeping each convolution shape's fastest cut
 * (see tune.h). */
#include "tune.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "cache.h"
#include "cpu_caches.h"
#include "winograd.h"

#define MAX_TILINGS 16
/* A candidate replaces the kernel's own cut only when it is this much
 * faster: smaller differences are the machine's noise, and the own cut is
 * the one every other process without a tuning file runs. */
#define BETTER 0.97

/* The binary that measured: another build's kernels may differ. */
static void exe_stamp(char out[64])
{
    struct stat st;
    if (stat("/proc/self/exe", &st) != 0)
        memset(&st, 0, sizeof st);
    snprintf(out, 64, "%llu.%llu.%lld.%09ld", (unsigned long long)st.st_ino,
             (unsigned long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

/* "AMD EPYC, family 26 model 2 stepping 1": what decides which cut wins. */
static void cpu_name(char out[160])
{
    char line[256], name[96] = "unknown", fam[16] = "?", mod[16] = "?", step[16] = "?";
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f) && line[0] != '\n') {
        char *v = strchr(line, ':');
        if (!v)
            continue;
        v += strspn(v + 1, " \t") + 1;
        v[strcspn(v, "\n")] = 0;
        if (!strncmp(line, "model name", 10))
            snprintf(name, sizeof name, "%s", v);
        else if (!strncmp(line, "cpu family", 10))
            snprintf(fam, sizeof fam, "%s", v);
        else if (!strncmp(line, "model\t", 6))
            snprintf(mod, sizeof mod, "%s", v);
        else if (!strncmp(line, "stepping", 8))
            snprintf(step, sizeof step, "%s", v);
    }
    if (f)
        fclose(f);
    snprintf(out, 160, "%s, family %s model %s stepping %s", name, fam, mod, step);
}

static int parse_row(const char *line, struct tune_row *r)
{
    const char *bar = strstr(line, " | ");
    if (!bar || bar - line >= (long)sizeof r->key)
        return 0;
    memcpy(r->key, line, (size_t)(bar - line));
    r->key[bar - line] = 0;
    struct conv_tiling *t = &r->c.tiling;
    return sscanf(bar + 3, "ocb %d chunk %d bands %d order %d wino %d", &t->ocb, &t->chunk,
                  &t->bands, &t->order, &r->c.wino) == 5;
}

static struct tune_row *add_row(struct tune *t)
{
    if (t->n == t->cap) {
        const int more = t->cap ? 2 * t->cap : 64;
        struct tune_row *r = realloc(t->row, (size_t)more * sizeof *r);
        if (!r)
            return NULL;
        t->row = r, t->cap = more;
    }
    return &t->row[t->n++];
}

void tune_open(struct tune *t)
{
    memset(t, 0, sizeof *t);
    char dir[PATH_MAX], cpu[160], exe[64], line[256];
    struct err e;
    if (cache_dir(dir, sizeof dir, &e))
        return;
    cpu_name(cpu);
    exe_stamp(exe);
    snprintf(t->header, sizeof t->header, "resnet-tuning 1 %s %s\n", exe, cpu);
    char base[24];
    snprintf(base, sizeof base, "%.20s", cpu);
    for (char *c = base; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
            *c = '-';
    const unsigned long h = crc32(0L, (const Bytef *)cpu, (uInt)strlen(cpu));
    int len = snprintf(t->path, sizeof t->path, "%s/tuning/%s.%08lx.tune", dir, base, h);
    if (len < 0 || (size_t)len >= sizeof t->path) {
        t->path[0] = 0;
        return;
    }
    /* Measure only what can be kept: else every process would pay for it. */
    char sub[PATH_MAX + 8];
    snprintf(sub, sizeof sub, "%s/tuning", dir);
    t->measure = cache_make_dir(sub, &e) == 0 && access(sub, W_OK) == 0;
    FILE *f = fopen(t->path, "r");
    if (!f)
        return;
    if (fgets(line, sizeof line, f) && !strcmp(line, t->header))
        while (fgets(line, sizeof line, f)) {
            struct tune_row r;
            struct tune_row *slot;
            if (parse_row(line, &r) && (slot = add_row(t)))
                *slot = r;
        }
    fclose(f);
}

void tune_close(struct tune *t)
{
    char tmp[PATH_MAX + 32];
    /* rows are measured only where tune_open could make the folder */
    if (t->changed && t->path[0]) {
        snprintf(tmp, sizeof tmp, "%s.%ld.tmp", t->path, (long)getpid());
        FILE *f = fopen(tmp, "w");
        if (f) {
            fputs(t->header, f);
            for (int i = 0; i < t->n; i++) {
                const struct conv_tiling *c = &t->row[i].c.tiling;
                fprintf(f, "%s | ocb %d chunk %d bands %d order %d wino %d\n", t->row[i].key,
                        c->ocb, c->chunk, c->bands, c->order, t->row[i].c.wino);
            }
            const int bad = ferror(f);
            if (fclose(f) != 0 || bad || rename(tmp, t->path) != 0)
                unlink(tmp);
        }
    }
    free(t->row);
    memset(t, 0, sizeof *t);
}

static void tune_key(char out[128], const struct kernels *k, const struct conv_args *a,
                     int residual, int threads)
{
    snprintf(out, 128, "%s t%d n%d %dx%dx%d+%d -> %dx%dx%d+%d k%d s%d p%d,%d res%d relu%d",
             k->name, threads, a->n, a->in.c, a->in.h, a->in.w, a->in.halo, a->out.c, a->out.h,
             a->out.w, a->out.halo, a->k, a->stride, a->pad_t, a->pad_l, residual, a->relu);
}

static float *zeros(size_t floats)
{
    const size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes ? bytes : 64);
    if (p)
        memset(p, 0, bytes);
    return p;
}

/* The buffers of one run of the shape, all zeros: a value that is 0 is
 * as fast to multiply as any other, and never a slow denormal. */
struct bench_bufs {
    float *in, *out, *res, *w, *b, *scratch;
};

static void free_bufs(struct bench_bufs *b)
{
    free(b->in), free(b->out), free(b->res), free(b->w), free(b->b), free(b->scratch);
}

/* Copies of the weights, taken in turn.  In the network a layer's weights
 * were last read a whole forward pass ago, from memory (resnet50's are
 * 100 MB); here, with one copy, they would stay in cache from one run to the
 * next and favour the cuts (and Winograd's four times larger weights) that
 * read them more.  Copies that add up to twice the L3 keep them as cold as
 * in the network; the activations stay warm, as a layer's input is. */
struct weight_ring {
    float *base;
    size_t stride;   /* floats from one copy to the next */
    int copies, next;
};

/* One timed run of candidate c (a cut; Winograd when wp), in seconds. */
static double run_once(const struct kernels *k, struct conv_args *a, const struct conv_tiling *c,
                       const struct wino_plan *wp, float *scratch, struct weight_ring *w)
{
    a->w = w->base + (size_t)w->next * w->stride;
    w->next = (w->next + 1) % w->copies;
    const double t0 = omp_get_wtime();
    if (wp) {
        a->tiling = (struct conv_tiling){0};
        k->wino(a, wp, scratch);
    } else {
        a->tiling = *c;
        k->conv(a);
    }
    return omp_get_wtime() - t0;
}

/* The fastest run of each of n candidates (the last one Winograd when wp),
 * into best[].  The machine is shared and noisy: the candidates take turns,
 * ROUNDS times a few runs each (about 2 ms), so that a slow spell slows
 * them all, and each keeps its fastest run. */
#define ROUNDS 3
static void time_candidates(const struct kernels *k, struct conv_args *a,
                            const struct conv_tiling *c, int n, const struct wino_plan *wp,
                            float *scratch, struct weight_ring *w, double *best)
{
    int reps[MAX_TILINGS + 2];
    for (int i = 0; i < n; i++) {
        const int wino = wp && i == n - 1;
        run_once(k, a, &c[i], wino ? wp : NULL, scratch, w);   /* code and activations warm */
        const double t = run_once(k, a, &c[i], wino ? wp : NULL, scratch, w);
        best[i] = t;
        reps[i] = t > 0.002 ? 1 : t < 0.0002 ? 10 : (int)(0.002 / t);
    }
    for (int r = 0; r < ROUNDS; r++)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < reps[i]; j++) {
                const int wino = wp && i == n - 1;
                const double t = run_once(k, a, &c[i], wino ? wp : NULL, scratch, w);
                best[i] = t < best[i] ? t : best[i];
            }
}

/* Time the shape's candidate cuts and, if asked, Winograd; 0 when there is
 * nothing to choose or no memory to run it (the kernel's own cut stays). */
static int measure(const struct kernels *k, const struct conv_args *shape, int residual,
                   int threads, int winograd, struct tune_choice *out)
{
    struct conv_tiling cand[MAX_TILINGS + 2];
    int n = k->conv_tilings ? k->conv_tilings(shape, threads, cand, MAX_TILINGS) : 0;
    struct wino_plan wp;
    const int wino = winograd && wino_applies(shape->k, shape->stride) &&
                     wino_plan(shape, threads, &wp);
    if (n < 1 || (n < 2 && !wino))
        return 0;
    struct conv_args a = *shape;
    size_t w_floats = conv_packed_floats(a.out.c, a.in.c, a.k);
    if (wino && wino_packed_floats(a.out.c, a.in.c) > w_floats)
        w_floats = wino_packed_floats(a.out.c, a.in.c);
    struct weight_ring ring = {.stride = (w_floats + 15) / 16 * 16};
    const size_t cold = 2 * cpu_l3_bytes() / sizeof(float);
    ring.copies = (int)((cold + ring.stride - 1) / ring.stride);
    ring.copies = ring.copies < 1 ? 1 : ring.copies > 64 ? 64 : ring.copies;
    struct bench_bufs b = {
        zeros(blk_floats(&a.in, a.n)), zeros(blk_floats(&a.out, a.n)),
        residual ? zeros(blk_floats(&a.out, a.n)) : NULL, zeros(ring.copies * ring.stride),
        zeros((size_t)blk_cb(&a.out) * BLK), wino ? zeros(wp.threads * wp.scratch_floats) : NULL,
    };
    if (!b.in || !b.out || (residual && !b.res) || !b.w || !b.b || (wino && !b.scratch)) {
        free_bufs(&b);
        return 0;
    }
    a.in.p = b.in + blk_origin(&a.in);
    a.out.p = b.out + blk_origin(&a.out);
    if (residual)
        a.res = a.out, a.res.p = b.res + blk_origin(&a.out);
    a.b = b.b, ring.base = b.w;

    /* cand[0] is the kernel's own cut, the others vary one field of it:
     * every variation that gains goes into one more candidate, all of them
     * together; Winograd last. */
    const struct conv_tiling *own = &cand[0];
    struct conv_tiling mix = *own;
    double t[MAX_TILINGS + 2];
    time_candidates(k, &a, cand, n, NULL, NULL, &ring, t);
    int gained = 0, best = 0;
    for (int i = 1; i < n; i++) {
        if (t[i] >= t[0] * BETTER)
            continue;
        const struct conv_tiling *c = &cand[i];
        gained++;
        mix.ocb = c->ocb != own->ocb ? c->ocb : mix.ocb;
        mix.chunk = c->chunk != own->chunk ? c->chunk : mix.chunk;
        mix.bands = c->bands != own->bands ? c->bands : mix.bands;
        mix.order = c->order != own->order ? c->order : mix.order;
        best = t[i] < t[best] ? i : best;
    }
    /* the final round: own, the best variation, the mix, then Winograd */
    struct conv_tiling last[4] = {*own};
    int m = 1;
    if (gained)
        last[m++] = cand[best];
    if (gained > 1)
        last[m++] = mix;
    int pick = 0;
    if (m > 1 || wino) {
        last[m] = (struct conv_tiling){0};
        time_candidates(k, &a, last, m + wino, wino ? &wp : NULL, b.scratch, &ring, t);
        for (int i = 1; i < m; i++)
            pick = t[i] < t[pick] * BETTER ? i : pick;
    }
    out->tiling = last[pick];
    out->wino = wino ? t[m] < t[pick] * BETTER : winograd ? 0 : -1;   /* 0: it does not apply */
    free_bufs(&b);
    return 1;
}

void tune_conv(struct tune *t, const struct kernels *k, const struct conv_args *a, int residual,
               int threads, int winograd, struct tune_choice *out)
{
    char key[128];
    tune_key(key, k, a, residual, threads);
    struct tune_row *r = NULL;
    for (int i = 0; i < t->n && !r; i++)
        if (!strcmp(t->row[i].key, key))
            r = &t->row[i];
    if (r && (!winograd || r->c.wino >= 0)) {
        *out = r->c;
        return;
    }
    *out = (struct tune_choice){.wino = -1};
    if (!t->measure || !measure(k, a, residual, threads, winograd, out))
        return;
    if (r || (r = add_row(t))) {
        snprintf(r->key, sizeof r->key, "%s", key);
        r->c = *out;
        t->changed = 1;
    }
}
