/* test_fuzz.c -- the fuzz harnesses' inputs replayed in `make test`.
 *
 * Every file under tests/fuzz/seeds/NAME/ and tests/fuzz/regressions/NAME/
 * goes through the same harness function that `make fuzz` runs under
 * libFuzzer (tests/fuzz/fuzz_NAME.c, built here with FUZZ_REPLAY), and
 * must keep its promises: a regression input is a crash that fuzzing once
 * found, kept so that the bug stays fixed.  Under `make test SANITIZE=1`
 * the replay also runs with ASan and UBSan.  Run from the repository root. */
#define FUZZ_REPLAY
#include "fuzz/fuzz_image.c"
#include "fuzz/fuzz_safetensors.c"
#include "fuzz/fuzz_spec.c"

#include <dirent.h>
#include <unistd.h>

#include "check.h"
#include "testutil.h"

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Replay every file of tests/fuzz/KIND/NAME; returns how many there were. */
static int replay(const char *kind, const char *name, void (*harness)(const uint8_t *, size_t))
{
    char dir[256], path[512];
    snprintf(dir, sizeof dir, "tests/fuzz/%s/%s", kind, name);
    struct dirent **list = NULL;
    int n = scandir(dir, &list, NULL, by_name), files = 0;
    for (int i = 0; i < n; i++) {
        if (list[i]->d_name[0] != '.') {
            snprintf(path, sizeof path, "%s/%s", dir, list[i]->d_name);
            size_t size = 0;
            unsigned char *data = read_all(path, &size);
            if (data) {
                fuzz_broken = 0;
                harness(data, size);
                CHECK(fuzz_broken == 0, "%s: %zu bytes through fuzz_%s, every promise kept", path, size,
                      name);
                free(data);
                files++;
            }
        }
        free(list[i]);
    }
    free(list);
    return files;
}

/* The limits that keep a forged input from exhausting memory or time, for
 * inputs the harnesses cannot make: a spec file too large to be one, and
 * endless files. */
static void test_limits(void)
{
    struct arch a;
    struct err e = {{0}};
    int rc = spec_load("/dev/zero", &a, &e);
    CHECK(rc == -1 && strstr(e.msg, "/dev/zero"), "spec /dev/zero refused without reading on: %s", e.msg);

    char path[] = "/tmp/resnet_test_fuzz_XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f) {
        fputs("{\"depth\": 18", f);
        for (int i = 0; i < (2 << 20) / 64; i++)
            fputs("                                                                ", f);
        fputs("}", f);
        fclose(f);
    }
    rc = spec_load(path, &a, &e);
    CHECK(rc == -1 && strstr(e.msg, "1 MiB"), "a 2 MiB spec file is refused: %s", e.msg);
    unlink(path);

    struct st_file st;
    rc = st_open("/dev/zero", &st, &e);
    CHECK(rc == -1 && strstr(e.msg, "/dev/zero"), "weights /dev/zero refused: %s", e.msg);

    struct image im;
    rc = img_load("/dev/zero", &im, &e);
    CHECK(rc == -1 && strstr(e.msg, "not a JPEG or PNG"), "image /dev/zero refused after its first bytes: %s",
          e.msg);
}

int main(void)
{
    static const struct {
        const char *name;
        void (*harness)(const uint8_t *, size_t);
    } fuzzers[] = {{"spec", fuzz_spec}, {"safetensors", fuzz_safetensors}, {"image", fuzz_image}};
    for (size_t i = 0; i < sizeof fuzzers / sizeof fuzzers[0]; i++) {
        int seeds = replay("seeds", fuzzers[i].name, fuzzers[i].harness);
        CHECK(seeds > 0, "tests/fuzz/seeds/%s holds %d seed inputs", fuzzers[i].name, seeds);
        int kept = replay("regressions", fuzzers[i].name, fuzzers[i].harness);
        printf("# %d regression inputs of fuzz_%s replayed\n", kept, fuzzers[i].name);
    }
    /* The harness's model must open with its own seeds, or fuzzing never
     * reaches the weight conversion and the forward pass. */
    struct model *m;
    struct err e = {{0}};
    int rc = fuzz_st_open(&m, "tests/fuzz/seeds/safetensors/net_f32.safetensors", &e);
    CHECK(rc == 0, "the harness's model opens with the safetensors seed net_f32%s%s",
          rc ? ": " : "", rc ? e.msg : "");
    model_close(m);
    test_limits();
    return CHECK_DONE();
}
