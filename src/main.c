/* main.c -- the command line: argument parsing, the classify / summary /
 * bench commands, what is printed and which exit status is returned.
 * No maths here: every step is a call into one module.
 *
 * Exit status: 0 success; 1 some image failed (the others were still
 * classified and printed); 2 usage, spec or weights errors, before any
 * image is read; 3 standard output could not be written. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "calibrate.h"
#include "escape.h"
#include "fetch.h"
#include "forward.h"
#include "image.h"
#include "model.h"
#include "net.h"
#include "pipeline.h"
#include "resnet.h"
#include "sha256.h"
#include "spec.h"
#include "summary.h"
#include "usage.h"
#include "weights.h"

enum { EXIT_IMAGE_FAILED = 1, EXIT_USAGE = 2, EXIT_OUTPUT = 3 };

static void fail(const char *msg)
{
    fprintf(stderr, "resnet: %s\n", msg);
}

/* --- standard output ---
 *
 * stdout carries the results, so no write to it may fail unseen: on a full
 * disk every result would be lost and the run still exit 0.  Each record (a
 * result, a table, a list) is flushed once written and stdout's error flag
 * checked; the first failure is reported once, naming the error, and the
 * command stops with EXIT_OUTPUT.  stdio keeps no errno of its own, so
 * errno is cleared before a record and the record's first failed write is
 * what sets it.  A reader that went away (EPIPE: SIGPIPE is ignored, else
 * it ends the process first) is not reported: a closed pipe ends the run
 * quietly, as `| head` expects. */
static int out_failed;

static void out_begin(void)
{
    errno = 0;
}

static void out_report(int err)
{
    out_failed = 1;
    if (err != EPIPE)
        fprintf(stderr, "resnet: writing to standard output: %s\n", strerror(err ? err : EIO));
}

/* The record is out: 0, or -1 once any write to stdout has failed. */
static int out_end(void)
{
    if (out_failed)
        return -1;
    if (fflush(stdout) == 0 && !ferror(stdout))
        return 0;
    out_report(errno);
    return -1;
}

/* The last check, on the way out of main: what is still buffered, and the
 * close, which is where some file systems report a failed write. */
static int out_close(int status)
{
    if (out_end() == 0 && fclose(stdout) != 0)
        out_report(errno);
    return out_failed ? EXIT_OUTPUT : status;
}

static int usage_error(const char *usage, const char *fmt, const char *arg)
{
    fprintf(stderr, "resnet: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s", usage);
    return EXIT_USAGE;
}

/* A positive integer option value, or -1. */
static int parse_count(const char *s, int max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > max)
        return -1;
    return (int)v;
}

/* --precision's value, or -1 (after saying why) */
static int parse_precision(const char *s, const char *usage)
{
    if (!strcmp(s, "fp32"))
        return FWD_FP32;
    if (!strcmp(s, "int8"))
        return FWD_INT8;
    if (!strcmp(s, "bf16"))
        return FWD_BF16;
    usage_error(usage, "--precision must be fp32, int8 or bf16, not \"%s\"", s);
    return -1;
}

static const char *precision_name(enum fwd_precision p)
{
    return p == FWD_INT8 ? "int8" : p == FWD_BF16 ? "bf16" : "fp32";
}

/* --- classify --- */

static double main_started;   /* omp_get_wtime() when main() began: classify --timing */

enum format { FMT_TEXT, FMT_TSV, FMT_JSON };

/* A JSON object's first member, "path": the path as a JSON string, and when
 * it is not UTF-8 (its U+FFFDs then lose bytes) its exact bytes beside it
 * in base64, as ripgrep's JSON keeps such paths.  The Latin-1 name caf\xe9.jpg
 * is {"path":"caf<U+FFFD>.jpg","path_bytes":"Y2Fm6S5qcGc=",...}. */
