/* fetch.c -- download the published weights of a model into the cache.
 *
 * The flow of one `resnet fetch resnet50`:
 *   weight set (table below)  ->  URL (RESNET_FETCH_BASE may replace its
 *   scheme and host)  ->  CACHE/resnet50.tv2.part, appended to, resumed with
 *   a Range request when a previous run left part of it  ->  its SHA-256
 *   (checked against --sha256's)  ->  loaded into resnet50's net, every
 *   tensor checked  ->  sidecar written (the SHA-256 in it), then both
 *   renamed into place: CACHE/resnet50.safetensors(.json).
 * A file that does not load, or is not the one --sha256 names, is deleted,
 * so the cache only ever holds weights that fit their model; an interrupted
 * download stays as .part to resume.
 * libcurl is the HTTP client (redirects followed: Hugging Face answers with
 * a redirect to its CDN).  It is opened with dlopen when a download starts,
 * not linked: libcurl and the thirty libraries it pulls in (TLS, Kerberos,
 * LDAP, ...) would be loaded and relocated by every other resnet process. */
#include "fetch.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "net.h"
#include "cache.h"
#include "weights.h"

#ifndef RESNET_VERSION
#define RESNET_VERSION "0.0.0"
#endif

#define HF(repo) "https://huggingface.co/timm/" repo "/resolve/main/model.safetensors"
#define KERAS(file) "https://storage.googleapis.com/tensorflow/keras-applications/resnet/" file

/* Top-1 as each publisher states it: torchvision's model docs (V1, V2), the
 * timm model cards, the Keras Applications table.  torchvision's V2 sets are
 * evaluated with the shorter side resized to 232 (not 256) before the 224
 * crop; timm's a1 at 288x288 without a crop.  The filters are the
 * publishers' evaluation transforms: torchvision's Resize is bilinear,
 * timm's pretrained configs say bicubic for its a1/a1h sets, Keras's
 * load_img is nearest. */
#define TV "bilinear"
#define TIMM "bicubic"
static const struct fetch_set table[] = {
    {"resnet18", "tv", 1, HF("resnet18.tv_in1k"), "safetensors", 69.758, 0, 0, TV},
    {"resnet34", "tv", 1, HF("resnet34.tv_in1k"), "safetensors", 73.314, 0, 0, TV},
    {"resnet50", "tv2", 1, HF("resnet50.tv2_in1k"), "safetensors", 80.858, 0, 232, TV},
    {"resnet50", "a1", 0, HF("resnet50.a1_in1k"), "safetensors", 81.22, 288, 288, TIMM},
    {"resnet50", "tv", 0, HF("resnet50.tv_in1k"), "safetensors", 76.130, 0, 0, TV},
    {"resnet101", "tv2", 1, HF("resnet101.tv2_in1k"), "safetensors", 81.886, 0, 232, TV},
    {"resnet101", "tv", 0, HF("resnet101.tv_in1k"), "safetensors", 77.374, 0, 0, TV},
    {"resnet152", "tv2", 1, HF("resnet152.tv2_in1k"), "safetensors", 82.284, 0, 232, TV},
    {"resnet152", "tv", 0, HF("resnet152.tv_in1k"), "safetensors", 78.312, 0, 0, TV},
    {"timm_resnetv2_50", "a1h", 1, HF("resnetv2_50.a1h_in1k"), "safetensors", 0, 0, 0, TIMM},
    {"timm_resnetv2_101", "a1h", 1, HF("resnetv2_101.a1h_in1k"), "safetensors", 0, 0, 0, TIMM},
    {"keras_resnet50", "keras", 1, KERAS("resnet50_weights_tf_dim_ordering_tf_kernels.h5"),
     "h5", 74.9, 0, 0, "nearest"},
    {"keras_resnet101", "keras", 1, KERAS("resnet101_weights_tf_dim_ordering_tf_kernels.h5"),
     "h5", 76.4, 0, 0, "nearest"},
    {"keras_resnet152", "keras", 1, KERAS("resnet152_weights_tf_dim_ordering_tf_kernels.h5"),
     "h5", 76.6, 0, 0, "nearest"},
    {"keras_resnet50v2", "keras", 1, KERAS("resnet50v2_weights_tf_dim_ordering_tf_kernels.h5"),
     "h5", 76.0, 0, 0, "nearest"},
    {"keras_resnet101v2", "keras", 1, KERAS("resnet101v2_weights_tf_dim_ordering_tf_kernels.h5"),
     "h5", 77.2, 0, 0, "nearest"},
    {"keras_resnet152v2", "keras", 1, KERAS("resnet152v2_weights_tf_dim_ordering_tf_kernels.h5"),
     "h5", 78.0, 0, 0, "nearest"},
};
#undef TV
#undef TIMM
#define N_SETS (sizeof table / sizeof table[0])

