/* main.c -- the command line: argument parsing, the classify / summary /
 * bench commands, what is printed and which exit status is returned.
 * No maths here: every step is a call into one module.
 *
 * Exit status: 0 success; 1 some image failed (the others were still
 * classified and printed); 2 usage, spec or weights errors, before any
 * image is read. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "forward.h"
#include "image.h"
#include "labels.h"
#include "net.h"
#include "spec.h"
#include "summary.h"
#include "weights.h"

#ifndef RESNET_VERSION
#define RESNET_VERSION "0.0.0"
#endif

enum { EXIT_IMAGE_FAILED = 1, EXIT_USAGE = 2 };

static const char usage_main[] =
    "usage: resnet COMMAND [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  classify   print the top-K labels of each image\n"
    "  summary    print the network as Keras's model.summary() does\n"
    "  bench      time the forward pass\n"
    "\n"
    "Options:\n"
    "  -h, --help     this help; `resnet COMMAND --help` for a command's options\n"
    "  -V, --version  print the version\n"
    "\n"
    "Built-in models: resnet18 resnet34 resnet50 resnet101 resnet152,\n"
    "resnet20_cifar resnet56_cifar resnet110_cifar resnet164_cifar; or a spec .json file.\n"
    "See resnet(1).\n";

static const char usage_classify[] =
    "usage: resnet classify [-m NAME|SPEC.json] [-w WEIGHTS] [-k K] [-f text|tsv|json]\n"
    "                       [-t THREADS] PATH...\n"
    "\n"
    "Print the top-K ImageNet (or the spec's) labels of each JPEG or PNG image.\n"
    "A PATH of - reads image paths from standard input, one per line.\n"
    "\n"
    "  -m, --model NAME|FILE    built-in model name or spec file (default resnet50)\n"
    "  -w, --weights FILE       .safetensors weights with torchvision names (default:\n"
    "                           $RESNET_HOME, else $XDG_CACHE_HOME/resnet, else\n"
    "                           ~/.cache/resnet, then MODEL.safetensors)\n"
    "  -k, --top K              labels per image (default 5)\n"
    "  -f, --format FMT         text (default), tsv (path rank index prob label) or json\n"
    "                           (one object per image per line)\n"
    "  -t, --threads N          threads (default: all cores)\n"
    "  -h, --help               this help\n"
    "\n"
    "Exit status: 0 all images classified, 1 some failed (the others are printed),\n"
    "2 usage, spec or weights error.\n";

static const char usage_summary[] =
    "usage: resnet summary [--depth N | -m NAME|SPEC.json]\n"
    "\n"
    "Print the network as Keras's model.summary() table, then its multiply-adds.\n"
    "\n"
    "  -d, --depth N            the ImageNet ResNet of the paper's table (18, 34, 50,\n"
    "                           101, 152, 200)\n"
    "  -m, --model NAME|FILE    built-in model name or spec file (default resnet50)\n"
    "  -h, --help               this help\n";

static const char usage_bench[] =
    "usage: resnet bench [-m NAME|SPEC.json] [-w WEIGHTS] [-b BATCH] [-t THREADS]\n"
    "                    [-n RUNS]\n"
    "\n"
    "Time the forward pass: one warm-up run, then RUNS timed runs; prints the\n"
    "median and minimum ms per batch, images/s and GFLOP/s (2 x multiply-adds).\n"
    "Without -w it runs on generated weights (timing does not depend on them).\n"
    "\n"
    "  -m, --model NAME|FILE    built-in model name or spec file (default resnet50)\n"
    "  -w, --weights FILE       .safetensors weights\n"
    "  -b, --batch N            images per forward pass (default 1)\n"
    "  -t, --threads N          threads (default: all cores)\n"
    "  -n, --runs N             timed runs (default 10)\n"
    "  -h, --help               this help\n";

static void fail(const char *msg)
{
    fprintf(stderr, "resnet: %s\n", msg);
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

/* --- loading: spec -> net -> weights (shared by classify and bench) --- */

static int load_net(const char *model, const char *weights, int random_ok, struct net *n)
{
    struct arch a;
    struct err e;
    if (spec_load(model, &a, &e) || net_build(&a, n, &e)) {
        fail(e.msg);
        return -1;
    }
    char path[PATH_MAX];
    if (!weights) {
        if (weights_default_path(a.name, path, sizeof path, &e) == 0) {
            FILE *f = fopen(path, "rb");
            if (f) {
                fclose(f);
                weights = path;
            }
        }
        if (!weights && random_ok) {
            fprintf(stderr, "resnet: no weights for %s; timing generated weights\n", a.name);
            if (weights_random(n, 1, &e)) {
                fail(e.msg);
                net_free(n);
                return -1;
            }
            return 0;
        }
        if (!weights) {
            fprintf(stderr,
                    "resnet: no weights for %s: %s does not exist. Download the model's "
                    "torchvision weights as .safetensors (see README, \"Weights\") to that "
                    "path, or pass -w FILE\n",
                    a.name, path[0] ? path : "(no $RESNET_HOME, $XDG_CACHE_HOME or $HOME)");
            net_free(n);
            return -1;
        }
    }
    if (weights_load(n, weights, &e)) {
        fail(e.msg);
        net_free(n);
        return -1;
    }
    return 0;
}