static void json_path(const char *path)
{
    printf("{\"path\":");
    esc_json(stdout, path);
    if (!esc_utf8_valid(path)) {
        printf(",\"path_bytes\":\"");
        esc_base64(stdout, path);
        putchar('"');
    }
}

/* One image's result, flushed at once; -1 when stdout cannot be written. */
static int print_result(enum format fmt, const char *path, const float *prob,
                        const int *idx, int k, const struct labels *lab)
{
    out_begin();
    switch (fmt) {
    case FMT_TEXT:
        printf("%s\n", path);
        for (int r = 0; r < k; r++)
            printf("  %7.3f%%  %s\n", 100.0 * prob[idx[r]], lab->name[idx[r]]);
        break;
    case FMT_TSV:
        /* a tab or newline in a path or label would split the row: escaped */
        for (int r = 0; r < k; r++) {
            esc_tsv(stdout, path);
            printf("\t%d\t%d\t%.9g\t", r + 1, idx[r], prob[idx[r]]);
            esc_tsv(stdout, lab->name[idx[r]]);
            putchar('\n');
        }
        break;
    case FMT_JSON:
        json_path(path);
        printf(",\"top\":[");
        for (int r = 0; r < k; r++) {
            printf("%s{\"index\":%d,\"label\":", r ? "," : "", idx[r]);
            esc_json(stdout, lab->name[idx[r]]);
            printf(",\"prob\":%.9g}", prob[idx[r]]);
        }
        printf("]}\n");
        break;
    }
    return out_end();
}

/* A failed image: its error on stderr (and, in JSON, as an object); -1
 * when stdout cannot be written. */
static int print_failure(enum format fmt, const char *path, const char *msg)
{
    fprintf(stderr, "resnet: %s\n", msg);
    if (fmt != FMT_JSON)
        return 0;
    out_begin();
    json_path(path);
    printf(",\"error\":");
    esc_json(stdout, msg);
    printf("}\n");
    return out_end();
}

/* Progress on stderr, only when it is a terminal: images done, rate, ETA. */
struct progress {
    int on;
    long done, total;   /* total -1: unknown (paths from stdin) */
    double t0;
    int drawn;          /* a progress line is on screen */
};

static void progress_clear(struct progress *pr)
{
    if (pr->drawn) {
        fputs("\r\033[K", stderr);
        pr->drawn = 0;
    }
}

static void progress_draw(struct progress *pr)
{
    if (!pr->on)
        return;
    double dt = omp_get_wtime() - pr->t0;
    double rate = dt > 0 ? pr->done / dt : 0;
    fprintf(stderr, "\r\033[K%ld", pr->done);
    if (pr->total >= 0)
        fprintf(stderr, "/%ld", pr->total);
    fprintf(stderr, " images, %.1f images/s", rate);
    if (pr->total > 0 && rate > 0) {
        long eta = (long)((pr->total - pr->done) / rate + 0.5);
        fprintf(stderr, ", ETA %ld:%02ld", eta / 60, eta % 60);
    }
    fflush(stderr);
    pr->drawn = 1;
}