const struct fetch_set *const *fetch_sets(void)
{
    static const struct fetch_set *list[N_SETS + 1];
    if (!list[0])
        for (size_t i = 0; i < N_SETS; i++)
            list[i] = &table[i];
    return list;
}

const struct fetch_set *fetch_default(const char *model)
{
    for (size_t i = 0; i < N_SETS; i++)
        if (table[i].is_default && !strcmp(table[i].model, model))
            return &table[i];
    return NULL;
}

const struct fetch_set *fetch_find(const char *arg, struct err *e)
{
    const char *colon = strchr(arg, ':');
    size_t ml = colon ? (size_t)(colon - arg) : strlen(arg);
    const struct fetch_set *any = NULL;
    for (size_t i = 0; i < N_SETS; i++) {
        const struct fetch_set *s = &table[i];
        if (strlen(s->model) != ml || strncmp(s->model, arg, ml))
            continue;
        any = s;
        if (colon ? !strcmp(s->set, colon + 1) : s->is_default)
            return s;
    }
    if (!any) {
        err_set(e, "no published weights known for \"%.*s\" (`resnet fetch --list` shows "
                "them; for a spec file give --url URL)", (int)ml, arg);
        return NULL;
    }
    char sets[256] = "";
    for (size_t i = 0; i < N_SETS; i++)
        if (!strcmp(table[i].model, any->model))
            snprintf(sets + strlen(sets), sizeof sets - strlen(sets), "%s%s",
                     sets[0] ? ", " : "", table[i].set);
    err_set(e, "%s has no weight set \"%s\" (it has: %s)", any->model, colon + 1, sets);
    return NULL;
}

/* ---- small file helpers ---- */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* FNV-1a: names the partial download of a --url, so that another URL never
 * resumes it. */
static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* RESNET_FETCH_BASE=http://mirror:8000 turns https://host/a/b into
 * http://mirror:8000/a/b: a mirror (or the tests' local server) that keeps
 * the publishers' paths. */
static void apply_base(const char *url, char *out, size_t outlen)
{
    const char *base = getenv("RESNET_FETCH_BASE");
    const char *host = strstr(url, "://");
    const char *path = host ? strchr(host + 3, '/') : NULL;
    if (!base || !base[0] || !path) {
        snprintf(out, outlen, "%s", url);
        return;
    }
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    snprintf(out, outlen, "%.*s%s", (int)bl, base, path);
}

/* ---- sidecar ---- */

int fetch_sidecar_path(const char *weights, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "%s.json", weights);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int fetch_sidecar_apply(const char *weights, struct arch *a, struct err *e)
{
    char path[4096];
    if (fetch_sidecar_path(weights, path, sizeof path))
        return 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    cJSON *root = cJSON_Parse(buf);
    int rc = 0;
    if (!cJSON_IsObject(root)) {
        rc = err_set(e, "%s: not a weights sidecar (JSON object); delete it or fetch again", path);
        goto out;
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!cJSON_IsString(model) || strcmp(model->valuestring, a->name))
        goto out;   /* written for another model: not ours to apply */
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(root, "preprocess");
    if (!pre)
        goto out;
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(pre, "input");
    const cJSON *resize = cJSON_GetObjectItemCaseSensitive(pre, "resize");
    const cJSON *interp = cJSON_GetObjectItemCaseSensitive(pre, "interpolation");
    static const char *const interps[] = {"bilinear", "bicubic", "nearest"};   /* enum pre_interp */
    int interp_i = -1;
    for (int i = 0; cJSON_IsString(interp) && i < 3; i++)
        if (!strcmp(interp->valuestring, interps[i]))
            interp_i = i;
    if (interp && interp_i < 0) {
        rc = err_set(e, "%s: \"preprocess.interpolation\" must be \"bilinear\", \"bicubic\" or "
                     "\"nearest\"", path);
        goto out;
    }
    if ((input && (!cJSON_IsNumber(input) || input->valueint < 1 || input->valueint > 4096)) ||
        (resize && (!cJSON_IsNumber(resize) || resize->valueint < 0 || resize->valueint > 16384))) {
        rc = err_set(e, "%s: \"preprocess\" needs \"input\" 1..4096 and \"resize\" 0..16384", path);
        goto out;
    }
    if (input)
        a->in_h = a->in_w = input->valueint;
    if (resize)
        a->pre.resize = resize->valueint;
    if (interp)
        a->pre.interp = (enum pre_interp)interp_i;
out:
    cJSON_Delete(root);
    return rc;
}