/* --- classify --- */

enum format { FMT_TEXT, FMT_TSV, FMT_JSON };

/* JSON string body: quotes, backslashes and control characters escaped. */
static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* Indices of the k largest probabilities, largest first (ties: lower index). */
static void top_k(const float *p, int classes, int k, int *idx)
{
    for (int r = 0; r < k; r++) {
        int best = -1;
        for (int c = 0; c < classes; c++) {
            int taken = 0;
            for (int q = 0; q < r; q++)
                taken |= idx[q] == c;
            if (!taken && (best < 0 || p[c] > p[best]))
                best = c;
        }
        idx[r] = best;
    }
}

static void print_result(enum format fmt, const char *path, const float *prob,
                         const int *idx, int k, const struct labels *lab)
{
    switch (fmt) {
    case FMT_TEXT:
        printf("%s\n", path);
        for (int r = 0; r < k; r++)
            printf("  %7.3f%%  %s\n", 100.0 * prob[idx[r]], lab->name[idx[r]]);
        break;
    case FMT_TSV:
        for (int r = 0; r < k; r++)
            printf("%s\t%d\t%d\t%.9g\t%s\n", path, r + 1, idx[r], prob[idx[r]],
                   lab->name[idx[r]]);
        break;
    case FMT_JSON:
        printf("{\"path\":");
        json_string(stdout, path);
        printf(",\"top\":[");
        for (int r = 0; r < k; r++) {
            printf("%s{\"index\":%d,\"label\":", r ? "," : "", idx[r]);
            json_string(stdout, lab->name[idx[r]]);
            printf(",\"prob\":%.9g}", prob[idx[r]]);
        }
        printf("]}\n");
        break;
    }
    fflush(stdout);
}

static void print_failure(enum format fmt, const char *path, const char *msg)
{
    fprintf(stderr, "resnet: %s\n", msg);
    if (fmt == FMT_JSON) {
        printf("{\"path\":");
        json_string(stdout, path);
        printf(",\"error\":");
        json_string(stdout, msg);
        printf("}\n");
        fflush(stdout);
    }
}

struct classifier {
    const struct net *net;
    struct fwd *fwd;
    const struct labels *labels;
    float *input;   /* [3][in_h][in_w] */
    int k;
    enum format fmt;
};

/* Classify one file and print it; returns 0, or 1 if the image failed. */
static int classify_one(struct classifier *c, const char *path)
{
    const struct arch *a = &c->net->arch;
    struct image im;
    struct err e;
    if (img_load(path, &im, &e)) {
        print_failure(c->fmt, path, e.msg);
        return 1;
    }
    int rc = img_to_tensor(&im, &a->pre, a->in_h, a->in_w, c->input, &e);
    img_free(&im);
    if (rc) {
        print_failure(c->fmt, path, e.msg);
        return 1;
    }
    const float *prob = fwd_run(c->fwd, c->input);
    int idx[c->k];
    top_k(prob, a->classes, c->k, idx);
    print_result(c->fmt, path, prob, idx, c->k, c->labels);
    return 0;
}

static int cmd_classify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"weights", required_argument, 0, 'w'},
        {"top", required_argument, 0, 'k'},   {"format", required_argument, 0, 'f'},
        {"threads", required_argument, 0, 't'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *model = "resnet50", *weights = NULL;
    int k = 5, threads = 0, opt;
    enum format fmt = FMT_TEXT;
    while ((opt = getopt_long(argc, argv, "m:w:k:f:t:h", opts, NULL)) != -1) {
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
        case 'h': fputs(usage_classify, stdout); return 0;
        default: fputs(usage_classify, stderr); return EXIT_USAGE;
        }
    }
    if (optind >= argc)
        return usage_error(usage_classify, "classify needs at least one image%s", "");
    if (threads)
        omp_set_num_threads(threads);

    struct net net;
    if (load_net(model, weights, 0, &net))
        return EXIT_USAGE;
    struct labels labels;
    struct err e;
    struct fwd *fwd = NULL;
    int status = EXIT_USAGE;
    if (labels_load(&net.arch, &labels, &e)) {
        fail(e.msg);
        net_free(&net);
        return EXIT_USAGE;
    }
    if (fwd_create(&fwd, &net, 1, &e)) {
        fail(e.msg);
        goto out;
    }
    struct classifier c = {&net, fwd, &labels, NULL,
                           k < net.arch.classes ? k : net.arch.classes, fmt};
    c.input = malloc((size_t)3 * net.arch.in_h * net.arch.in_w * sizeof(float));
    if (!c.input) {
        fail("out of memory");
        goto out;
    }
    status = 0;
    for (int i = optind; i < argc; i++) {
        if (strcmp(argv[i], "-") != 0) {
            status |= classify_one(&c, argv[i]);
            continue;
        }
        /* "-": paths from standard input, one per line */
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        while ((len = getline(&line, &cap, stdin)) > 0) {
            while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                line[--len] = 0;
            if (len)
                status |= classify_one(&c, line);
        }
        free(line);
    }
    free(c.input);
