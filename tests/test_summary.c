/* test_summary.c -- parameter counts of the built-in nets and the Keras
 * summary table.
 *
 * The counts are torchvision's (trainable) and the BN running statistics
 * (non-trainable) for the torchvision nets, and what tf.keras's
 * model.summary() reports for the Keras Applications ones.  The table is
 * checked three ways: its frame on every built-in net, a small hand-made
 * net whose expected lines are written out here (cut fields, two-input
 * rows, Keras's layer order), and whole tables against the files in
 * tests/golden/, which tests/golden/make_golden.py makes by another route
 * -- torchvision's model, or Keras Applications' own source run against a
 * stand-in Keras -- with a separate Python layout, so the C side is held
 * to an independent one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "net.h"
#include "spec.h"
#include "summary.h"

#define GOLDEN_DIR "tests/golden"

/* summary_print's output as one string (caller frees). */
static char *summary_text(const struct net *n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    summary_print(f, n);
    fclose(f);
    return buf;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0, got;
    do {
        if (len + 4096 + 1 > cap) {
            cap = 2 * cap + 4096 + 1;
            char *p = realloc(buf, cap);
            if (!p) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
        }
        got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
    } while (got > 0);
    fclose(f);
    buf[len] = '\0';
    return buf;
}

/* Line `k` (0-based) of `text` into `out`; -1 past the end. */
static int line_at(const char *text, int k, char *out, size_t size)
{
    for (; k > 0; k--) {
        text = strchr(text, '\n');
        if (!text)
            return -1;
        text++;
    }
    if (!*text)
        return -1;
    size_t n = strcspn(text, "\n");
    snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), text);
    return 0;
}

/* A number with thousands separators, written here independently of
 * summary.c's own helper. */
static const char *commas(char buf[32], long v)
{
    if (v < 1000)
        snprintf(buf, 32, "%ld", v);
    else if (v < 1000000)
        snprintf(buf, 32, "%ld,%03ld", v / 1000, v % 1000);
    else
        snprintf(buf, 32, "%ld,%03ld,%03ld", v / 1000000, v / 1000 % 1000, v % 1000);
    return buf;
}

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The widest line, and the table rows (lines that are neither a rule nor a
 * title or total) that are not exactly 98 wide. */
static void line_widths(const char *text, size_t *longest, int *rows, int *not_98)
{
    *longest = 0, *rows = 0, *not_98 = 0;
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        if (n > *longest)
            *longest = n;
        int rule = n > 0 && strspn(p, p[0] == '=' ? "=" : "_") == n;
        int text_line = starts(p, "Model: ") || starts(p, "Total params: ") ||
                        starts(p, "Trainable params: ") || starts(p, "Non-trainable params: ") ||
                        starts(p, "FLOPs");
        if (!rule && !text_line) {
            (*rows)++;
            *not_98 += n != 98;
        }
        p += n + (p[n] == '\n');
    }
}

/* Rows a second input adds to the table. */
static int extra_input_rows(const struct net *n)
{
    int k = 0;
    for (int i = 0; i < n->n_layers; i++)
        k += n->layer[i].n_in > 1 ? n->layer[i].n_in - 1 : 0;
    return k;
}

static void check_builtin(const char *name, long params, long frozen)
{
    struct arch a;
    struct net n;
    struct err e = {{0}};
    if (spec_load(name, &a, &e) || net_build(&a, &n, &e)) {
        CHECK(0, "%s: spec_load + net_build (%s)", name, e.msg);
        return;
    }
    CHECK(n.params == params, "%s: trainable params %ld (torchvision %ld)", name, n.params, params);
    CHECK(n.frozen == frozen, "%s: non-trainable params %ld (BN running stats %ld)", name,
          n.frozen, frozen);

    char *s = summary_text(&n);
    if (!s) {
        CHECK(0, "%s: summary into a memory stream", name);
        net_free(&n);
        return;
    }
    char want[128];
    /* Keras's name for the model, where the spec gives one */
    snprintf(want, sizeof want, "Model: \"%s\"\n", a.model_name[0] ? a.model_name : name);
    CHECK(!strncmp(s, want, strlen(want)), "%s: summary starts with %.*s", name,
          (int)strlen(want) - 1, want);
    CHECK(strstr(s, "\nLayer (type)                    Output Shape         Param #     "
                    "Connected to                     \n") != NULL,
          "%s: summary has Keras's header row", name);
    const char *what[3] = {"Total", "Trainable", "Non-trainable"};
    long value[3] = {params + frozen, params, frozen};
    for (int i = 0; i < 3; i++) {
        char num[32];
        snprintf(want, sizeof want, "\n%s params: %s\n", what[i], commas(num, value[i]));
        CHECK(strstr(s, want) != NULL, "%s: summary has \"%s params: %s\"", name, what[i], num);
    }
    CHECK(strstr(s, "\n__________________________________________________________________"
                    "________________________________\nFLOPs (multiply-adds): ") != NULL,
          "%s: the FLOPs line follows Keras's closing rule", name);

    size_t longest;
    int rows, not_98;
    line_widths(s, &longest, &rows, &not_98);
    CHECK(longest <= 98, "%s: no summary line is wider than 98 (widest %zu)", name, longest);
    CHECK(not_98 == 0 && rows == n.n_layers + 1 + extra_input_rows(&n),
          "%s: %d table rows (header, one per layer, one per extra input), all exactly 98 "
          "wide as Keras pads them (%d are not)", name, rows, not_98);
    free(s);
    net_free(&n);
}