/* The set recorded next to a cached file, or "" */
static void sidecar_set(const char *weights, const char *model, char *set, size_t len)
{
    char path[4096];
    set[0] = 0;
    if (fetch_sidecar_path(weights, path, sizeof path) || file_size(weights) < 0)
        return;
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    cJSON *root = cJSON_Parse(buf);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "set");
    if (cJSON_IsString(m) && !strcmp(m->valuestring, model) && cJSON_IsString(s))
        snprintf(set, len, "%s", s->valuestring);
    cJSON_Delete(root);
}

static int write_sidecar(const char *path, const char *model, const struct fetch_set *s,
                         const char *url, const char *sha256, struct err *e)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", model);
    cJSON_AddStringToObject(root, "set", s ? s->set : "url");
    cJSON_AddStringToObject(root, "url", url);
    cJSON_AddStringToObject(root, "sha256", sha256);
    if (s && s->top1 > 0)
        cJSON_AddNumberToObject(root, "top1", s->top1);
    if (s) {
        cJSON *pre = cJSON_AddObjectToObject(root, "preprocess");
        if (s->input)
            cJSON_AddNumberToObject(pre, "input", s->input);
        if (s->resize)
            cJSON_AddNumberToObject(pre, "resize", s->resize);
        cJSON_AddStringToObject(pre, "interpolation", s->interpolation);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    FILE *f = text ? fopen(path, "wb") : NULL;
    int ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0)
        ok = 0;
    free(text);
    if (!ok) {
        unlink(path);
        return err_set(e, "cannot write %s (%s)", path, strerror(errno));
    }
    return 0;
}

/* ---- the download ---- */

struct dl {
    FILE *f;
    const char *label;       /* "resnet50 tv2" */
    int progress;
    curl_off_t offset;       /* bytes already in the file when this request began */
    double t0, last;         /* start of the request, last redraw */
    int drawn;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    struct dl *d = ud;
    return fwrite(p, size, n, d->f) * size;
}

static void human(char *buf, size_t len, double bytes)
{
    if (bytes >= 1e9)
        snprintf(buf, len, "%.2f GB", bytes / 1e9);
    else if (bytes >= 1e6)
        snprintf(buf, len, "%.1f MB", bytes / 1e6);
    else
        snprintf(buf, len, "%.0f kB", bytes / 1e3);
}

/* "resnet50 tv2 [#########-----------]  45%  44.1 MB / 97.8 MB  5.2 MB/s  ETA 0:10" */
static void draw(struct dl *d, curl_off_t total, curl_off_t now, int final)
{
    double t = now_s();
    if (!final && t - d->last < 0.1)
        return;
    d->last = t;
    double rate = t > d->t0 ? (double)(now - d->offset) / (t - d->t0) : 0;
    char have[32], all[32], speed[32];
    human(have, sizeof have, (double)now);
    human(speed, sizeof speed, rate);
    fprintf(stderr, "\r\033[K%s ", d->label);
    if (total > 0) {
        enum { W = 24 };
        int pct = (int)(100.0 * now / total), fill = (int)((double)W * now / total);
        human(all, sizeof all, (double)total);
        fputc('[', stderr);
        for (int i = 0; i < W; i++)
            fputc(i < fill ? '#' : '-', stderr);
        fprintf(stderr, "] %3d%%  %s / %s  %s/s", pct, have, all, speed);
        if (rate > 0 && now < total) {
            long eta = (long)((total - now) / rate + 0.5);
            fprintf(stderr, "  ETA %ld:%02ld", eta / 60, eta % 60);
        }
    } else {
        fprintf(stderr, "%s  %s/s", have, speed);
    }
    fflush(stderr);
    d->drawn = 1;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)ultotal, (void)ulnow;
    struct dl *d = ud;
    if (d->progress && (dlnow > 0 || dltotal > 0))
        draw(d, dltotal > 0 ? d->offset + dltotal : 0, d->offset + dlnow, 0);
    return 0;
}

static void clear_line(struct dl *d)
{
    if (d->drawn)
        fputs("\r\033[K", stderr);
    d->drawn = 0;
}

/* Errors worth another request from where the file now ends. */
static int retryable(CURLcode rc)
{
    return rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
           rc == CURLE_GOT_NOTHING || rc == CURLE_OPERATION_TIMEDOUT ||
           rc == CURLE_HTTP2_STREAM || rc == CURLE_HTTP2;
}