static int cmd_classify(int argc, char **argv)
{
    enum { OPT_MAX_PIXELS = 256, OPT_NO_CACHE, OPT_WINOGRAD, OPT_TIMING, OPT_PRECISION,
           OPT_FULL_DECODE };
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"weights", required_argument, 0, 'w'},
        {"top", required_argument, 0, 'k'},   {"format", required_argument, 0, 'f'},
        {"threads", required_argument, 0, 't'}, {"batch", required_argument, 0, 'b'},
        {"recursive", no_argument, 0, 'r'},   {"null", no_argument, 0, '0'},
        {"quiet", no_argument, 0, 'q'},       {"help", no_argument, 0, 'h'},
        {"max-pixels", required_argument, 0, OPT_MAX_PIXELS},
        {"no-cache", no_argument, 0, OPT_NO_CACHE},
        {"winograd", no_argument, 0, OPT_WINOGRAD}, {"timing", no_argument, 0, OPT_TIMING},
        {"precision", required_argument, 0, OPT_PRECISION},
        {"full-decode", no_argument, 0, OPT_FULL_DECODE}, {0, 0, 0, 0}};
    const char *model = "resnet50", *weights = NULL;
    int k = 5, threads = 0, quiet = 0, timing = 0, opt;
    struct pipe_opts po = {.batch = 1};
    struct model_opts mo = {0};
    enum format fmt = FMT_TEXT;
    while ((opt = getopt_long(argc, argv, "m:w:k:f:t:b:r0qh", opts, NULL)) != -1) {
        switch (opt) {
        case 'm': model = optarg; break;
        case 'w': weights = optarg; break;
        case 'k':
            if ((k = parse_count(optarg, 1 << 20)) < 0)
                return usage_error(usage_classify, "-k needs a positive integer, not \"%s\"", optarg);
            break;
        case 'f':
            if (!strcmp(optarg, "text")) fmt = FMT_TEXT;
            else if (!strcmp(optarg, "tsv")) fmt = FMT_TSV;
            else if (!strcmp(optarg, "json")) fmt = FMT_JSON;
            else return usage_error(usage_classify, "-f must be text, tsv or json, not \"%s\"", optarg);
            break;
        case 't':
            if ((threads = parse_count(optarg, 1024)) < 0)
                return usage_error(usage_classify, "-t needs a positive integer, not \"%s\"", optarg);
            break;
        case 'b':
            if ((po.batch = parse_count(optarg, 1024)) < 0)
                return usage_error(usage_classify, "-b needs a positive integer, not \"%s\"", optarg);
            break;
        case 'r': po.recursive = 1; break;
        case '0': po.nul = 1; break;
        case 'q': quiet = 1; break;
        case OPT_MAX_PIXELS: {
            char *end;
            errno = 0;
            long long n = strtoll(optarg, &end, 10);
            if (errno || end == optarg || *end || n < 1)
                return usage_error(usage_classify, "--max-pixels needs a positive integer, not \"%s\"",
                                   optarg);
            img_set_max_pixels(n);
            break;
        }
        case OPT_NO_CACHE: mo.no_cache = mo.no_tuning = 1; break;
        case OPT_WINOGRAD: mo.winograd = 1; break;
        case OPT_FULL_DECODE: mo.full_decode = 1; break;
        case OPT_TIMING: timing = 1; break;
        case OPT_PRECISION: {
            const int p = parse_precision(optarg, usage_classify);
            if (p < 0)
                return EXIT_USAGE;
            mo.precision = (enum fwd_precision)p;
            break;
        }
        case 'h': fputs(usage_classify, stdout); return 0;
        default: fputs(usage_classify, stderr); return EXIT_USAGE;
        }
    }
    if (optind >= argc)
        return usage_error(usage_classify, "classify needs at least one image, directory or -%s", "");
    if (threads)
        omp_set_num_threads(threads);

    struct model *m;
    struct err e;
    struct pipeline *pipe = NULL;
    mo.model = model, mo.weights = weights, mo.batch = po.batch;
    if (model_define(&m, &mo, &e)) {
        fail(e.msg);
        return EXIT_USAGE;
    }
    /* The first images decode on the pipeline's thread while the weights
     * are mapped or packed -- but a Keras file is read in a forked child,
     * and a fork while another thread may hold a lock (the allocator's)
     * can leave the child waiting on it: those load first. */
    int status = EXIT_USAGE;
    const int load_first = m->weights[0] && weights_is_keras(m->weights);
    if (model_plan(m, &e) || (load_first && model_load(m, &e)) ||
        pipe_open(&pipe, argv + optind, argc - optind, &m->net.arch, &po, &e) ||
        (!load_first && model_load(m, &e))) {
        fail(e.msg);
        goto out;
    }
    struct progress pr = {isatty(STDERR_FILENO) && !quiet, 0, pipe_total(pipe), omp_get_wtime(), 0};
    const int classes = m->net.arch.classes, top = k < classes ? k : classes;
    int *idx = malloc((size_t)top * sizeof *idx);
    if (!idx) {
        fail("out of memory");
        goto out;
    }
    status = 0;
    const double ready = omp_get_wtime();
    double waiting = 0, forward = 0;
    for (;;) {
        double t = omp_get_wtime();
        const struct pipe_batch *b = pipe_next(pipe);
        waiting += omp_get_wtime() - t;
        if (!b)
            break;
        t = omp_get_wtime();
        const float *prob = model_run(m, b->input);
        forward += omp_get_wtime() - t;
        progress_clear(&pr);
        for (int i = 0; i < b->n; i++) {
            const struct pipe_slot *s = &b->slot[i];
            if (s->failed) {
                status = EXIT_IMAGE_FAILED;
                if (print_failure(fmt, s->path, s->error))
                    break;
                continue;
            }
            resnet_top_k(prob + (size_t)i * classes, classes, top, idx);
            if (print_result(fmt, s->path, prob + (size_t)i * classes, idx, top, &m->labels))
                break;
        }
        if (out_failed)
            break;   /* the rest could only be lost too */
        pr.done += b->n;
        progress_draw(&pr);
    }
    progress_clear(&pr);
    free(idx);
    if (out_failed)
        status = EXIT_OUTPUT;
    else if (timing) {
        fflush(stdout);
        const double total = omp_get_wtime() - main_started;
        fprintf(stderr, "resnet: timing: %.2f ms from main() to the last result: start-up %.2f, "
                "waiting for images %.2f, forward %.2f (%.1f%%, %s), output %.2f\n", total * 1e3,
                (ready - main_started) * 1e3, waiting * 1e3, forward * 1e3, 100 * forward / total,
                precision_name(mo.precision),
                (total - (ready - main_started) - waiting - forward) * 1e3);
    }