/* The built-in spec `name` against GOLDEN_DIR/<name>.summary.txt. */
static void check_golden(const char *name)
{
    struct arch a;
    struct net n;
    struct err e = {{0}};
    char path[256];
    snprintf(path, sizeof path, "%s/%s.summary.txt", GOLDEN_DIR, name);
    if (spec_load(name, &a, &e) || net_build(&a, &n, &e)) {
        CHECK(0, "%s golden: spec_load + net_build (%s)", name, e.msg);
        return;
    }
    char *got = summary_text(&n), *want = read_all(path);
    if (!want) {
        CHECK(0, "%s readable (run the tests from the repository root)", path);
    } else if (!got) {
        CHECK(0, "%s summary into a memory stream", name);
    } else {
        char diag[700] = "";
        if (strcmp(got, want)) {
            /* name the first line that differs, so the fix is obvious */
            char gl[256] = "", wl[256] = "";
            int k = 0;
            for (;; k++) {
                int g = line_at(got, k, gl, sizeof gl), w = line_at(want, k, wl, sizeof wl);
                if (g)
                    strcpy(gl, "(end of text)");
                if (w)
                    strcpy(wl, "(end of text)");
                if (g || w || strcmp(gl, wl))
                    break;
            }
            snprintf(diag, sizeof diag, "; line %d differs:\n  got:  [%s]\n  want: [%s]", k + 1,
                     gl, wl);
        }
        CHECK(!diag[0], "%s summary equals %s byte for byte%s", name, path, diag);
    }
    free(got);
    free(want);
    net_free(&n);
}

/* `summary --depth 50 --v2` is Keras's ResNet50V2. */
static void check_v2_depth(void)
{
    static const struct {
        int depth;
        long total;
    } keras[] = {{50, 25613800}, {101, 44675560}, {152, 60380648}};
    for (size_t i = 0; i < sizeof keras / sizeof *keras; i++) {
        struct arch a;
        struct net n;
        struct err e = {{0}};
        if (spec_from_depth(keras[i].depth, 2, &a, &e) || net_build(&a, &n, &e)) {
            CHECK(0, "depth %d v2: %s", keras[i].depth, e.msg);
            continue;
        }
        char want[32];
        snprintf(want, sizeof want, "resnet%dv2", keras[i].depth);
        CHECK(n.params + n.frozen == keras[i].total && !strcmp(a.name, want),
              "depth %d v2: %s with %ld parameters (Keras: %ld)", keras[i].depth, a.name,
              n.params + n.frozen, keras[i].total);
        net_free(&n);
    }
}

static void check_macs(void)
{
    struct arch a;
    struct net n;
    struct err e = {{0}};
    if (spec_load("resnet50", &a, &e) || net_build(&a, &n, &e)) {
        CHECK(0, "resnet50 macs: spec_load + net_build (%s)", e.msg);
        return;
    }
    /* torchvision's "4.09 GFLOPS": multiply-adds of the convolutions and fc */
    CHECK(fabs(n.macs - 4.09e9) < 0.01e9, "resnet50: %.0f multiply-adds per image (~4.09e9)",
          n.macs);
    net_free(&n);
}

static struct layer mk(enum layer_kind kind, const char *name, int in0, int in1, int h, int w,
                       int c, long params, long frozen)
{
    struct layer l;
    memset(&l, 0, sizeof l);
    l.kind = kind;
    snprintf(l.name, sizeof l.name, "%s", name);
    l.in[0] = in0, l.in[1] = in1;
    l.n_in = in0 < 0 ? 0 : in1 < 0 ? 1 : 2;
    l.out_h = h, l.out_w = w, l.out_c = c;
    l.flat = kind == LAYER_GAP || kind == LAYER_DENSE;
    l.params = params, l.frozen = frozen;
    return l;
}

/* A hand-made net, built with its shortcut before the main branch (Keras
 * lists it after), with fields long enough to be cut.  The expected lines
 * are written as fixed-width columns; a field that fills its column is
 * written already cut, with the blank Keras leaves. */