enum { MAX_ATTEMPTS = 5 };

/* The part of libcurl's easy interface fetch uses, resolved at first use. */
static struct {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    void (*easy_reset)(CURL *c);
    CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
    CURLcode (*easy_perform)(CURL *c);
    CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
    const char *(*easy_strerror)(CURLcode code);
    void (*easy_cleanup)(CURL *c);
} curl;

#define LIBCURL "libcurl.so.4"

static int curl_open(struct err *e)
{
    if (curl.easy_cleanup)
        return 0;
    void *lib = dlopen(LIBCURL, RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return err_set(e, "cannot load %s, which resnet fetch needs (apt-get install libcurl4): %s",
                       LIBCURL, dlerror());
    struct { const char *name; void **fn; } sym[] = {
        {"curl_global_init", (void **)&curl.global_init},
        {"curl_easy_init", (void **)&curl.easy_init},
        {"curl_easy_reset", (void **)&curl.easy_reset},
        {"curl_easy_setopt", (void **)&curl.easy_setopt},
        {"curl_easy_perform", (void **)&curl.easy_perform},
        {"curl_easy_getinfo", (void **)&curl.easy_getinfo},
        {"curl_easy_strerror", (void **)&curl.easy_strerror},
        {"curl_easy_cleanup", (void **)&curl.easy_cleanup},
    };
    for (size_t i = 0; i < sizeof sym / sizeof sym[0]; i++)
        if (!(*sym[i].fn = dlsym(lib, sym[i].name))) {
            curl.easy_cleanup = NULL;
            return err_set(e, "%s has no %s", LIBCURL, sym[i].name);
        }
    if (curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        curl.easy_cleanup = NULL;
        return err_set(e, "cannot initialise libcurl");
    }
    return 0;
}

/* Append url to `part` until complete.  The file is kept on failure, except
 * when nothing was ever written to it. */
static int download(const char *url, const char *part, const char *label, int progress,
                    struct err *e)
{
    if (curl_open(e))
        return -1;
    CURL *c = curl.easy_init();
    if (!c)
        return err_set(e, "cannot initialise libcurl");
    char cerr[CURL_ERROR_SIZE];
    int rc = -1, restarted = 0;
    for (int attempt = 1;; attempt++) {
        long long off = file_size(part);
        if (off < 0)
            off = 0;
        struct dl d = {.label = label, .progress = progress, .offset = off, .t0 = now_s()};
        d.f = fopen(part, "ab");
        if (!d.f) {
            err_set(e, "cannot write %s (%s)", part, strerror(errno));
            break;
        }
        cerr[0] = 0;
        curl.easy_reset(c);
        curl.easy_setopt(c, CURLOPT_URL, url);
        curl.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl.easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
        curl.easy_setopt(c, CURLOPT_FAILONERROR, 1L);
        curl.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl.easy_setopt(c, CURLOPT_USERAGENT, "resnet/" RESNET_VERSION);
        curl.easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
        /* a stalled connection: under 1 kB/s for a minute */
        curl.easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
        curl.easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
        curl.easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
        curl.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl.easy_setopt(c, CURLOPT_WRITEDATA, &d);
        curl.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl.easy_setopt(c, CURLOPT_XFERINFODATA, &d);
        curl.easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl.easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)off);
        CURLcode cr = curl.easy_perform(c);
        int closed = fclose(d.f) == 0;
        long code = 0;
        curl.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        curl_off_t len = -1;
        curl.easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
        long long got = file_size(part);
        if (cr == CURLE_OK && closed) {
            if (progress)
                draw(&d, got, got, 1);
            clear_line(&d);
            rc = 0;
            break;
        }
        clear_line(&d);
        if (cr == CURLE_OK) {
            err_set(e, "cannot write %s (%s)", part, strerror(errno));
            break;
        }
        /* A partial file the server will not continue (it ignores Range,
         * or the file changed and is shorter now): start again, once. */
        if (off > 0 && !restarted &&
            (cr == CURLE_RANGE_ERROR || (cr == CURLE_HTTP_RETURNED_ERROR && code == 416))) {
            restarted = 1;
            if (truncate(part, 0) != 0) {
                err_set(e, "cannot truncate %s (%s)", part, strerror(errno));
                break;
            }
            continue;
        }
        if (retryable(cr) && got > off && attempt < MAX_ATTEMPTS) {
            sleep(1);
            continue;
        }
        const char *why = cerr[0] ? cerr : curl.easy_strerror(cr);
        if (cr == CURLE_HTTP_RETURNED_ERROR)
            err_set(e, "%s: HTTP %ld", url, code);
        else if (cr == CURLE_COULDNT_RESOLVE_HOST || cr == CURLE_COULDNT_CONNECT ||
                 cr == CURLE_COULDNT_RESOLVE_PROXY)
            err_set(e, "cannot reach %s (%s) -- offline? RESNET_FETCH_BASE can name a mirror",
                    url, why);
        else if (retryable(cr) && got > 0)
            err_set(e, "the download of %s broke off at %lld of %lld bytes (%s); run the same "
                    "command again to resume it", url, got, len > 0 ? (long long)(off + len) : -1LL,
                    why);
        else
            err_set(e, "%s: %s", url, why);
        break;
    }
    curl.easy_cleanup(c);
    if (rc != 0 && file_size(part) == 0)
        unlink(part);
    return rc;
}

