/* test_preprocess.c -- from the file to the input tensor and the
 * probabilities, against PIL + torchvision + PyTorch.
 *
 * tests/gen_preprocess_reference.py writes images of every kind and size
 * (32x32 to 4032x3024, JPEG and PNG flavours, EXIF-turned) into
 * tests/cache/preprocess with the reference tensor of each under several
 * preprocessings (torchvision's bilinear recipe with and without
 * draft-scaled decoding, timm's bicubic, nearest, Keras's load_img
 * stretches), and for torchvision's recipe the probabilities of
 * gen_reference.py's resnet18 (a float64 forward pass).  resnet must give
 * the tensors to float rounding and the probabilities to 1e-5. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "model.h"
#include "preprocess.h"
#include "testutil.h"

#define DIR "tests/cache/preprocess/"
#define R18 "tests/cache/resnet18/"
#define TOL_INPUT 1e-6   /* Pillow's integers, then the same float steps */
#define TOL_PROBS 1e-5   /* fp32 forward against PyTorch's float64 one */

static int lookup(const char *word, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (!strcmp(word, names[i]))
            return i;
    return -1;
}

static double max_diff_f32(const float *got, const unsigned char *want, size_t n)
{
    double max = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - le_f32(want + 4 * i));
        max = d > max || d != d ? d : max;
    }
    return max;
}

/* One case: the tensor, and with a .probs file the probabilities. */
static void one_case(const char *line, struct model *m, int *n_cases)
{
    static const char *const interps[] = {"bilinear", "bicubic", "nearest", NULL};  /* enum pre_interp */
    static const char *const fits[] = {"crop", "stretch", NULL};                    /* enum pre_fit */
    static const char *const modes[] = {"torch", "caffe", "tf", NULL};              /* enum pre_mode */
    char file[128], interp[16], fit[16], mode[16], stem[160], path[512];
    int h, w, full;
    struct preprocess p;
    memset(&p, 0, sizeof p);
    if (sscanf(line, "%127s %d %d %d %15s %15s %15s %d %f %f %f %f %f %f %159s", file, &p.resize, &h, &w,
               interp, fit, mode, &full, &p.mean[0], &p.mean[1], &p.mean[2], &p.std[0], &p.std[1],
               &p.std[2], stem) != 15 ||
        lookup(interp, interps) < 0 || lookup(fit, fits) < 0 || lookup(mode, modes) < 0) {
        CHECK(0, "cases.txt: cannot read \"%s\"", line);
        return;
    }
    p.interp = (enum pre_interp)lookup(interp, interps);
    p.fit = (enum pre_fit)lookup(fit, fits);
    p.mode = (enum pre_mode)lookup(mode, modes);
    p.full_decode = full;
    (*n_cases)++;

    size_t n = (size_t)3 * h * w, want_size = 0;
    float *got = malloc(n * sizeof *got);
    snprintf(path, sizeof path, DIR "%s.f32", stem);
    unsigned char *want = read_all(path, &want_size);
    snprintf(path, sizeof path, DIR "%s", file);
    struct err e = {{0}};
    int rc = got ? img_file_to_tensor(path, &p, h, w, got, &e) : -1;
    double d = rc == 0 && want && want_size == n * 4 ? max_diff_f32(got, want, n) : -1;
    CHECK(d >= 0 && d <= TOL_INPUT, "%s, %s %s%s resize %d to %dx%d, %s: tensor max diff %.3g%s", file,
          interp, fit, full ? " full-size" : "", p.resize, w, h, mode, d, e.msg);

    snprintf(path, sizeof path, DIR "%s.probs", stem);
    size_t probs_size = 0;
    unsigned char *probs = read_all(path, &probs_size);
    if (probs && m && rc == 0) {
        const float *out = model_run(m, got);
        double dp = probs_size == (size_t)m->net.arch.classes * 4
                        ? max_diff_f32(out, probs, (size_t)m->net.arch.classes) : -1;
        CHECK(dp >= 0 && dp <= TOL_PROBS, "%s%s: resnet18 probabilities from the file against "
              "PIL + torchvision + PyTorch: max diff %.3g", file, full ? " full-size" : "", dp);
    } else if (probs) {
        CHECK(0, "%s: no resnet18 to score it", file);
    }
    free(probs);
    free(got);
    free(want);
}

int main(void)
{
    FILE *f = fopen(DIR "cases.txt", "r");
    if (!f) {
        SKIP("preprocessing against PIL + torchvision: no " DIR "cases.txt (made by `make test` "
             "with python3-torch, -torchvision and -skimage installed)");
        return CHECK_DONE();
    }
    const struct model_opts o = {.model = R18 "spec.json", .weights = R18 "weights.safetensors",
                                 .no_cache = 1, .no_tuning = 1, .no_labels = 1};
    struct model *m = NULL;
    struct err e = {{0}};
    CHECK(model_open(&m, &o, &e) == 0, "open gen_reference.py's resnet18%s", e.msg);
    char line[512];
    int n_cases = 0;
    while (next_line(f, line, sizeof line))
        one_case(line, m, &n_cases);
    fclose(f);
    CHECK(n_cases >= 100, "%d preprocessing cases compared", n_cases);
    if (m)
        model_close(m);
    return CHECK_DONE();
}