static void check_layout(void)
{
    struct layer L[8];
    L[0] = mk(LAYER_INPUT, "input_1", -1, -1, 8, 8, 3, 0, 0);
    L[1] = mk(LAYER_CONV, "stem", 0, -1, 8, 8, 4, 108, 0);
    L[2] = mk(LAYER_CONV, "proj", 1, -1, 8, 8, 4, 123456789012L, 0);
    L[3] = mk(LAYER_CONV, "main_conv", 1, -1, 112, 112, 128, 144, 0);
    L[4] = mk(LAYER_BN, "main_branch_batch_normalization_layer", 3, -1, 8, 8, 4, 8, 8);
    L[5] = mk(LAYER_ADD, "sum", 2, 4, 8, 8, 4, 0, 0);
    L[6] = mk(LAYER_GAP, "gap", 5, -1, 1, 1, 4, 0, 0);
    L[7] = mk(LAYER_DENSE, "fc", 6, -1, 1, 1, 2, 10, 0);
    struct net n;
    memset(&n, 0, sizeof n);
    snprintf(n.arch.name, sizeof n.arch.name, "tiny");
    n.layer = L;
    n.n_layers = 8;
    n.params = 1234567, n.frozen = 1000, n.macs = 999;

    static const char *const rows[][4] = {
        {"input_1 (InputLayer)", "[(None, 8, 8, 3)]", "0", ""},
        {"stem (Conv2D)", "(None, 8, 8, 4)", "108", "input_1[0][0]"},
        {"main_conv (Conv2D)", "(None, 112, 112, 128", "144", "stem[0][0]"},
        {"proj (Conv2D)", "(None, 8, 8, 4)", "12345678901", "stem[0][0]"},
        {"main_branch_batch_normalization", "(None, 8, 8, 4)", "16", "main_conv[0][0]"},
        {"sum (Add)", "(None, 8, 8, 4)", "0", "proj[0][0]"},
        {"", "", "", "main_branch_batch_normalization_l"},
        {"gap (GlobalAveragePooling2D)", "(None, 4)", "0", "sum[0][0]"},
        {"fc (Dense)", "(None, 2)", "10", "gap[0][0]"},
    };
    char want[4096], *p = want;
    const char *bar = "__________________________________________________________________________________________________\n";
    const char *dbl = "==================================================================================================\n";
    p += sprintf(p, "Model: \"tiny\"\n%s", bar);
    p += sprintf(p, "%-32s%-21s%-12s%-33s\n%s", "Layer (type)", "Output Shape", "Param #",
                 "Connected to", dbl);
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        p += sprintf(p, "%-32s%-21s%-12s%-33s\n", rows[i][0], rows[i][1], rows[i][2], rows[i][3]);
        if (i + 1 < sizeof rows / sizeof *rows && rows[i + 1][0][0] == '\0')
            continue;   /* the second input of `sum` shares its row block */
        p += sprintf(p, "%s", i + 1 == sizeof rows / sizeof *rows ? dbl : bar);
    }
    sprintf(p, "Total params: 1,235,567\nTrainable params: 1,234,567\n"
               "Non-trainable params: 1,000\n%sFLOPs (multiply-adds): 999\n", bar);

    char *got = summary_text(&n);
    int same = got && !strcmp(got, want);
    CHECK(same, "hand-made net: Keras's layer order, cut fields, two-input row, totals");
    if (!same)
        printf("--- got\n%s--- want\n%s", got ? got : "(nothing)\n", want);
    free(got);
}

int main(void)
{
    check_builtin("resnet18", 11689512, 9600);
    check_builtin("resnet34", 21797672, 17024);
    check_builtin("resnet50", 25557032, 53120);
    check_builtin("resnet101", 44549160, 105344);
    check_builtin("resnet152", 60192808, 151424);
    /* tf.keras's model.summary() of Keras Applications' nets */
    check_builtin("keras_resnet50", 25583592, 53120);
    check_builtin("keras_resnet101", 44601832, 105344);
    check_builtin("keras_resnet152", 60268520, 151424);
    check_builtin("keras_resnet50v2", 25568360, 45440);
    check_builtin("keras_resnet101v2", 44577896, 97664);
    check_builtin("keras_resnet152v2", 60236904, 143744);
    check_macs();
    check_layout();
    static const char *const golden[] = {"resnet18", "keras_resnet50", "keras_resnet50v2",
                                         "tutorial_resnet50", "tutorial_cifar_resnet34",
                                         "tutorial_resnetv2_cifar",
                                         "keras_example_resnetv2_cifar"};
    for (size_t i = 0; i < sizeof golden / sizeof *golden; i++)
        check_golden(golden[i]);
    check_v2_depth();
    return CHECK_DONE();
}