/* ---- one model ---- */

int fetch_model(const char *arg, const struct fetch_opts *o, struct fetch_result *r,
                struct err *e)
{
    memset(r, 0, sizeof *r);
    /* With --url, a built-in model's set still names the partial file and
     * the sidecar (a mirror's copy of resnet50 is still evaluated at 232). */
    struct err none;
    const struct fetch_set *s = fetch_find(arg, o->url ? &none : e);
    if (!s && !o->url)
        return -1;
    const char *model = s ? s->model : arg;
    struct arch a;
    struct net n;
    if (spec_load(model, &a, e) || net_build(&a, &n, e))
        return -1;

    int rc = -1;
    char dir[4096], part[4200], side[4300], side_tmp[4400], url[4096], label[160];
    char *dest = r->path;
    const size_t dest_len = sizeof r->path;
    snprintf(r->model, sizeof r->model, "%s", a.name);
    r->set = s;
    if (cache_dir(dir, sizeof dir, e) || cache_make_dir(dir, e))
        goto out;
    if (o->url)
        snprintf(url, sizeof url, "%s", o->url);
    else
        apply_base(s->url, url, sizeof url);
    if (s)
        snprintf(part, sizeof part, "%s/%s.%s.part", dir, a.name, s->set);
    else
        snprintf(part, sizeof part, "%s/%s.url-%08x.part", dir, a.name, (unsigned)fnv1a(url));
    snprintf(label, sizeof label, "%s %s", a.name, s ? s->set : "");

    if (s && !o->url && !o->force) {
        char have[32];
        snprintf(dest, dest_len, "%s/%s.%s", dir, a.name, s->format);
        sidecar_set(dest, a.name, have, sizeof have);
        /* With --sha256 the cached file must be that file too; if it is
         * not, it is downloaded again (and checked). */
        struct err unread;
        if (!strcmp(have, s->set) &&
            (!o->sha256 || (sha256_file(dest, r->sha256, &unread) == 0 &&
                            !strcmp(r->sha256, o->sha256)))) {
            r->already = 1;
            rc = 0;
            goto out;
        }
        r->sha256[0] = 0;
    }
    if (o->force)
        unlink(part);
    if (download(url, part, label, o->progress, e)) {
        err_prefix(e, "fetch %s: ", a.name);
        goto out;
    }
    /* Keep nothing but the file asked for, and nothing that does not load
     * into the model. */
    if (sha256_file(part, r->sha256, e)) {
        err_prefix(e, "fetch %s: ", a.name);
        goto out;
    }
    if (o->sha256 && strcmp(r->sha256, o->sha256)) {
        unlink(part);
        err_set(e, "fetch %s: %s has SHA-256 %s, not the %s of --sha256; deleted, nothing kept",
                a.name, url, r->sha256, o->sha256);
        goto out;
    }
    if (weights_load(&n, part, e)) {
        unlink(part);
        err_prefix(e, "fetch %s: %s does not fit the model, nothing kept: ", a.name, url);
        goto out;
    }
    const char *ext = weights_is_keras(part) ? "h5" : "safetensors";
    snprintf(dest, dest_len, "%s/%s.%s", dir, a.name, ext);
    fetch_sidecar_path(dest, side, sizeof side);
    snprintf(side_tmp, sizeof side_tmp, "%s.tmp", side);
    if (write_sidecar(side_tmp, a.name, s, url, r->sha256, e)) {
        err_prefix(e, "fetch %s: ", a.name);
        goto out;
    }
    if (rename(part, dest) != 0 || rename(side_tmp, side) != 0) {
        err_set(e, "fetch %s: cannot move the download to %s (%s)", a.name, dest, strerror(errno));
        unlink(side_tmp);
        goto out;
    }
    rc = 0;
out:
    net_free(&n);
    return rc;
}