out:
    fwd_free(fwd);
    labels_free(&labels);
    net_free(&net);
    return status;
}

/* --- summary --- */

static int cmd_summary(int argc, char **argv)
{
    static const struct option opts[] = {
        {"depth", required_argument, 0, 'd'}, {"model", required_argument, 0, 'm'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *model = NULL;
    int depth = 0, opt;
    while ((opt = getopt_long(argc, argv, "d:m:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'd':
            if ((depth = parse_count(optarg, 100000)) < 0)
                return usage_error(usage_summary, "--depth needs a positive integer, not \"%s\"", optarg);
            break;
        case 'm': model = optarg; break;
        case 'h': fputs(usage_summary, stdout); return 0;
        default: fputs(usage_summary, stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return usage_error(usage_summary, "unexpected argument \"%s\"", argv[optind]);
    if (depth && model)
        return usage_error(usage_summary, "give --depth or -m, not both%s", "");
    struct arch a;
    struct net n;
    struct err e;
    if ((depth ? spec_from_depth(depth, &a, &e) : spec_load(model ? model : "resnet50", &a, &e)) ||
        net_build(&a, &n, &e)) {
        fail(e.msg);
        return EXIT_USAGE;
    }
    summary_print(stdout, &n);
    net_free(&n);
    return 0;
}

/* --- bench --- */

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmd_bench(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"weights", required_argument, 0, 'w'},
        {"batch", required_argument, 0, 'b'}, {"threads", required_argument, 0, 't'},
        {"runs", required_argument, 0, 'n'},  {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *model = "resnet50", *weights = NULL;
    int batch = 1, threads = 0, runs = 10, opt;
    while ((opt = getopt_long(argc, argv, "m:w:b:t:n:h", opts, NULL)) != -1) {
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
        case 'h': fputs(usage_bench, stdout); return 0;
        default: fputs(usage_bench, stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return usage_error(usage_bench, "unexpected argument \"%s\"", argv[optind]);
    if (threads)
        omp_set_num_threads(threads);
    struct net n;
    if (load_net(model, weights, 1, &n))
        return EXIT_USAGE;
    struct fwd *f;
    struct err e;
    if (fwd_create(&f, &n, batch, &e)) {
        fail(e.msg);
        net_free(&n);
        return EXIT_USAGE;
    }
    size_t count = (size_t)batch * 3 * n.arch.in_h * n.arch.in_w;
    float *in = malloc(count * sizeof *in);
    double *ms = malloc((size_t)runs * sizeof *ms);
    if (!in || !ms) {
        fail("out of memory");
        free(in), free(ms), fwd_free(f), net_free(&n);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < count; i++)
        in[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
    fwd_run(f, in);   /* warm-up: page in weights and buffers */
    for (int r = 0; r < runs; r++) {
        double t0 = now_ms();
        fwd_run(f, in);
        ms[r] = now_ms() - t0;
    }
    qsort(ms, (size_t)runs, sizeof *ms, cmp_double);
    double med = runs % 2 ? ms[runs / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2;
    double gflop = 2.0 * n.macs * batch / 1e9;
    printf("model %s, batch %d, threads %d, %d runs\n", n.arch.name, batch,
           omp_get_max_threads(), runs);
    printf("ms per batch: median %.2f, min %.2f\n", med, ms[0]);
    printf("images/s: %.1f\n", batch * 1000.0 / med);
    printf("GFLOP/s: %.1f (%.2f GFLOP per batch)\n", gflop * 1000.0 / med, gflop);
    free(in), free(ms), fwd_free(f), net_free(&n);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_main, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        fputs(usage_main, stdout);
        return 0;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
        printf("resnet %s\n", RESNET_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "classify"))
        return cmd_classify(argc - 1, argv + 1);
    if (!strcmp(cmd, "summary"))
        return cmd_summary(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench"))
        return cmd_bench(argc - 1, argv + 1);
    return usage_error(usage_main, "unknown command \"%s\"", cmd);
}