out:
    pipe_close(pipe);
    model_close(m);
    return status;
}

/* --- summary --- */

static int cmd_summary(int argc, char **argv)
{
    static const struct option opts[] = {
        {"depth", required_argument, 0, 'd'}, {"model", required_argument, 0, 'm'},
        {"v2", no_argument, 0, '2'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *model = NULL;
    int depth = 0, version = 1, opt;
    while ((opt = getopt_long(argc, argv, "d:m:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'd':
            if ((depth = parse_count(optarg, 100000)) < 0)
                return usage_error(usage_summary, "--depth needs a positive integer, not \"%s\"", optarg);
            break;
        case 'm': model = optarg; break;
        case '2': version = 2; break;
        case 'h': fputs(usage_summary, stdout); return 0;
        default: fputs(usage_summary, stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return usage_error(usage_summary, "unexpected argument \"%s\"", argv[optind]);
    if (depth && model)
        return usage_error(usage_summary, "give --depth or -m, not both%s", "");
    if (version == 2 && !depth)
        return usage_error(usage_summary, "--v2 goes with --depth (a spec says its own version)%s", "");
    struct arch a;
    struct net n;
    struct err e;
    if ((depth ? spec_from_depth(depth, version, &a, &e) : spec_load(model ? model : "resnet50", &a, &e)) ||
        net_build(&a, &n, &e)) {
        fail(e.msg);
        return EXIT_USAGE;
    }
    out_begin();
    summary_print(stdout, &n);
    net_free(&n);
    return out_end() ? EXIT_OUTPUT : 0;
}

/* --- bench --- */

static void print_bench_text(const struct net *n, const struct fwd *f, int batch,
                             const struct bench_times *t, const struct bench_peak *pk,
                             const double *layer_ms, int winograd, enum fwd_precision precision)
{
    double gflop = 2.0 * n->macs * batch / 1e9;
    double gflops = gflop * 1000.0 / t->ms_median;
    printf("model %s, %dx%d, batch %d, threads %d, %d runs after %d warm-up\n", n->arch.name,
           n->arch.in_h, n->arch.in_w, batch, pk->threads, t->runs, t->warmup);
    printf("convolutions: %s; kernels: %s; precision: %s\n",
           winograd ? "direct, 3x3 stride 1 by Winograd F(4x4,3x3)" : "direct", fwd_kernels(f)->name,
           precision_name(precision));
    printf("ms per batch: median %.3f, min %.3f\n", t->ms_median, t->ms_min);
    printf("images/s: %.2f\n", batch * 1000.0 / t->ms_median);
    printf("%s: %.1f (%.3f %s per batch)\n", precision == FWD_INT8 ? "GOP/s" : "GFLOP/s", gflops,
           gflop, precision == FWD_INT8 ? "GOP" : "GFLOP");
    if (!strcmp(pk->isa, "avx512vnni") || !strcmp(pk->isa, "avx512bf16"))
        printf("peak: %.1f %s (%s %s multiply-add loop, %d threads); achieved %.1f%%\n",
               pk->gflops, precision == FWD_INT8 ? "GOP/s" : "GFLOP/s", pk->isa,
               precision == FWD_INT8 ? "int8" : "bf16", pk->threads, 100.0 * gflops / pk->gflops);
    else
        printf("peak: %.1f GFLOP/s (%s FMA loop, %d threads); achieved %.1f%%\n", pk->gflops,
               pk->isa, pk->threads, 100.0 * gflops / pk->gflops);
    if (!layer_ms)
        return;
    /* The ops' medians need not add up to the whole pass's median. */
    double sum = 0;
    for (int i = 0; i < fwd_op_count(f); i++)
        sum += layer_ms[i];
    printf("\n%-32s %10s %9s %7s  %s\n", "op", "ms", "GFLOP/s", "time", "how");
    for (int i = 0; i < fwd_op_count(f); i++) {
        double ms = layer_ms[i], op_gflop = 2.0 * fwd_op_macs(f, i) * batch / 1e9;
        char how[160];
        fwd_op_describe(f, i, how, sizeof how);
        printf("%-32s %10.3f %9.1f %6.1f%%  %s\n", fwd_op_name(f, i), ms,
               ms > 0 ? op_gflop * 1000.0 / ms : 0.0, sum > 0 ? 100.0 * ms / sum : 0.0, how);
    }
}

static void print_bench_json(const struct net *n, const struct fwd *f, int batch,
                             const struct bench_times *t, const struct bench_peak *pk,
                             const double *layer_ms, int winograd, enum fwd_precision precision)
{
    double gflop = 2.0 * n->macs * batch / 1e9, gflops = gflop * 1000.0 / t->ms_median;
    printf("{\"model\":");
    esc_json(stdout, n->arch.name);
    printf(",\"input\":[%d,%d],\"batch\":%d,\"threads\":%d,\"runs\":%d,\"warmup\":%d",
           n->arch.in_h, n->arch.in_w, batch, pk->threads, t->runs, t->warmup);
    printf(",\"ms_median\":%.6g,\"ms_min\":%.6g,\"images_per_s\":%.6g,\"gflop_per_batch\":%.6g"
           ",\"gflops\":%.6g", t->ms_median, t->ms_min, batch * 1000.0 / t->ms_median, gflop, gflops);
    printf(",\"peak_gflops\":%.6g,\"peak_isa\":\"%s\",\"peak_percent\":%.4g", pk->gflops,
           pk->isa, 100.0 * gflops / pk->gflops);
    printf(",\"winograd\":%s,\"kernels\":\"%s\",\"precision\":\"%s\"",
           winograd ? "true" : "false", fwd_kernels(f)->name, precision_name(precision));
    if (layer_ms) {
        printf(",\"layers\":[");
        for (int i = 0; i < fwd_op_count(f); i++) {
            double ms = layer_ms[i], op_gflop = 2.0 * fwd_op_macs(f, i) * batch / 1e9;
            printf("%s{\"name\":", i ? "," : "");
            esc_json(stdout, fwd_op_name(f, i));
            char how[160];
            fwd_op_describe(f, i, how, sizeof how);
            printf(",\"ms\":%.6g,\"gflops\":%.6g,\"how\":", ms,
                   ms > 0 ? op_gflop * 1000.0 / ms : 0.0);
            esc_json(stdout, how);
            printf("}");
        }
        printf("]");
    }
    printf("}\n");
}

static int cmd_bench(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"weights", required_argument, 0, 'w'},
        {"batch", required_argument, 0, 'b'}, {"threads", required_argument, 0, 't'},
        {"runs", required_argument, 0, 'n'},  {"size", required_argument, 0, 's'},
        {"layers", no_argument, 0, 'l'},      {"format", required_argument, 0, 'f'},
        {"winograd", no_argument, 0, 'W'},    {"help", no_argument, 0, 'h'},
        {"no-tune", no_argument, 0, 'T'},
        {"precision", required_argument, 0, 'P'}, {0, 0, 0, 0}};
    const char *model = "resnet50", *weights = NULL;
    int precision = FWD_FP32;
    int batch = 1, threads = 0, runs = 10, size = 0, layers = 0, json = 0, winograd = 0, opt;
    int no_tuning = 0;
    while ((opt = getopt_long(argc, argv, "m:w:b:t:n:f:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'm': model = optarg; break;
        case 'w': weights = optarg; break;
        case 'b':
            if ((batch = parse_count(optarg, 4096)) < 0)
                return usage_error(usage_bench, "-b needs a positive integer, not \"%s\"", optarg);
            break;
        case 't':
            if ((threads = parse_count(optarg, 1024)) < 0)
                return usage_error(usage_bench, "-t needs a positive integer, not \"%s\"", optarg);
            break;
        case 'n':
            if ((runs = parse_count(optarg, 100000)) < 0)
                return usage_error(usage_bench, "-n needs a positive integer, not \"%s\"", optarg);
            break;
        case 's':
            if ((size = parse_count(optarg, 1 << 14)) < 0)
                return usage_error(usage_bench, "--size needs a positive integer, not \"%s\"", optarg);
            break;
        case 'l': layers = 1; break;
        case 'W': winograd = 1; break;
        case 'T': no_tuning = 1; break;
        case 'P':
            if ((precision = parse_precision(optarg, usage_bench)) < 0)
                return EXIT_USAGE;
            break;
        case 'f':
            if (!strcmp(optarg, "text")) json = 0;
            else if (!strcmp(optarg, "json")) json = 1;
            else return usage_error(usage_bench, "-f must be text or json, not \"%s\"", optarg);
            break;
        case 'h': fputs(usage_bench, stdout); return 0;
        default: fputs(usage_bench, stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return usage_error(usage_bench, "unexpected argument \"%s\"", argv[optind]);
    if (threads)
        omp_set_num_threads(threads);
    /* Bench packs every time, as a cold process would, and without a weight
     * file it times generated weights; it uses the tuning file as classify
     * does (measuring, before it times, the shapes that file lacks). */
    const struct model_opts mo = {.model = model, .weights = weights, .batch = batch,
                                  .input_size = size, .winograd = winograd, .no_cache = 1,
                                  .no_tuning = no_tuning,
                                  .random_ok = 1, .no_labels = 1,
                                  .precision = (enum fwd_precision)precision};
    struct model *m;
    struct err e;
    if (model_define(&m, &mo, &e)) {
        fail(e.msg);
        return EXIT_USAGE;
    }
    if (!m->weights[0])
        fprintf(stderr, "resnet: no weights for %s; timing generated weights\n", m->net.arch.name);
    if (model_load(m, &e)) {
        fail(e.msg);
        model_close(m);
        return EXIT_USAGE;
    }
    const struct net *n = &m->net;
    size_t count = (size_t)batch * 3 * n->arch.in_h * n->arch.in_w;
    float *in = malloc(count * sizeof *in);   /* [batch][3][in_h][in_w] */
    double *layer_ms = layers ? malloc((size_t)fwd_op_count(m->fwd) * sizeof *layer_ms) : NULL;
    if (!in || (layers && !layer_ms)) {
        fail("out of memory");
        free(in), free(layer_ms), model_close(m);
        return EXIT_USAGE;
    }
    /* Any values in the normalised range will do: timing does not depend on them. */
    for (size_t i = 0; i < count; i++)
        in[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
    struct bench_times t;
    struct bench_peak pk;
    int status = 0;
    if (bench_forward(m->fwd, in, runs, layer_ms, &t, &e)) {
        fail(e.msg);
        status = EXIT_USAGE;
    } else {
        bench_peak(omp_get_max_threads(), fwd_kernels(m->fwd)->isa,
                   precision == FWD_INT8 ? 8 : precision == FWD_BF16 ? 16 : 0, &pk);
        out_begin();
        (json ? print_bench_json : print_bench_text)(n, m->fwd, batch, &t, &pk, layer_ms, winograd,
                                                     (enum fwd_precision)precision);
        if (out_end())
            status = EXIT_OUTPUT;
    }
    free(in), free(layer_ms), model_close(m);
    return status;
}

/* --- calibrate --- */

static void calibrate_bad(const char *path, const char *msg)
{
    (void)path;
    fail(msg);
}

static int cmd_calibrate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"weights", required_argument, 0, 'w'},
        {"images", required_argument, 0, 'n'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    struct model_opts mo = {.model = "resnet50"};
    int images = 64, opt;
    while ((opt = getopt_long(argc, argv, "m:w:n:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'm': mo.model = optarg; break;
        case 'w': mo.weights = optarg; break;
        case 'n':
            if ((images = parse_count(optarg, 1 << 20)) < 0)
                return usage_error(usage_calibrate, "-n needs a positive integer, not \"%s\"", optarg);
            break;
        case 'h': fputs(usage_calibrate, stdout); return 0;
        default: fputs(usage_calibrate, stderr); return EXIT_USAGE;
        }
    }
    if (optind >= argc)
        return usage_error(usage_calibrate, "calibrate needs at least one image or directory%s", "");
    struct calib_result r;
    struct err e;
    if (calibrate(&mo, argv + optind, argc - optind, images, calibrate_bad, &r, &e)) {
        fail(e.msg);
        return EXIT_USAGE;
    }
    out_begin();
    for (int k = 0; k < CALIB_METHODS; k++)
        printf("%-17s top-1 as fp32 on %d of %d images, largest probability difference %.3g%s\n",
               r.method[k], r.agree[k], r.images, r.max_dp[k], k == r.chosen ? "  (kept)" : "");
    printf("ranges: %s\n", r.path);
    return out_end() ? EXIT_OUTPUT : 0;
}

/* --- fetch --- */

static int print_fetch_list(void)
{
    out_begin();
    printf("%-18s %-6s %7s  %-20s %s\n", "model", "set", "top-1", "evaluation", "url");
    for (const struct fetch_set *const *p = fetch_sets(); *p; p++) {
        const struct fetch_set *s = *p;
        char set[16], top1[16], eval[64] = "the spec's";
        snprintf(set, sizeof set, "%s%s", s->set, s->is_default ? "*" : "");
        snprintf(top1, sizeof top1, s->top1 > 0 ? "%.2f" : "-", s->top1);
        if (s->input)
            snprintf(eval, sizeof eval, "%dx%d, resize %d", s->input, s->input, s->resize);
        else if (s->resize)
            snprintf(eval, sizeof eval, "resize %d", s->resize);
        printf("%-18s %-6s %7s  %-20s %s\n", s->model, set, top1, eval, s->url);
    }
    return out_end();
}

static int cmd_fetch(int argc, char **argv)
{
    static const struct option opts[] = {
        {"list", no_argument, 0, 'l'},  {"url", required_argument, 0, 'u'},
        {"force", no_argument, 0, 'f'}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},  {"sha256", required_argument, 0, 'S'}, {0, 0, 0, 0}};
    struct fetch_opts o = {0};
    char sha256[SHA256_HEX_LEN];
    int list = 0, quiet = 0, opt;
    while ((opt = getopt_long(argc, argv, "lu:fqh", opts, NULL)) != -1) {
        switch (opt) {
        case 'l': list = 1; break;
        case 'u': o.url = optarg; break;
        case 'S':
            if (strlen(optarg) != SHA256_HEX_LEN - 1 || strspn(optarg, "0123456789abcdefABCDEF") !=
                                                            SHA256_HEX_LEN - 1)
                return usage_error(usage_fetch, "--sha256 needs 64 hex digits, not \"%s\"", optarg);
            for (int i = 0; i < SHA256_HEX_LEN; i++)
                sha256[i] = (char)tolower((unsigned char)optarg[i]);
            o.sha256 = sha256;
            break;
        case 'f': o.force = 1; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(usage_fetch, stdout); return 0;
        default: fputs(usage_fetch, stderr); return EXIT_USAGE;
        }
    }
    if (list) {
        if (optind < argc)
            return usage_error(usage_fetch, "--list takes no model (\"%s\")", argv[optind]);
        return print_fetch_list() ? EXIT_OUTPUT : 0;
    }
    if (optind >= argc)
        return usage_error(usage_fetch, "fetch needs a model (`resnet fetch --list` shows them)%s", "");
    if ((o.url || o.sha256) && argc - optind != 1)
        return usage_error(usage_fetch, "%s goes with one model or spec file", o.url ? "--url" : "--sha256");
    o.progress = isatty(STDERR_FILENO) && !quiet;
    int status = 0;
    for (int i = optind; i < argc; i++) {
        struct err e;
        struct fetch_result r;
        if (fetch_model(argv[i], &o, &r, &e)) {
            fail(e.msg);
            status = EXIT_USAGE;
            continue;
        }
        out_begin();
        if (r.already)
            printf("%s: weight set %s is already in %s\n", r.model, r.set->set, r.path);
        else {
            printf("%s: weight set %s", r.model, r.set ? r.set->set : "of --url");
            if (r.set && r.set->top1 > 0)
                printf(" (ImageNet top-1 %.2f%%)", r.set->top1);
            printf(" -> %s, SHA-256 %s\n", r.path, r.sha256);
        }
        if (out_end())
            return EXIT_OUTPUT;
    }
    return status;
}

/* The compiled-in specs, wrapped at 80 columns, so --help cannot go stale. */
static void print_builtin_models(FILE *out)
{
    const char *const *names = spec_builtin_names();
    int col = 0;
    for (int i = 0; names[i]; i++) {
        int len = (int)strlen(names[i]);
        if (col && col + 1 + len > 78) {
            fputc('\n', out);
            col = 0;
        }
        col += fprintf(out, "%s%s", col ? " " : "  ", names[i]);
    }
    fputc('\n', out);
}

static int run(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_main, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        fputs(usage_main, stdout);
        print_builtin_models(stdout);
        return 0;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
        printf("resnet %s\n", resnet_version());
        return 0;
    }
    if (!strcmp(cmd, "classify"))
        return cmd_classify(argc - 1, argv + 1);
    if (!strcmp(cmd, "summary"))
        return cmd_summary(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench"))
        return cmd_bench(argc - 1, argv + 1);
    if (!strcmp(cmd, "fetch"))
        return cmd_fetch(argc - 1, argv + 1);
    if (!strcmp(cmd, "calibrate"))
        return cmd_calibrate(argc - 1, argv + 1);
    return usage_error(usage_main, "unknown command \"%s\"", cmd);
}

int main(int argc, char **argv)
{
    main_started = omp_get_wtime();
    out_begin();
    return out_close(run(argc, argv));
}
